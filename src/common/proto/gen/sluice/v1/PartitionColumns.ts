// @ts-nocheck
// Original file: proto/sluice/v1/driver.proto


/**
 * PartitionWritten as columns: arrays of n little-endian numbers, one row per partition
 * written, ascending by partition. Raw arrays rather than repeated fields: protobuf encodes and
 * decodes a repeated field element by element, 10^6 rows took seconds; these are copies.
 */
export interface PartitionColumns {
  /**
   * n x u32
   */
  'partition'?: (Buffer | Uint8Array | string);
  /**
   * n x u32; bit e set: epoch e acknowledged a block (epochs 0..31; a writer with a later
   * epoch sends `partitions` instead)
   */
  'epochMask'?: (Buffer | Uint8Array | string);
  /**
   * n x u64 (block bytes, 32-byte headers included)
   */
  'bytes'?: (Buffer | Uint8Array | string);
  /**
   * n x u32
   */
  'crc32'?: (Buffer | Uint8Array | string);
  /**
   * n x u32
   */
  'blocks'?: (Buffer | Uint8Array | string);
}

/**
 * PartitionWritten as columns: arrays of n little-endian numbers, one row per partition
 * written, ascending by partition. Raw arrays rather than repeated fields: protobuf encodes and
 * decodes a repeated field element by element, 10^6 rows took seconds; these are copies.
 */
export interface PartitionColumns__Output {
  /**
   * n x u32
   */
  'partition': (Buffer);
  /**
   * n x u32; bit e set: epoch e acknowledged a block (epochs 0..31; a writer with a later
   * epoch sends `partitions` instead)
   */
  'epochMask': (Buffer);
  /**
   * n x u64 (block bytes, 32-byte headers included)
   */
  'bytes': (Buffer);
  /**
   * n x u32
   */
  'crc32': (Buffer);
  /**
   * n x u32
   */
  'blocks': (Buffer);
}
