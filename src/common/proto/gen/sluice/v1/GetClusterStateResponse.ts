// @ts-nocheck
// Original file: proto/sluice/v1/manager.proto

import type { WorkerState as _sluice_v1_WorkerState, WorkerState__Output as _sluice_v1_WorkerState__Output } from '../../sluice/v1/WorkerState.js';
import type { AppState as _sluice_v1_AppState, AppState__Output as _sluice_v1_AppState__Output } from '../../sluice/v1/AppState.js';
import type { ShuffleState as _sluice_v1_ShuffleState, ShuffleState__Output as _sluice_v1_ShuffleState__Output } from '../../sluice/v1/ShuffleState.js';

export interface GetClusterStateResponse {
  'workers'?: (_sluice_v1_WorkerState)[];
  'apps'?: (_sluice_v1_AppState)[];
  'shuffles'?: (_sluice_v1_ShuffleState)[];
  /**
   * Empty on the last page; otherwise the page_token of the next one. Pages continue after
   * the last entry returned, so an entry added or removed meanwhile is never returned twice
   * (a walk over the pages is not a snapshot).
   */
  'nextPageToken'?: (string);
}

export interface GetClusterStateResponse__Output {
  'workers': (_sluice_v1_WorkerState__Output)[];
  'apps': (_sluice_v1_AppState__Output)[];
  'shuffles': (_sluice_v1_ShuffleState__Output)[];
  /**
   * Empty on the last page; otherwise the page_token of the next one. Pages continue after
   * the last entry returned, so an entry added or removed meanwhile is never returned twice
   * (a walk over the pages is not a snapshot).
   */
  'nextPageToken': (string);
}
