// @ts-nocheck
// Original file: proto/sluice/v1/driver.proto


export interface ReallocateRequest {
  'appId'?: (string);
  'shuffleId'?: (number);
  'groupId'?: (number);
  'oldEpoch'?: (number);
  'failedWorkerIds'?: (string)[];
}

export interface ReallocateRequest__Output {
  'appId': (string);
  'shuffleId': (number);
  'groupId': (number);
  'oldEpoch': (number);
  'failedWorkerIds': (string)[];
}
