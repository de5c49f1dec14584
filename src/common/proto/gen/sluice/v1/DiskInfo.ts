// @ts-nocheck
// Original file: proto/sluice/v1/common.proto

import type { Long } from '@grpc/proto-loader';

/**
 * One disk (or storage directory) of a worker.
 */
export interface DiskInfo {
  'path'?: (string);
  'capacityBytes'?: (number | string | Long);
  'freeBytes'?: (number | string | Long);
  'healthy'?: (boolean);
}

/**
 * One disk (or storage directory) of a worker.
 */
export interface DiskInfo__Output {
  'path': (string);
  'capacityBytes': (number);
  'freeBytes': (number);
  'healthy': (boolean);
}
