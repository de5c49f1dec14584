// @ts-nocheck
// Original file: proto/sluice/v1/manager.proto

import type { Long } from '@grpc/proto-loader';

export interface AllocateShuffleRequest {
  'appId'?: (string);
  'shuffleId'?: (number);
  'numMappers'?: (number);
  /**
   * int64 so that negative or absurd counts reach validation instead of wrapping.
   */
  'numPartitions'?: (number | string | Long);
  'replicate'?: (boolean);
  /**
   * 0 means the manager's default
   */
  'maxPartitionsPerGroup'?: (number);
}

export interface AllocateShuffleRequest__Output {
  'appId': (string);
  'shuffleId': (number);
  'numMappers': (number);
  /**
   * int64 so that negative or absurd counts reach validation instead of wrapping.
   */
  'numPartitions': (number);
  'replicate': (boolean);
  /**
   * 0 means the manager's default
   */
  'maxPartitionsPerGroup': (number);
}
