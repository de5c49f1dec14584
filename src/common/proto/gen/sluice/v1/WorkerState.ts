// @ts-nocheck
// Original file: proto/sluice/v1/manager.proto

import type { WorkerAddress as _sluice_v1_WorkerAddress, WorkerAddress__Output as _sluice_v1_WorkerAddress__Output } from '../../sluice/v1/WorkerAddress.js';
import type { WorkerLoad as _sluice_v1_WorkerLoad, WorkerLoad__Output as _sluice_v1_WorkerLoad__Output } from '../../sluice/v1/WorkerLoad.js';
import type { Long } from '@grpc/proto-loader';

export interface WorkerState {
  'address'?: (_sluice_v1_WorkerAddress | null);
  /**
   * healthy | lost | decommissioning
   */
  'state'?: (string);
  'load'?: (_sluice_v1_WorkerLoad | null);
  'memoryBudgetBytes'?: (number | string | Long);
  'lastHeartbeatMs'?: (number | string | Long);
}

export interface WorkerState__Output {
  'address': (_sluice_v1_WorkerAddress__Output | null);
  /**
   * healthy | lost | decommissioning
   */
  'state': (string);
  'load': (_sluice_v1_WorkerLoad__Output | null);
  'memoryBudgetBytes': (number);
  'lastHeartbeatMs': (number);
}
