// What every reader of a partition has in common (docs/architecture.md#reads-and-failover):
// the ShuffleReader an engine iterates, and the base both readers build on: records out of
// blocks, the driver's file group and data-loss verdict, THROTTLED answers backed off, and
// blocks verified (CRC), filtered to the winning attempts and deduplicated. PushReader
// (push-reader.ts) reads committed partition files from workers; EssReader
// (../ess-mode/ess-reader.ts) reads map output from the nodes' ESS daemons.
import type { SluiceError } from '../../common/errors.js';
import { retry } from '../../common/flow/retry.js';
import { BLOCK_HEADER_BYTES, CorruptBlockError } from '../../common/wire/index.js';
import type { GetFileGroupsResponse__Output } from '../../common/proto/gen/sluice/v1/GetFileGroupsResponse.js';
import type { DriverClient } from '../driver/driver-client.js';
import { ShuffleDataLostError, describe } from '../errors.js';
import type { ClientLogger } from '../logger.js';
import type { ResolvedClientOptions } from '../options.js';
import type { ConnectionPool } from '../net/connection-pool.js';
import { decodeRecords } from '../records.js';
import { decodeBlockContents } from '../write/block-codec.js';
import { verifiedBlocks } from './chunk-fetch.js';
import { readActionOfError } from './read-decision.js';
import type { WinnerLedger } from './winner-ledger.js';

export interface ReaderOptions {
  readonly appId: string;
  readonly shuffleId: number;
  readonly partitionId: number;
}

export interface ReaderDeps {
  readonly options: ResolvedClientOptions;
  readonly pool: ConnectionPool;
  readonly driver: DriverClient;
  readonly logger: ClientLogger;
  /** Injected for tests: which replica to try first (default random). */
  readonly random?: () => number;
}

export interface ReaderStats {
  blocks: number;
  records: number;
  /** Block bytes read from workers (headers included), before filtering. */
  bytesRead: number;
  duplicates: number;
  /** Blocks of attempts that did not win. */
  losers: number;
  failovers: number;
  /** Requests a worker answered THROTTLED (each was backed off and sent again). */
  throttled: number;
}

/** One partition's records, from `ShuffleClient.reader()`, the same in push and ESS mode. */
export interface ShuffleReader extends AsyncIterable<Buffer> {
  readonly options: ReaderOptions;
  readonly stats: ReaderStats;
  /** Every record of the winning attempts, exactly once, as written (no order guaranteed). */
  [Symbol.asyncIterator](): AsyncGenerator<Buffer, void, undefined>;
  /** The decompressed contents of every winning block once (records still framed). */
  blocks(): AsyncGenerator<Buffer, void, undefined>;
}

export abstract class ReaderBase implements ShuffleReader {
  readonly options: ReaderOptions;
  readonly stats: ReaderStats = {
    blocks: 0,
    records: 0,
    bytesRead: 0,
    duplicates: 0,
    losers: 0,
    failovers: 0,
    throttled: 0,
  };
  protected readonly deps: ReaderDeps;

  constructor(deps: ReaderDeps, options: ReaderOptions) {
    this.deps = deps;
    this.options = options;
  }

  /** Every record of the winning attempts, exactly once, as written. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer, void, undefined> {
    for await (const contents of this.blocks()) {
      for (const record of decodeRecords(contents)) {
        this.stats.records++;
        yield record;
      }
    }
  }

  abstract blocks(): AsyncGenerator<Buffer, void, undefined>;

  /** The partition's file group and winners; the driver's data-loss verdict as its error. */
  protected async fileGroups(): Promise<GetFileGroupsResponse__Output> {
    const { appId, shuffleId, partitionId } = this.options;
    try {
      return await this.deps.driver.getFileGroups(
        appId,
        shuffleId,
        partitionId,
        this.deps.options.fileGroupsTimeoutMs,
      );
    } catch (err) {
      if ((err as SluiceError).code === 'SLUICE_ERR_SHUFFLE_DATA_LOST')
        throw new ShuffleDataLostError(shuffleId, [partitionId], describe(err), { cause: err });
      throw err;
    }
  }

  /**
   * THROTTLED (docs/architecture.md#request-throttling) means "this app is over its fetch quota on that worker": back off
   * and send the same request again, never fail over or fail for it. The attempts cover more
   * than the worker's 30-minute hold at the 5 s back-off cap.
   */
  protected whileThrottled<T>(request: () => Promise<T>): Promise<T> {
    return retry(request, {
      maxAttempts: THROTTLED_MAX_ATTEMPTS,
      retriable: (err) => readActionOfError(err) === 'back-off',
      onRetry: () => this.stats.throttled++,
      what: 'a throttled fetch',
    });
  }

  /**
   * The kept blocks of `buf` (whole blocks; `baseOffset` is its position in the file, for
   * errors), decompressed. Each block's CRC is verified; losers and duplicates are counted.
   */
  protected *blocksOf(
    buf: Buffer,
    baseOffset: number,
    ledger: WinnerLedger,
  ): Generator<Buffer, void, undefined> {
    for (const block of verifiedBlocks(buf, baseOffset)) {
      this.stats.bytesRead += BLOCK_HEADER_BYTES + block.header.storedLength;
      const verdict = ledger.classify(block.header);
      if (verdict === 'loser') this.stats.losers++;
      else if (verdict === 'duplicate') this.stats.duplicates++;
      else {
        const max = this.deps.options.maxBlockBytes;
        if (block.header.rawLength > max)
          throw new CorruptBlockError(
            'BAD_LENGTH',
            baseOffset,
            `a block claims ${block.header.rawLength} decompressed bytes, more than maxBlockBytes (${max})`,
          );
        const raw = decodeBlockContents(block.header, block.stored);
        // Counted only now: a block that failed here is read again from another replica.
        ledger.keep(block.header);
        this.stats.blocks++;
        yield raw;
      }
    }
  }
}

const THROTTLED_MAX_ATTEMPTS = 1_000;
