// @ts-nocheck
// Original file: proto/sluice/v1/driver.proto


export interface GetShuffleGroupsRequest {
  'appId'?: (string);
  'shuffleId'?: (number);
}

export interface GetShuffleGroupsRequest__Output {
  'appId': (string);
  'shuffleId': (number);
}
