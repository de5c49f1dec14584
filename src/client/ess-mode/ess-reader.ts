// The reduce-side reader of ESS mode (docs/architecture.md#ess-mode): for each winning map attempt that wrote to
// the partition, fetch that map's partition region from the ESS of the node that wrote it
// (MapperEnd's essAddress), in ranges of at most ess.maxFetchBytes, several maps at a time over
// pooled connections, streaming: blocks are handed on as ranges arrive, a block split between
// two ranges carried over, so memory is bounded by the fetch window whatever a region's size.
// Verify every block's CRC, keep the winners' blocks once, and check the totals each winner
// reported. Every FETCH_BLOCKS carries the app's priority (the driver's, from GetFileGroups)
// for the ESS's throttling. One copy exists: a failed fetch, after retries, is a
// FetchFailedError (the engine re-runs the map stage), never missing data.
import { isRetriable, SluiceError } from '../../common/errors.js';
import { retry } from '../../common/flow/retry.js';
import type { AppId, ShuffleId } from '../../common/ids.js';
import {
  BLOCK_HEADER_BYTES,
  CorruptBlockError,
  decodeBlocksFrame,
  encodeFetchBlocksFrame,
  parseBlockHeader,
  WireProtocolError,
  type FetchBlocks,
} from '../../common/wire/index.js';
import { DEFAULT_PRIORITY } from '../../common/flow/fetch-throttle.js';
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
    const priority = groups.priority || DEFAULT_PRIORITY;
    const ledger = new WinnerLedger(groups.winners);
    const maps = groups.winners.filter((w) => w.blocks > 0);
    // essFetchParallelism regions in flight, consumed in order; each holds at most the range
    // being walked and the next one being fetched.
    const window: RegionRanges[] = [];
    let next = 0;
    const open = () => window.push(new RegionRanges(this, maps[next++]!, priority));
    while (next < maps.length && window.length < deps.options.essFetchParallelism) open();
    for (let i = 0; i < maps.length; i++) {
      const region = window.shift()!;
      if (next < maps.length) open();
      try {
        yield* this.#blocksOfRegion(region, ledger);
      } catch (err) {
        for (const r of window) r.cancel();
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

  /**
   * The blocks of one region as its ranges arrive. A range may end inside a block: the whole
   * blocks are walked, and the unfinished block's bytes are carried over and completed with
   * the next range, so a region of any size is read in memory bounded by a range and a block.
   */
  async *#blocksOfRegion(
    region: RegionRanges,
    ledger: WinnerLedger,
  ): AsyncGenerator<Buffer, void, undefined> {
    const carry = new PartialBlock(this.deps.options.maxBlockBytes);
    for await (const { body, offset } of region.ranges()) {
      let at = 0;
      if (carry.length > 0) {
        at = carry.fill(body);
        if (!carry.complete) continue;
        yield* this.blocksOf(carry.take(), carry.offset, ledger);
      }
      const whole = wholeBlocksEnd(body, at, offset);
      if (whole > at) yield* this.blocksOf(body.subarray(at, whole), offset + at, ledger);
      if (whole < body.length) carry.start(body.subarray(whole), offset + whole);
    }
    if (carry.length > 0)
      throw new CorruptBlockError(
        'TRUNCATED',
        carry.offset,
        `the region ends inside a block: ${carry.length} bytes of it at ${carry.offset}`,
      );
  }

  /** One FETCH_BLOCKS of `ref` at `offset`: the region's length and the range's bytes. */
  async fetchRange(
    w: WinningAttempt__Output,
    ref: FetchBlocks,
  ): Promise<{ length: number; body: Buffer }> {
    const deps = this.deps;
    const [host, port] = w.essAddress.split(':');
    const conn = await deps.pool.get({
      workerId: `ess ${w.essAddress}`,
      host: host!,
      dataPort: Number(port),
    });
    const sent = performance.now();
    const frame = await this.whileThrottled(() =>
      conn.request((id) => encodeFetchBlocksFrame(id, ref), deps.options.fetchTimeoutMs),
    );
    if (this.fetchLatenciesMs.length < MAX_LATENCY_SAMPLES)
      this.fetchLatenciesMs.push(performance.now() - sent);
    const header = decodeBlocksFrame(frame); // checks the body CRC
    return { length: header.partitionLength, body: frame.body };
  }

  /**
   * A range, retried on the same ESS while the failure may pass (a lost connection, THROTTLED
   * beyond whileThrottled's patience): one copy exists, so a final answer (NOT_FOUND: the
   * output is gone) or exhausted retries are a FetchFailedError and the map runs again.
   */
  async retriedRange(
    w: WinningAttempt__Output,
    ref: FetchBlocks,
  ): Promise<{ length: number; body: Buffer }> {
    try {
      return await retry(() => this.fetchRange(w, ref), {
        maxAttempts: FETCH_ATTEMPTS,
        retriable: isRetriable,
        what: `fetch of map ${w.mapId} from ${w.essAddress}`,
      });
    } catch (err) {
      if (readActionOfError(err) === 'fail') throw err; // refused as such (UNAUTHORIZED)
      this.stats.failovers++;
      throw new FetchFailedError(this.options.partitionId, 0, [w.essAddress], err);
    }
  }
}

