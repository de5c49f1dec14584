// @ts-nocheck
// Original file: proto/sluice/v1/worker.proto

import type { Long } from '@grpc/proto-loader';

export interface CommittedFile {
  'partition'?: (number);
  'epoch'?: (number);
  'path'?: (string);
  'length'?: (number | string | Long);
  'crc32'?: (number);
  'chunkCount'?: (number);
}

export interface CommittedFile__Output {
  'partition': (number);
  'epoch': (number);
  'path': (string);
  'length': (number);
  'crc32': (number);
  'chunkCount': (number);
}
