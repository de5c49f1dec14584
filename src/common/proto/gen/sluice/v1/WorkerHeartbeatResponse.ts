// @ts-nocheck
// Original file: proto/sluice/v1/manager.proto

import type { ShuffleRef as _sluice_v1_ShuffleRef, ShuffleRef__Output as _sluice_v1_ShuffleRef__Output } from '../../sluice/v1/ShuffleRef.js';

export interface WorkerHeartbeatResponse {
  /**
   * The manager does not know this worker (restart, failover, or it was declared lost).
   */
  'reregister'?: (boolean);
  /**
   * Apps that expired or unregistered: delete all their data.
   */
  'expiredApps'?: (string)[];
  /**
   * Shuffles that were released (apps still alive): delete their data.
   */
  'releasedShuffles'?: (_sluice_v1_ShuffleRef)[];
  /**
   * The operator asked this worker to decommission.
   */
  'decommission'?: (boolean);
  /**
   * The operator withdrew a decommission: a DECOMMISSIONING worker serves again.
   */
  'recommission'?: (boolean);
}

export interface WorkerHeartbeatResponse__Output {
  /**
   * The manager does not know this worker (restart, failover, or it was declared lost).
   */
  'reregister': (boolean);
  /**
   * Apps that expired or unregistered: delete all their data.
   */
  'expiredApps': (string)[];
  /**
   * Shuffles that were released (apps still alive): delete their data.
   */
  'releasedShuffles': (_sluice_v1_ShuffleRef__Output)[];
  /**
   * The operator asked this worker to decommission.
   */
  'decommission': (boolean);
  /**
   * The operator withdrew a decommission: a DECOMMISSIONING worker serves again.
   */
  'recommission': (boolean);
}
