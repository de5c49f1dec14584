// @ts-nocheck
// Original file: proto/sluice/v1/manager.proto


export interface AppHeartbeatRequest {
  'appId'?: (string);
}

export interface AppHeartbeatRequest__Output {
  'appId': (string);
}
