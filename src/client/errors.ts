// The client library's errors (docs/client.md, docs/architecture.md#reads-and-failover): classes with stable codes, a `retriable` flag
// and the context an engine needs to decide what to re-run. Engines match on `code`.
import { SluiceError, type SluiceErrorOptions } from '../common/errors.js';
import { errorCodeOf, wireStatus } from '../common/status-codes.js';

/** A partition epoch could not be read from any replica; retriable at stage level (docs/architecture.md#reads-and-failover). */
export class FetchFailedError extends SluiceError {
  readonly partition: number;
  readonly epoch: number;
  readonly workers: readonly string[];
  constructor(
    partition: number,
    epoch: number,
    workers: readonly string[],
    cause: unknown,
    detail = describe(cause),
  ) {
    super(
      'SLUICE_ERR_FETCH_FAILED',
      `partition ${partition} epoch ${epoch}: no replica could be read (${workers.join(', ') || 'no replicas'}): ${detail}`,
      { cause, context: { partition, epoch, workers } },
    );
    this.partition = partition;
    this.epoch = epoch;
    this.workers = workers;
  }
}

/** Data a winning map attempt wrote has no committed replica: re-run the map stage (docs/architecture.md#lifecycle-of-one-shuffle). */
export class ShuffleDataLostError extends SluiceError {
  readonly shuffleId: number;
  readonly partitions: readonly number[];
  constructor(
    shuffleId: number,
    partitions: readonly number[],
    detail: string,
    options: SluiceErrorOptions = {},
  ) {
    const shown = partitions.slice(0, 20).join(', ') + (partitions.length > 20 ? ', ...' : '');
    super(
      'SLUICE_ERR_SHUFFLE_DATA_LOST',
      `shuffle ${shuffleId}: partitions [${shown}] lost: ${detail}`,
      {
        ...options,
        context: { ...options.context, shuffleId, partitions: partitions.slice(0, 1000) },
      },
    );
    this.shuffleId = shuffleId;
    this.partitions = partitions;
  }
}

/** Every replica of a block failed its CRC check; no wrong data was returned (docs/protocol.md#block-format). */
export class CorruptShuffleDataError extends SluiceError {
  readonly partition: number;
  readonly epoch: number;
  readonly workers: readonly string[];
  constructor(partition: number, epoch: number, workers: readonly string[], cause: unknown) {
    super(
      'SLUICE_ERR_CORRUPT_DATA',
      `partition ${partition} epoch ${epoch}: every replica is corrupt (${workers.join(', ')}): ${describe(cause)}`,
      { cause, context: { partition, epoch, workers } },
    );
    this.partition = partition;
    this.epoch = epoch;
    this.workers = workers;
  }
}

/**
 * A worker or ESS answered a data-plane request with an ERROR frame. `status` is the wire
 * status name, or UNKNOWN(n) for a value this build lacks; `code` and `retriable` are the
 * status's own (src/common/status-codes.ts), so THROTTLED is SLUICE_ERR_THROTTLED, NOT_FOUND
 * is SLUICE_ERR_NOT_FOUND, and so on. `statusValue` is what push-decision.ts and
 * read-decision.ts decide from.
 */
export class WorkerRequestError extends SluiceError {
  readonly status: string;
  readonly statusValue: number;
  readonly workerId: string;
  constructor(statusValue: number, workerId: string, message: string) {
    const known = wireStatus(statusValue);
    const status = known?.name ?? `UNKNOWN(${statusValue})`;
    super(errorCodeOf(statusValue), `worker ${workerId}: ${status}: ${message}`, {
      retriable: known?.retriable ?? false,
      context: { status, workerId },
    });
    this.status = status;
    this.statusValue = statusValue;
    this.workerId = workerId;
  }
}

export function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
