// @ts-nocheck
// Original file: proto/sluice/v1/agent.proto

import type { StageFeatures as _sluice_v1_StageFeatures, StageFeatures__Output as _sluice_v1_StageFeatures__Output } from '../../sluice/v1/StageFeatures.js';

export interface StageSubmittedRequest {
  'appId'?: (string);
  'stageId'?: (number);
  'features'?: (_sluice_v1_StageFeatures | null);
  'coresPerExecutor'?: (number);
  'memoryGbPerExecutor'?: (number | string);
  'maxExecutors'?: (number);
  /**
   * shuffles the stage writes (for the capacity guard)
   */
  'shuffleIds'?: (number)[];
}

export interface StageSubmittedRequest__Output {
  'appId': (string);
  'stageId': (number);
  'features': (_sluice_v1_StageFeatures__Output | null);
  'coresPerExecutor': (number);
  'memoryGbPerExecutor': (number);
  'maxExecutors': (number);
  /**
   * shuffles the stage writes (for the capacity guard)
   */
  'shuffleIds': (number)[];
}
