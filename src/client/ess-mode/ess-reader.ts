// The reduce-side reader of ESS mode (docs/architecture.md#ess-mode): for each winning map attempt that wrote to
// the partition, fetch that map's partition region from the ESS of the node that wrote it
// (MapperEnd's essAddress), in ranges of at most ess.maxFetchBytes, several maps at a time over
// pooled connections; verify every block's CRC, keep the winners' blocks once, and check the
// totals each winner reported. One copy exists: a failed fetch, after retries, is a
// FetchFailedError (the engine re-runs the map stage), never missing data.
import { isRetriable, SluiceError } from '../../common/errors.js';
import { retry } from '../../common/flow/retry.js';
import type { AppId, ShuffleId } from '../../common/ids.js';
import {
  decodeBlocksFrame,
  encodeFetchBlocksFrame,
  WireProtocolError,
} from '../../common/wire/index.js';
import type { WinningAttempt__Output } from '../../common/proto/gen/sluice/v1/WinningAttempt.js';
import { FetchFailedError } from '../errors.js';
import { ReaderBase } from '../read/reader.js';
import { WinnerLedger } from '../read/winner-ledger.js';
import { readActionOfError } from '../read/read-decision.js';

const RANGE_BYTES = 8 * 1024 * 1024;
/** Retries of one map's region before the reader gives up (transient failures only). */
const FETCH_ATTEMPTS = 4;

/** Fetch latencies kept per reader (the first ones; enough for percentiles in tests and benches). */
const MAX_LATENCY_SAMPLES = 100_000;

export class EssReader extends ReaderBase {
  /** Milliseconds from sending each FETCH_BLOCKS to its answer, THROTTLED retries included. */
  readonly fetchLatenciesMs: number[] = [];

  override async *blocks(): AsyncGenerator<Buffer, void, undefined> {
    const { partitionId } = this.options;
    const deps = this.deps;
    const groups = await this.fileGroups();
    const ledger = new WinnerLedger(groups.winners);
    const maps = groups.winners.filter((w) => w.blocks > 0);
    const window: Promise<Buffer>[] = [];
    let next = 0;
    const quiet = (p: Promise<Buffer>) => (p.catch(() => undefined), p);
    while (next < maps.length && window.length < deps.options.essFetchParallelism)
      window.push(quiet(this.#fetchRegion(maps[next++]!)));
    for (let i = 0; i < maps.length; i++) {
      const region = await window.shift()!;
      if (next < maps.length) window.push(quiet(this.#fetchRegion(maps[next++]!)));
      try {
        yield* this.blocksOf(region, 0, ledger);
      } catch (err) {
        // One copy only: a bad block means the map must run again.
        if (err instanceof WireProtocolError)
          throw new FetchFailedError(partitionId, 0, [maps[i]!.essAddress], err);
        throw err;
      }
    }
    const missing = ledger.mismatches();
    if (missing.length > 0)
      throw new FetchFailedError(
        partitionId,
        0,
        [...new Set(maps.map((m) => m.essAddress))],
        new Error(missing[0]),
        missing.slice(0, 5).join('; '),
      );
  }

  /** One winner's partition region, all ranges joined (its size is what the winner reported). */
  async #fetchRegion(w: WinningAttempt__Output): Promise<Buffer> {
    const deps = this.deps;
    const [host, port] = w.essAddress.split(':');
    const ref = {
      appId: this.options.appId as AppId,
      shuffleId: this.options.shuffleId as ShuffleId,
      mapId: w.mapId,
      attemptId: w.attemptId,
      partition: this.options.partitionId,
      priority: 3,
    };
    const fetchRange = async (offset: number) => {
      const conn = await deps.pool.get({
        workerId: `ess ${w.essAddress}`,
        host: host!,
        dataPort: Number(port),
      });
      const sent = performance.now();
      const frame = await this.whileThrottled(() =>
        conn.request(
          (id) => encodeFetchBlocksFrame(id, { ...ref, offset, maxLength: RANGE_BYTES }),
          deps.options.fetchTimeoutMs,
        ),
      );
      if (this.fetchLatenciesMs.length < MAX_LATENCY_SAMPLES)
        this.fetchLatenciesMs.push(performance.now() - sent);
      const header = decodeBlocksFrame(frame); // checks the body CRC
      return { length: header.partitionLength, body: frame.body };
    };
    try {
      return await retry(
        async () => {
          const parts: Buffer[] = [];
          let got = 0;
          let total = Number(w.bytes);
          do {
            const { length, body } = await fetchRange(got);
            total = length;
            if (body.length === 0 && got < total)
              throw new SluiceError('SLUICE_ERR_INTERNAL', 'the ESS answered an empty range');
            parts.push(body);
            got += body.length;
          } while (got < total);
          return Buffer.concat(parts, got);
        },
        {
          maxAttempts: FETCH_ATTEMPTS,
          // One copy: the reader's `fail-over` means asking the same ESS again, when the
          // failure may pass (a lost connection, THROTTLED beyond whileThrottled's patience);
          // an answer the status table calls final (NOT_FOUND: the output is gone) is not.
          retriable: isRetriable,
          what: `fetch of map ${w.mapId} from ${w.essAddress}`,
        },
      );
    } catch (err) {
      if (readActionOfError(err) === 'fail') throw err; // refused as such (UNAUTHORIZED)
      this.stats.failovers++;
      throw new FetchFailedError(this.options.partitionId, 0, [w.essAddress], err);
    }
  }
}
