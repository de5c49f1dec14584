// @ts-nocheck
// Original file: proto/sluice/v1/driver.proto

import type { Long } from '@grpc/proto-loader';

export interface WinningAttempt {
  'mapId'?: (number);
  'attemptId'?: (number);
  /**
   * What this attempt wrote to the requested partition (PartitionWritten totals; 0 if none).
   */
  'blocks'?: (number);
  'bytes'?: (number | string | Long);
  'crc32'?: (number);
  /**
   * ESS mode: where this attempt's map output is served (MapperEndRequest.ess_address).
   */
  'essAddress'?: (string);
}

export interface WinningAttempt__Output {
  'mapId': (number);
  'attemptId': (number);
  /**
   * What this attempt wrote to the requested partition (PartitionWritten totals; 0 if none).
   */
  'blocks': (number);
  'bytes': (number);
  'crc32': (number);
  /**
   * ESS mode: where this attempt's map output is served (MapperEndRequest.ess_address).
   */
  'essAddress': (string);
}
