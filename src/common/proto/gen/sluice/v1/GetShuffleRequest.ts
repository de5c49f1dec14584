// @ts-nocheck
// Original file: proto/sluice/v1/manager.proto


export interface GetShuffleRequest {
  'appId'?: (string);
  'shuffleId'?: (number);
}

export interface GetShuffleRequest__Output {
  'appId': (string);
  'shuffleId': (number);
}
