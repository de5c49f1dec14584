// @ts-nocheck
// Original file: proto/sluice/v1/agent.proto


export interface WatchDecisionsRequest {
  'appId'?: (string);
}

export interface WatchDecisionsRequest__Output {
  'appId': (string);
}
