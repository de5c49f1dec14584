// @ts-nocheck
// Original file: proto/sluice/v1/manager.proto

import type { DiskInfo as _sluice_v1_DiskInfo, DiskInfo__Output as _sluice_v1_DiskInfo__Output } from '../../sluice/v1/DiskInfo.js';
import type { WorkerServingState as _sluice_v1_WorkerServingState, WorkerServingState__Output as _sluice_v1_WorkerServingState__Output } from '../../sluice/v1/WorkerServingState.js';
import type { Long } from '@grpc/proto-loader';

export interface WorkerLoad {
  'pushBytesPerSec'?: (number | string);
  'fetchBytesPerSec'?: (number | string);
  'memoryUsedBytes'?: (number | string | Long);
  'flushQueueBytes'?: (number | string | Long);
  'disks'?: (_sluice_v1_DiskInfo)[];
  'activeShuffles'?: (number);
  'servingState'?: (_sluice_v1_WorkerServingState);
  'throttledApps'?: (string)[];
}

export interface WorkerLoad__Output {
  'pushBytesPerSec': (number);
  'fetchBytesPerSec': (number);
  'memoryUsedBytes': (number);
  'flushQueueBytes': (number);
  'disks': (_sluice_v1_DiskInfo__Output)[];
  'activeShuffles': (number);
  'servingState': (_sluice_v1_WorkerServingState__Output);
  'throttledApps': (string)[];
}
