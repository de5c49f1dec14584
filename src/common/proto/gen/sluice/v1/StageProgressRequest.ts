// @ts-nocheck
// Original file: proto/sluice/v1/agent.proto

import type { Long } from '@grpc/proto-loader';

export interface StageProgressRequest {
  'appId'?: (string);
  'stageId'?: (number);
  'tasksCompleted'?: (number);
  'tasksRunning'?: (number);
  'tasksPending'?: (number);
  'avgTaskSeconds'?: (number | string);
  'executorsRunning'?: (number);
  'timestampMs'?: (number | string | Long);
}

export interface StageProgressRequest__Output {
  'appId': (string);
  'stageId': (number);
  'tasksCompleted': (number);
  'tasksRunning': (number);
  'tasksPending': (number);
  'avgTaskSeconds': (number);
  'executorsRunning': (number);
  'timestampMs': (number);
}
