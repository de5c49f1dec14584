// @ts-nocheck
// Original file: proto/sluice/v1/worker.proto


export interface CommitFilesRequest {
  'appId'?: (string);
  'shuffleId'?: (number);
  /**
   * Empty means every partition and epoch this worker holds for the shuffle.
   */
  'partitions'?: (number)[];
  /**
   * The answer is paged so that it stays small whatever the number of partitions: it lists
   * items [page_offset, page_offset + page_size) of the committed files followed by the
   * failed partitions (in a fixed order: the first call commits, later ones only page).
   */
  'pageOffset'?: (number);
  /**
   * 0: the worker's default (20 000); at most 100 000.
   */
  'pageSize'?: (number);
}

export interface CommitFilesRequest__Output {
  'appId': (string);
  'shuffleId': (number);
  /**
   * Empty means every partition and epoch this worker holds for the shuffle.
   */
  'partitions': (number)[];
  /**
   * The answer is paged so that it stays small whatever the number of partitions: it lists
   * items [page_offset, page_offset + page_size) of the committed files followed by the
   * failed partitions (in a fixed order: the first call commits, later ones only page).
   */
  'pageOffset': (number);
  /**
   * 0: the worker's default (20 000); at most 100 000.
   */
  'pageSize': (number);
}
