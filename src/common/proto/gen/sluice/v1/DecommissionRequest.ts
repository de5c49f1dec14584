// @ts-nocheck
// Original file: proto/sluice/v1/worker.proto


export interface DecommissionRequest {
  'timeoutMs'?: (number);
}

export interface DecommissionRequest__Output {
  'timeoutMs': (number);
}
