// @ts-nocheck
// Original file: proto/sluice/v1/worker.proto

import type { CommittedFile as _sluice_v1_CommittedFile, CommittedFile__Output as _sluice_v1_CommittedFile__Output } from '../../sluice/v1/CommittedFile.js';
import type { FailedPartition as _sluice_v1_FailedPartition, FailedPartition__Output as _sluice_v1_FailedPartition__Output } from '../../sluice/v1/FailedPartition.js';

export interface CommitFilesResponse {
  'workerId'?: (string);
  'files'?: (_sluice_v1_CommittedFile)[];
  /**
   * Partitions the worker could not commit (disk error, ...), with the reason.
   */
  'failed'?: (_sluice_v1_FailedPartition)[];
  /**
   * Where the next page starts (CommitFilesRequest.page_offset); 0 when this is the last.
   */
  'nextPageOffset'?: (number);
}

export interface CommitFilesResponse__Output {
  'workerId': (string);
  'files': (_sluice_v1_CommittedFile__Output)[];
  /**
   * Partitions the worker could not commit (disk error, ...), with the reason.
   */
  'failed': (_sluice_v1_FailedPartition__Output)[];
  /**
   * Where the next page starts (CommitFilesRequest.page_offset); 0 when this is the last.
   */
  'nextPageOffset': (number);
}
