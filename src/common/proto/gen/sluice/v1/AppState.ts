// @ts-nocheck
// Original file: proto/sluice/v1/manager.proto

import type { Long } from '@grpc/proto-loader';

export interface AppState {
  'appId'?: (string);
  'priority'?: (number);
  'name'?: (string);
  'user'?: (string);
  'registeredAtMs'?: (number | string | Long);
  'lastHeartbeatMs'?: (number | string | Long);
}

export interface AppState__Output {
  'appId': (string);
  'priority': (number);
  'name': (string);
  'user': (string);
  'registeredAtMs': (number);
  'lastHeartbeatMs': (number);
}
