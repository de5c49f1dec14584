// The map-side writer surface (docs/client.md), the same in push and ESS mode: engines switch
// mechanism by configuration only.
import { InvalidArgumentError, SluiceError } from '../../common/errors.js';

export interface WriterOptions {
  readonly appId: string;
  readonly shuffleId: number;
  readonly mapId: number;
  readonly attemptId: number;
  readonly numPartitions: number;
}

export interface PartitionStats {
  readonly partition: number;
  readonly records: number;
  /** Block bytes written (headers included). */
  readonly bytes: number;
  readonly blocks: number;
  readonly epochs: readonly number[];
}

export interface WriteResult {
  /** True when another attempt of this mapId won or the stage had ended: nothing counts. */
  readonly discarded: boolean;
  readonly records: number;
  readonly bytes: number;
  readonly partitions: readonly PartitionStats[];
}

export interface ShuffleWriter {
  readonly options: WriterOptions;
  /** Record bytes buffered in this writer, not yet sealed into blocks. */
  readonly bufferedBytes: number;
  /** The close() in progress or done, if any. */
  readonly closing: Promise<WriteResult> | undefined;
  /** Buffers one record for a partition (sync). Call flushIfNeeded() regularly. */
  write(partition: number, record: Buffer | Uint8Array): void;
  /** Back-pressure: resolves when buffered and in-flight bytes are under their limits. */
  flushIfNeeded(): Promise<void>;
  /** Writes out the rest, reports MapperEnd. Idempotent. */
  close(): Promise<WriteResult>;
  /** Gives up: buffered records are dropped, later calls fail with `err`. */
  abort(err?: Error): void;
}

/** The argument checks of write(), shared by both writers. */
/** Refuses a bad partition, a record that is not bytes, or one over `maxRecordBytes`. */
export function checkRecord(
  numPartitions: number,
  partition: number,
  record: unknown,
  maxRecordBytes: number,
): void {
  if (!Number.isInteger(partition) || partition < 0 || partition >= numPartitions)
    throw new InvalidArgumentError(
      'partition',
      `must be an integer in [0, ${numPartitions}), got ${partition}`,
    );
  if (!(record instanceof Uint8Array))
    throw new InvalidArgumentError('record', 'must be a Buffer or Uint8Array');
  if (record.length > maxRecordBytes)
    throw new InvalidArgumentError(
      'record',
      `is ${record.length} bytes; records are at most ${maxRecordBytes} (half of maxBlockBytes)`,
    );
}

/** What later calls of an aborted writer fail with when abort() was given no reason. */
export function writerAborted(): SluiceError {
  return new SluiceError('SLUICE_ERR_UNAVAILABLE', 'the writer was aborted', { retriable: false });
}
