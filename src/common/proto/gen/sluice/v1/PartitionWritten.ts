// @ts-nocheck
// Original file: proto/sluice/v1/driver.proto

import type { Long } from '@grpc/proto-loader';

/**
 * What one map attempt pushed to one partition, all epochs together. Readers check what they
 * read of a winning attempt against these totals (docs/architecture.md#lifecycle-of-one-shuffle step 6), so a lost block cannot
 * go unnoticed.
 */
export interface PartitionWritten {
  'partition'?: (number);
  /**
   * Epochs that acknowledged at least one block of this partition from this attempt; the
   * driver checks each (partition, epoch) has a committed replica.
   */
  'epochs'?: (number)[];
  /**
   * block bytes (32-byte headers included)
   */
  'bytes'?: (number | string | Long);
  /**
   * CRC-32 of the concatenation, in batchId order, of each block's checksummed bytes (block
   * header bytes 4..27 + stored bytes): crc32Combine over the block CRCs.
   */
  'crc32'?: (number);
  'blocks'?: (number);
}

/**
 * What one map attempt pushed to one partition, all epochs together. Readers check what they
 * read of a winning attempt against these totals (docs/architecture.md#lifecycle-of-one-shuffle step 6), so a lost block cannot
 * go unnoticed.
 */
export interface PartitionWritten__Output {
  'partition': (number);
  /**
   * Epochs that acknowledged at least one block of this partition from this attempt; the
   * driver checks each (partition, epoch) has a committed replica.
   */
  'epochs': (number)[];
  /**
   * block bytes (32-byte headers included)
   */
  'bytes': (number);
  /**
   * CRC-32 of the concatenation, in batchId order, of each block's checksummed bytes (block
   * header bytes 4..27 + stored bytes): crc32Combine over the block CRCs.
   */
  'crc32': (number);
  'blocks': (number);
}
