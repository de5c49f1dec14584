// @ts-nocheck
// Original file: proto/sluice/v1/manager.proto


export interface ReallocateGroupRequest {
  'appId'?: (string);
  'shuffleId'?: (number);
  'groupId'?: (number);
  'oldEpoch'?: (number);
  /**
   * Workers the caller saw fail; excluded from the new pair.
   */
  'failedWorkerIds'?: (string)[];
}

export interface ReallocateGroupRequest__Output {
  'appId': (string);
  'shuffleId': (number);
  'groupId': (number);
  'oldEpoch': (number);
  /**
   * Workers the caller saw fail; excluded from the new pair.
   */
  'failedWorkerIds': (string)[];
}
