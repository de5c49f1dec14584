// @ts-nocheck
// Original file: proto/sluice/v1/worker.proto


export interface DestroyShuffleRequest {
  'appId'?: (string);
  'shuffleId'?: (number);
}

export interface DestroyShuffleRequest__Output {
  'appId': (string);
  'shuffleId': (number);
}
