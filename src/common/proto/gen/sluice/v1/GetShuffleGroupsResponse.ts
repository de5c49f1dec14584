// @ts-nocheck
// Original file: proto/sluice/v1/driver.proto

import type { PartitionGroup as _sluice_v1_PartitionGroup, PartitionGroup__Output as _sluice_v1_PartitionGroup__Output } from '../../sluice/v1/PartitionGroup.js';

export interface GetShuffleGroupsResponse {
  'numPartitions'?: (number);
  'numMappers'?: (number);
  'groups'?: (_sluice_v1_PartitionGroup)[];
  /**
   * True once the shuffle was committed: writers stop pushing (a late attempt is discarded).
   */
  'committed'?: (boolean);
}

export interface GetShuffleGroupsResponse__Output {
  'numPartitions': (number);
  'numMappers': (number);
  'groups': (_sluice_v1_PartitionGroup__Output)[];
  /**
   * True once the shuffle was committed: writers stop pushing (a late attempt is discarded).
   */
  'committed': (boolean);
}
