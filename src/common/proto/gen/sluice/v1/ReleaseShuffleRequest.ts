// @ts-nocheck
// Original file: proto/sluice/v1/manager.proto


export interface ReleaseShuffleRequest {
  'appId'?: (string);
  'shuffleId'?: (number);
}

export interface ReleaseShuffleRequest__Output {
  'appId': (string);
  'shuffleId': (number);
}
