// @ts-nocheck
// Original file: proto/sluice/v1/agent.proto

import type { Long } from '@grpc/proto-loader';

export interface StageFeatures {
  'tasks'?: (number);
  'inputBytes'?: (number | string | Long);
  'shuffleReadBytes'?: (number | string | Long);
  'shuffleWriteBytes'?: (number | string | Long);
  'parentShuffles'?: (number);
  'partitions'?: (number);
  /**
   * max / mean partition size of the stage's input shuffle
   */
  'skew'?: (number | string);
}

export interface StageFeatures__Output {
  'tasks': (number);
  'inputBytes': (number);
  'shuffleReadBytes': (number);
  'shuffleWriteBytes': (number);
  'parentShuffles': (number);
  'partitions': (number);
  /**
   * max / mean partition size of the stage's input shuffle
   */
  'skew': (number);
}
