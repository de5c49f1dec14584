// @ts-nocheck
// Original file: proto/sluice/v1/manager.proto

import type { PartitionGroup as _sluice_v1_PartitionGroup, PartitionGroup__Output as _sluice_v1_PartitionGroup__Output } from '../../sluice/v1/PartitionGroup.js';

export interface AllocateShuffleResponse {
  'groups'?: (_sluice_v1_PartitionGroup)[];
  /**
   * True when every group has a replica on a different worker.
   */
  'replicated'?: (boolean);
}

export interface AllocateShuffleResponse__Output {
  'groups': (_sluice_v1_PartitionGroup__Output)[];
  /**
   * True when every group has a replica on a different worker.
   */
  'replicated': (boolean);
}
