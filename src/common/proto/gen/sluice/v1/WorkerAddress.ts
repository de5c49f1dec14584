// @ts-nocheck
// Original file: proto/sluice/v1/common.proto


/**
 * Where a worker can be reached. The data port carries the framed TCP protocol (docs/protocol.md).
 */
export interface WorkerAddress {
  'workerId'?: (string);
  'host'?: (string);
  /**
   * gRPC WorkerControlService
   */
  'controlPort'?: (number);
  /**
   * framed TCP: push and fetch
   */
  'dataPort'?: (number);
  /**
   * metrics, /healthz, /readyz
   */
  'httpPort'?: (number);
  /**
   * empty when racks are not labelled
   */
  'rack'?: (string);
}

/**
 * Where a worker can be reached. The data port carries the framed TCP protocol (docs/protocol.md).
 */
export interface WorkerAddress__Output {
  'workerId': (string);
  'host': (string);
  /**
   * gRPC WorkerControlService
   */
  'controlPort': (number);
  /**
   * framed TCP: push and fetch
   */
  'dataPort': (number);
  /**
   * metrics, /healthz, /readyz
   */
  'httpPort': (number);
  /**
   * empty when racks are not labelled
   */
  'rack': (string);
}
