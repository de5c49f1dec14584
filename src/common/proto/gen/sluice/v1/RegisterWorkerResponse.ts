// @ts-nocheck
// Original file: proto/sluice/v1/manager.proto


export interface RegisterWorkerResponse {
  'heartbeatIntervalMs'?: (number);
  'workerLostTimeoutMs'?: (number);
}

export interface RegisterWorkerResponse__Output {
  'heartbeatIntervalMs': (number);
  'workerLostTimeoutMs': (number);
}
