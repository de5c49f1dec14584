// @ts-nocheck
// Original file: proto/sluice/v1/manager.proto


export interface RegisterAppResponse {
  'heartbeatIntervalMs'?: (number);
  'appExpiryMs'?: (number);
}

export interface RegisterAppResponse__Output {
  'heartbeatIntervalMs': (number);
  'appExpiryMs': (number);
}
