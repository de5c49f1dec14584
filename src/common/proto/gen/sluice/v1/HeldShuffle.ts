// @ts-nocheck
// Original file: proto/sluice/v1/manager.proto

import type { Long } from '@grpc/proto-loader';

/**
 * A shuffle a worker holds. Fields 1 and 2 are those of ShuffleRef (an older manager reads
 * the entry as one).
 */
export interface HeldShuffle {
  'appId'?: (string);
  'shuffleId'?: (number);
  /**
   * Bytes of blocks this worker accepted for the shuffle (replica copies included).
   */
  'bytesPushed'?: (number | string | Long);
  /**
   * Set once the shuffle's commit finished here: the committed partition files.
   */
  'committed'?: (boolean);
  'bytesCommitted'?: (number | string | Long);
  'partitionFiles'?: (number);
  'largestPartitionBytes'?: (number | string | Long);
}

/**
 * A shuffle a worker holds. Fields 1 and 2 are those of ShuffleRef (an older manager reads
 * the entry as one).
 */
export interface HeldShuffle__Output {
  'appId': (string);
  'shuffleId': (number);
  /**
   * Bytes of blocks this worker accepted for the shuffle (replica copies included).
   */
  'bytesPushed': (number);
  /**
   * Set once the shuffle's commit finished here: the committed partition files.
   */
  'committed': (boolean);
  'bytesCommitted': (number);
  'partitionFiles': (number);
  'largestPartitionBytes': (number);
}
