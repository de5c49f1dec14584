// @ts-nocheck
// Original file: proto/sluice/v1/driver.proto

import type { EpochFiles as _sluice_v1_EpochFiles, EpochFiles__Output as _sluice_v1_EpochFiles__Output } from '../../sluice/v1/EpochFiles.js';
import type { WinningAttempt as _sluice_v1_WinningAttempt, WinningAttempt__Output as _sluice_v1_WinningAttempt__Output } from '../../sluice/v1/WinningAttempt.js';

export interface GetFileGroupsResponse {
  'epochs'?: (_sluice_v1_EpochFiles)[];
  /**
   * Readers keep only blocks of these (mapId, attemptId) pairs: the winners that wrote to the
   * partition (a map whose winner wrote nothing to it is not listed).
   */
  'winners'?: (_sluice_v1_WinningAttempt)[];
  /**
   * The app's priority, 1 (highest) .. 5: ESS-mode readers send it with every FETCH_BLOCKS so
   * the ESS throttles the app by it (docs/architecture.md#request-throttling).
   */
  'priority'?: (number);
}

export interface GetFileGroupsResponse__Output {
  'epochs': (_sluice_v1_EpochFiles__Output)[];
  /**
   * Readers keep only blocks of these (mapId, attemptId) pairs: the winners that wrote to the
   * partition (a map whose winner wrote nothing to it is not listed).
   */
  'winners': (_sluice_v1_WinningAttempt__Output)[];
  /**
   * The app's priority, 1 (highest) .. 5: ESS-mode readers send it with every FETCH_BLOCKS so
   * the ESS throttles the app by it (docs/architecture.md#request-throttling).
   */
  'priority': (number);
}
