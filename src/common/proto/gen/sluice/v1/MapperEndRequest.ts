// @ts-nocheck
// Original file: proto/sluice/v1/driver.proto

import type { PartitionWritten as _sluice_v1_PartitionWritten, PartitionWritten__Output as _sluice_v1_PartitionWritten__Output } from '../../sluice/v1/PartitionWritten.js';
import type { PartitionColumns as _sluice_v1_PartitionColumns, PartitionColumns__Output as _sluice_v1_PartitionColumns__Output } from '../../sluice/v1/PartitionColumns.js';

export interface MapperEndRequest {
  'appId'?: (string);
  'shuffleId'?: (number);
  'mapId'?: (number);
  'attemptId'?: (number);
  'partitions'?: (_sluice_v1_PartitionWritten)[];
  /**
   * for executor rolling (docs/architecture.md#executor-rolling)
   */
  'executorId'?: (string);
  /**
   * ESS mode (docs/architecture.md#ess-mode): host:port of the node-local ESS serving this map's output file;
   * empty in push mode.
   */
  'essAddress'?: (string);
  /**
   * The same as `partitions`, in columns: what executors send (10^6 PartitionWritten messages
   * took seconds to encode and decode; packed columns take milliseconds). Only one of the two
   * may be set.
   */
  'written'?: (_sluice_v1_PartitionColumns | null);
}

export interface MapperEndRequest__Output {
  'appId': (string);
  'shuffleId': (number);
  'mapId': (number);
  'attemptId': (number);
  'partitions': (_sluice_v1_PartitionWritten__Output)[];
  /**
   * for executor rolling (docs/architecture.md#executor-rolling)
   */
  'executorId': (string);
  /**
   * ESS mode (docs/architecture.md#ess-mode): host:port of the node-local ESS serving this map's output file;
   * empty in push mode.
   */
  'essAddress': (string);
  /**
   * The same as `partitions`, in columns: what executors send (10^6 PartitionWritten messages
   * took seconds to encode and decode; packed columns take milliseconds). Only one of the two
   * may be set.
   */
  'written': (_sluice_v1_PartitionColumns__Output | null);
}
