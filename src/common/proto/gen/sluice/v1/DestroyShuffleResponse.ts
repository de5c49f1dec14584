// @ts-nocheck
// Original file: proto/sluice/v1/worker.proto

import type { Long } from '@grpc/proto-loader';

export interface DestroyShuffleResponse {
  'bytesDeleted'?: (number | string | Long);
}

export interface DestroyShuffleResponse__Output {
  'bytesDeleted': (number);
}
