// @ts-nocheck
// Original file: proto/sluice/v1/worker.proto


export interface FailedPartition {
  'partition'?: (number);
  'epoch'?: (number);
  'reason'?: (string);
}

export interface FailedPartition__Output {
  'partition': (number);
  'epoch': (number);
  'reason': (string);
}
