// @ts-nocheck
// Original file: proto/sluice/v1/driver.proto

import type { Long } from '@grpc/proto-loader';

export interface PartitionWritten {
  'partition'?: (number);
  'epoch'?: (number);
  'bytes'?: (number | string | Long);
  /**
   * CRC32 of everything the attempt pushed for this (partition, epoch)
   */
  'crc32'?: (number);
  'blocks'?: (number);
}

export interface PartitionWritten__Output {
  'partition': (number);
  'epoch': (number);
  'bytes': (number);
  /**
   * CRC32 of everything the attempt pushed for this (partition, epoch)
   */
  'crc32': (number);
  'blocks': (number);
}
