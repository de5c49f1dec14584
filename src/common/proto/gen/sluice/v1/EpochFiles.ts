// @ts-nocheck
// Original file: proto/sluice/v1/driver.proto

import type { FileReplica as _sluice_v1_FileReplica, FileReplica__Output as _sluice_v1_FileReplica__Output } from '../../sluice/v1/FileReplica.js';

export interface EpochFiles {
  'epoch'?: (number);
  'replicas'?: (_sluice_v1_FileReplica)[];
}

export interface EpochFiles__Output {
  'epoch': (number);
  'replicas': (_sluice_v1_FileReplica__Output)[];
}
