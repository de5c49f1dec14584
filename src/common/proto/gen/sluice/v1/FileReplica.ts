// @ts-nocheck
// Original file: proto/sluice/v1/driver.proto

import type { WorkerAddress as _sluice_v1_WorkerAddress, WorkerAddress__Output as _sluice_v1_WorkerAddress__Output } from '../../sluice/v1/WorkerAddress.js';
import type { Long } from '@grpc/proto-loader';

export interface FileReplica {
  'worker'?: (_sluice_v1_WorkerAddress | null);
  'path'?: (string);
  'length'?: (number | string | Long);
  'crc32'?: (number);
  'chunkCount'?: (number);
}

export interface FileReplica__Output {
  'worker': (_sluice_v1_WorkerAddress__Output | null);
  'path': (string);
  'length': (number);
  'crc32': (number);
  'chunkCount': (number);
}
