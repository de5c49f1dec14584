// @ts-nocheck
// Original file: proto/sluice/v1/common.proto


export interface ShuffleRef {
  'appId'?: (string);
  'shuffleId'?: (number);
}

export interface ShuffleRef__Output {
  'appId': (string);
  'shuffleId': (number);
}
