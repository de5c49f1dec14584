// @ts-nocheck
// Original file: proto/sluice/v1/driver.proto


export interface GetFileGroupsRequest {
  'appId'?: (string);
  'shuffleId'?: (number);
  'partition'?: (number);
}

export interface GetFileGroupsRequest__Output {
  'appId': (string);
  'shuffleId': (number);
  'partition': (number);
}
