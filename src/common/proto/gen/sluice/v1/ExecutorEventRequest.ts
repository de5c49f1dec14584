// @ts-nocheck
// Original file: proto/sluice/v1/agent.proto

import type { Long } from '@grpc/proto-loader';

export interface ExecutorEventRequest {
  'appId'?: (string);
  'executorId'?: (string);
  /**
   * added | removed | idle | busy | rolled
   */
  'kind'?: (string);
  'timestampMs'?: (number | string | Long);
}

export interface ExecutorEventRequest__Output {
  'appId': (string);
  'executorId': (string);
  /**
   * added | removed | idle | busy | rolled
   */
  'kind': (string);
  'timestampMs': (number);
}
