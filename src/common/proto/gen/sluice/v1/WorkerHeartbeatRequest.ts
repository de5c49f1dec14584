// @ts-nocheck
// Original file: proto/sluice/v1/manager.proto

import type { WorkerLoad as _sluice_v1_WorkerLoad, WorkerLoad__Output as _sluice_v1_WorkerLoad__Output } from '../../sluice/v1/WorkerLoad.js';
import type { ShuffleRef as _sluice_v1_ShuffleRef, ShuffleRef__Output as _sluice_v1_ShuffleRef__Output } from '../../sluice/v1/ShuffleRef.js';

export interface WorkerHeartbeatRequest {
  'workerId'?: (string);
  'load'?: (_sluice_v1_WorkerLoad | null);
  /**
   * Every shuffle the worker holds data for; the manager answers with those that are gone.
   */
  'heldShuffles'?: (_sluice_v1_ShuffleRef)[];
}

export interface WorkerHeartbeatRequest__Output {
  'workerId': (string);
  'load': (_sluice_v1_WorkerLoad__Output | null);
  /**
   * Every shuffle the worker holds data for; the manager answers with those that are gone.
   */
  'heldShuffles': (_sluice_v1_ShuffleRef__Output)[];
}
