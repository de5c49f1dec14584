// @ts-nocheck
// Original file: proto/sluice/v1/agent.proto


export interface StageCompletedRequest {
  'appId'?: (string);
  'stageId'?: (number);
  'durationSeconds'?: (number | string);
  'executorsUsed'?: (number);
}

export interface StageCompletedRequest__Output {
  'appId': (string);
  'stageId': (number);
  'durationSeconds': (number);
  'executorsUsed': (number);
}