/**
 * One winner's partition region, fetched range after range with one range ahead: the first
 * is asked for at once (the reader's window), each next one when the previous arrives.
 */
class RegionRanges {
  readonly #reader: EssReader;
  readonly #w: WinningAttempt__Output;
  readonly #ref: Omit<FetchBlocks, 'offset'>;
  #pending: Promise<{ length: number; body: Buffer }> | undefined;
  #cancelled = false;

  constructor(reader: EssReader, w: WinningAttempt__Output, priority: number) {
    this.#reader = reader;
    this.#w = w;
    this.#ref = {
      appId: reader.options.appId as AppId,
      shuffleId: reader.options.shuffleId as ShuffleId,
      mapId: w.mapId,
      attemptId: w.attemptId,
      partition: reader.options.partitionId,
      maxLength: RANGE_BYTES,
      priority,
    };
    this.#pending = this.#fetch(0);
  }

  #fetch(offset: number) {
    const p = this.#reader.retriedRange(this.#w, { ...this.#ref, offset });
    p.catch(() => undefined); // observed in ranges(); not unhandled while it waits
    return p;
  }

  /** No further range is asked for (the reader failed); one in flight settles unobserved. */
  cancel(): void {
    this.#cancelled = true;
  }

  async *ranges(): AsyncGenerator<{ body: Buffer; offset: number }, void, undefined> {
    let offset = 0;
    while (this.#pending && !this.#cancelled) {
      const { length, body } = await this.#pending;
      if (body.length === 0 && offset < length)
        throw new SluiceError('SLUICE_ERR_INTERNAL', 'the ESS answered an empty range');
      const at = offset;
      offset += body.length;
      this.#pending = offset < length ? this.#fetch(offset) : undefined;
      yield { body, offset: at };
    }
  }
}

/** Where the whole blocks of buf[from..] end (the rest is the start of an unfinished block). */
function wholeBlocksEnd(buf: Buffer, from: number, baseOffset: number): number {
  let at = from;
  while (buf.length - at >= BLOCK_HEADER_BYTES) {
    const size = BLOCK_HEADER_BYTES + parseBlockHeader(buf, at, baseOffset).storedLength;
    if (at + size > buf.length) break;
    at += size;
  }
  return at;
}

/** The bytes of one block that arrived split over ranges, collected until it is whole. */
class PartialBlock {
  readonly #maxBytes: number;
  #parts: Buffer[] = [];
  #size = 0;
  length = 0;
  offset = 0;

  constructor(maxBlockBytes: number) {
    // A stored block is at most LZ4's worst case of a maxBlockBytes one; a header claiming
    // more is corrupt, and must not make the reader collect a region's worth of bytes.
    this.#maxBytes = BLOCK_HEADER_BYTES + maxBlockBytes + Math.ceil(maxBlockBytes / 255) + 16;
  }

  /** Starts a block with `bytes` (copied: they are the end of a range buffer). */
  start(bytes: Buffer, offset: number): void {
    this.#parts = [Buffer.from(bytes)];
    this.length = bytes.length;
    this.offset = offset;
    this.#size = 0;
    this.#sizeIfKnown();
  }

  get complete(): boolean {
    return this.#size > 0 && this.length === this.#size;
  }

  /** Adds what the block still needs from the start of `body`; returns the bytes taken. */
  fill(body: Buffer): number {
    let taken = 0;
    if (this.#size === 0) {
      taken = Math.min(BLOCK_HEADER_BYTES - this.length, body.length);
      this.#add(body.subarray(0, taken));
      if (!this.#sizeIfKnown()) return taken;
    }
    const more = Math.min(this.#size - this.length, body.length - taken);
    this.#add(body.subarray(taken, taken + more));
    return taken + more;
  }

  /** The whole block; the carry is empty afterwards. */
  take(): Buffer {
    const block = this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts);
    this.#parts = [];
    this.length = 0;
    this.#size = 0;
    return block;
  }

  #add(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.#parts.push(bytes);
    this.length += bytes.length;
  }

  #sizeIfKnown(): boolean {
    if (this.length < BLOCK_HEADER_BYTES) return false;
    if (this.#parts.length > 1) this.#parts = [Buffer.concat(this.#parts)];
    const size =
      BLOCK_HEADER_BYTES + parseBlockHeader(this.#parts[0]!, 0, this.offset).storedLength;
    if (size > this.#maxBytes)
      throw new CorruptBlockError(
        'BAD_LENGTH',
        this.offset,
        `block at ${this.offset} claims ${size} bytes, more than maxBlockBytes allows`,
      );
    this.#size = size;
    return true;
  }
}
