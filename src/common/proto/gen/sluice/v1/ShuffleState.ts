// @ts-nocheck
// Original file: proto/sluice/v1/manager.proto

import type { PartitionGroup as _sluice_v1_PartitionGroup, PartitionGroup__Output as _sluice_v1_PartitionGroup__Output } from '../../sluice/v1/PartitionGroup.js';
import type { Long } from '@grpc/proto-loader';

export interface ShuffleState {
  'appId'?: (string);
  'shuffleId'?: (number);
  'numMappers'?: (number);
  'numPartitions'?: (number);
  'replicate'?: (boolean);
  /**
   * only with include_groups
   */
  'groups'?: (_sluice_v1_PartitionGroup)[];
  'createdAtMs'?: (number | string | Long);
  'numGroups'?: (number);
  'maxEpoch'?: (number);
}

export interface ShuffleState__Output {
  'appId': (string);
  'shuffleId': (number);
  'numMappers': (number);
  'numPartitions': (number);
  'replicate': (boolean);
  /**
   * only with include_groups
   */
  'groups': (_sluice_v1_PartitionGroup__Output)[];
  'createdAtMs': (number);
  'numGroups': (number);
  'maxEpoch': (number);
}
