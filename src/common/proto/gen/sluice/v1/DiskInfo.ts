// @ts-nocheck
// Original file: proto/sluice/v1/common.proto

import type { Long } from '@grpc/proto-loader';

/**
 * One storage of a worker: a local disk, or its remote tier (HDFS, S3).
 */
export interface DiskInfo {
  /**
   * a directory, or the remote tier's URL
   */
  'path'?: (string);
  /**
   * 0 when the tier does not say (S3)
   */
  'capacityBytes'?: (number | string | Long);
  'freeBytes'?: (number | string | Long);
  /**
   * takes new files (state healthy)
   */
  'healthy'?: (boolean);
  /**
   * disk | hdfs | s3 (empty from older workers: disk)
   */
  'kind'?: (string);
  /**
   * healthy | high-usage | failing | hung
   */
  'state'?: (string);
}

/**
 * One storage of a worker: a local disk, or its remote tier (HDFS, S3).
 */
export interface DiskInfo__Output {
  /**
   * a directory, or the remote tier's URL
   */
  'path': (string);
  /**
   * 0 when the tier does not say (S3)
   */
  'capacityBytes': (number);
  'freeBytes': (number);
  /**
   * takes new files (state healthy)
   */
  'healthy': (boolean);
  /**
   * disk | hdfs | s3 (empty from older workers: disk)
   */
  'kind': (string);
  /**
   * healthy | high-usage | failing | hung
   */
  'state': (string);
}
