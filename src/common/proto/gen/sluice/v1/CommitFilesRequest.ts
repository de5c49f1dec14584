// @ts-nocheck
// Original file: proto/sluice/v1/worker.proto


export interface CommitFilesRequest {
  'appId'?: (string);
  'shuffleId'?: (number);
  /**
   * Empty means every partition and epoch this worker holds for the shuffle.
   */
  'partitions'?: (number)[];
}

export interface CommitFilesRequest__Output {
  'appId': (string);
  'shuffleId': (number);
  /**
   * Empty means every partition and epoch this worker holds for the shuffle.
   */
  'partitions': (number)[];
}
