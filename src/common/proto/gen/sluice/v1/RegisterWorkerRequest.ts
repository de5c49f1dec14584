// @ts-nocheck
// Original file: proto/sluice/v1/manager.proto

import type { WorkerAddress as _sluice_v1_WorkerAddress, WorkerAddress__Output as _sluice_v1_WorkerAddress__Output } from '../../sluice/v1/WorkerAddress.js';
import type { DiskInfo as _sluice_v1_DiskInfo, DiskInfo__Output as _sluice_v1_DiskInfo__Output } from '../../sluice/v1/DiskInfo.js';
import type { Long } from '@grpc/proto-loader';

export interface RegisterWorkerRequest {
  'address'?: (_sluice_v1_WorkerAddress | null);
  'disks'?: (_sluice_v1_DiskInfo)[];
  'memoryBudgetBytes'?: (number | string | Long);
  'version'?: (string);
}

export interface RegisterWorkerRequest__Output {
  'address': (_sluice_v1_WorkerAddress__Output | null);
  'disks': (_sluice_v1_DiskInfo__Output)[];
  'memoryBudgetBytes': (number);
  'version': (string);
}
