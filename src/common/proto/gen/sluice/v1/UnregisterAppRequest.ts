// @ts-nocheck
// Original file: proto/sluice/v1/manager.proto


export interface UnregisterAppRequest {
  'appId'?: (string);
}

export interface UnregisterAppRequest__Output {
  'appId': (string);
}
