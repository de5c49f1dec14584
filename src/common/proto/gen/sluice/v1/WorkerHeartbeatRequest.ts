// @ts-nocheck
// Original file: proto/sluice/v1/manager.proto

import type { WorkerLoad as _sluice_v1_WorkerLoad, WorkerLoad__Output as _sluice_v1_WorkerLoad__Output } from '../../sluice/v1/WorkerLoad.js';
import type { HeldShuffle as _sluice_v1_HeldShuffle, HeldShuffle__Output as _sluice_v1_HeldShuffle__Output } from '../../sluice/v1/HeldShuffle.js';

export interface WorkerHeartbeatRequest {
  'workerId'?: (string);
  'load'?: (_sluice_v1_WorkerLoad | null);
  /**
   * Shuffles the worker holds data for (a page of them when it holds many); the manager
   * answers with those that are gone and shows their sizes.
   */
  'heldShuffles'?: (_sluice_v1_HeldShuffle)[];
}

export interface WorkerHeartbeatRequest__Output {
  'workerId': (string);
  'load': (_sluice_v1_WorkerLoad__Output | null);
  /**
   * Shuffles the worker holds data for (a page of them when it holds many); the manager
   * answers with those that are gone and shows their sizes.
   */
  'heldShuffles': (_sluice_v1_HeldShuffle__Output)[];
}
