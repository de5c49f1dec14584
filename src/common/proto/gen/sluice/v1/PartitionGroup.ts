// @ts-nocheck
// Original file: proto/sluice/v1/common.proto

import type { WorkerAddress as _sluice_v1_WorkerAddress, WorkerAddress__Output as _sluice_v1_WorkerAddress__Output } from '../../sluice/v1/WorkerAddress.js';

/**
 * A contiguous range of partitions [start_partition, end_partition) served by one worker pair.
 */
export interface PartitionGroup {
  'groupId'?: (number);
  'startPartition'?: (number);
  /**
   * exclusive
   */
  'endPartition'?: (number);
  /**
   * bumped by every reallocation of the group
   */
  'epoch'?: (number);
  'primary'?: (_sluice_v1_WorkerAddress | null);
  /**
   * absent when replication is off
   */
  'replica'?: (_sluice_v1_WorkerAddress | null);
}

/**
 * A contiguous range of partitions [start_partition, end_partition) served by one worker pair.
 */
export interface PartitionGroup__Output {
  'groupId': (number);
  'startPartition': (number);
  /**
   * exclusive
   */
  'endPartition': (number);
  /**
   * bumped by every reallocation of the group
   */
  'epoch': (number);
  'primary': (_sluice_v1_WorkerAddress__Output | null);
  /**
   * absent when replication is off
   */
  'replica': (_sluice_v1_WorkerAddress__Output | null);
}
