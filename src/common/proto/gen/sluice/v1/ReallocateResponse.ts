// @ts-nocheck
// Original file: proto/sluice/v1/driver.proto

import type { PartitionGroup as _sluice_v1_PartitionGroup, PartitionGroup__Output as _sluice_v1_PartitionGroup__Output } from '../../sluice/v1/PartitionGroup.js';

export interface ReallocateResponse {
  'group'?: (_sluice_v1_PartitionGroup | null);
}

export interface ReallocateResponse__Output {
  'group': (_sluice_v1_PartitionGroup__Output | null);
}
