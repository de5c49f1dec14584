// The map-side writer (docs/architecture.md#lifecycle-of-one-shuffle steps 3–6): buffers records per partition, seals a partition
// group into lz4 blocks once it holds pushBatchBytes, pushes the batch to the group's primary
// and replica at the same time, counts it acknowledged only when both hold it, moves the group
// to a new epoch when a push fails (re-pushing the same blocks, same batchIds) or the file
// split softly, and on close reports MapperEnd with per-partition totals.
import { InvalidArgumentError, type SluiceError } from '../../common/errors.js';
import type { DriverClient } from '../driver/driver-client.js';
import { writtenFields } from '../driver/partition-columns.js';
import { describe } from '../errors.js';
import type { ClientLogger } from '../logger.js';
import type { ResolvedClientOptions } from '../options.js';
import { recordRuns, type RecordBuffer } from '../records.js';
import type { ConnectionPool } from '../net/connection-pool.js';
import { BlockEncoder } from './block-codec.js';
import { GroupPusher, type Batch, type SealedBlock } from './group-pusher.js';
import { PartitionTally } from './partition-tally.js';
import {
  checkRecord,
  writerAborted,
  type ShuffleWriter,
  type WriteResult,
  type WriterOptions,
} from './writer.js';
import type { ByteBudget, PushWindows } from './push-window.js';
import type { RecordBufferPool } from './record-buffer-pool.js';
import type { ShuffleContext } from './shuffle-context.js';

export interface WriterDeps {
  readonly options: ResolvedClientOptions;
  readonly pool: ConnectionPool;
  readonly windows: PushWindows;
  readonly budget: ByteBudget;
  /** Where partition buffers come from and go back to (shared by the client's writers). */
  readonly buffers: RecordBufferPool;
  readonly driver: DriverClient;
  readonly context: ShuffleContext;
  readonly logger: ClientLogger;
  /** Called once when the writer closed (successfully or not) or was aborted. */
  readonly onFinished?: () => void;
}

/** Slices per PUSH frame: the u16 header length fits about 5 400 (messages.ts). */
const MAX_SLICES_PER_PUSH = 4096;
/**
 * Bounds that keep every PUSH well under the workers' maxFrameBytes (64 MiB by default) even
 * when a partition buffered far more than pushBatchBytes (a writer that rarely calls
 * flushIfNeeded): a partition's records are cut into blocks of at most 4 MiB raw (at record
 * boundaries; a larger record is a block of its own), and a batch into frames of <= 16 MiB.
 */
const MAX_BLOCK_RAW_BYTES = 4 * 1024 * 1024;
const MAX_PUSH_BODY_BYTES = 16 * 1024 * 1024;

/** Whole records of one partition that become one block. */
interface Run {
  readonly partition: number;
  readonly raw: Buffer;
  readonly records: number;
}

export class PushWriter implements ShuffleWriter {
  readonly options: WriterOptions;
  readonly #deps: WriterDeps;
  readonly #encoder: BlockEncoder;
  readonly #pusher: GroupPusher;
  readonly #buffers: (RecordBuffer | undefined)[];
  readonly #tally = new PartitionTally();
  readonly #pushes = new Set<Promise<void>>();
  #groupBytes: number[] = [];
  #buffered = 0;
  #nextBatchId = 0;
  #loading: Promise<void> | undefined;
  #failure: Error | undefined;
  #closing: Promise<WriteResult> | undefined;

  constructor(deps: WriterDeps, options: WriterOptions) {
    this.#deps = deps;
    this.options = options;
    this.#encoder = new BlockEncoder(deps.options.compression);
    this.#buffers = new Array<RecordBuffer | undefined>(options.numPartitions);
    this.#pusher = new GroupPusher(deps, options, (batch, epoch) =>
      this.#tally.add(batch.blocks, epoch),
    );
  }

  /** Record bytes buffered in this writer, not yet sealed into blocks. */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  /** Buffers one record for a partition (sync). Call flushIfNeeded() regularly. */
  write(partition: number, record: Buffer | Uint8Array): void {
    if (this.#closing) throw new InvalidArgumentError('write', 'the writer is closed');
    if (this.#failure) throw this.#failure;
    checkRecord(
      this.options.numPartitions,
      partition,
      record,
      this.#deps.options.maxBlockBytes / 2,
    );
    if (this.#pusher.stageEnded) return; // a late attempt: nothing it writes can count
    const buf = (this.#buffers[partition] ??= this.#deps.buffers.take());
    const n = buf.append(record);
    this.#buffered += n;
    const ctx = this.#deps.context;
    if (this.#groupBytes.length > 0) {
      const g = ctx.groupOf(partition);
      this.#groupBytes[g]! += n;
      if (this.#groupBytes[g]! >= this.#deps.options.pushBatchBytes) this.#seal(g);
    } else if (ctx.loaded)
      this.#onGroups(); // another writer of this client loaded them
    else void this.#loadGroups();
  }

  /**
   * Back-pressure (docs/client.md): pushes what is due and resolves when this writer's buffers and
   * the client's unacknowledged bytes are under their limits. Rejects if a push failed.
   */
  async flushIfNeeded(): Promise<void> {
    if (this.#failure) throw this.#failure;
    if (this.#buffered > 0) await this.#loadGroups();
    const max = this.#deps.options.maxBufferedBytesPerWriter;
    if (this.#buffered > max) {
      const order = this.#groupBytes
        .map((bytes, g) => [bytes, g] as const)
        .sort((a, b) => b[0] - a[0]);
      for (const [, g] of order) {
        if (this.#buffered <= max / 2) break;
        this.#seal(g);
      }
    }
    await this.#deps.budget.waitBelow();
    if (this.#failure) throw this.#failure;
  }

  /** The close() in progress or done, if any. */
  get closing(): Promise<WriteResult> | undefined {
    return this.#closing;
  }

  /** Pushes the rest, waits for every ack, reports MapperEnd. Idempotent. */
  close(): Promise<WriteResult> {
    this.#closing ??= this.#close().finally(() => {
      this.#releaseBuffers();
      this.#deps.onFinished?.();
    });
    return this.#closing;
  }

  /** Gives up: buffered records are dropped, later calls fail with `err`. */
  abort(err: Error = writerAborted()): void {
    this.#failure ??= err;
    this.#releaseBuffers();
    this.#buffered = 0;
    this.#deps.onFinished?.();
  }

  async #close(): Promise<WriteResult> {
    try {
      if (this.#buffered > 0) {
        await this.#loadGroups();
        for (let g = 0; g < this.#groupBytes.length; g++) this.#seal(g);
      }
      while (this.#pushes.size > 0) await Promise.all([...this.#pushes]);
      if (this.#failure) throw this.#failure;
      if (this.#pusher.stageEnded) return this.#tally.result(true);
      const answer = await this.#deps.driver.mapperEnd({
        appId: this.options.appId,
        shuffleId: this.options.shuffleId,
        mapId: this.options.mapId,
        attemptId: this.options.attemptId,
        executorId: this.#deps.options.executorId,
        ...writtenFields(this.#tally.written()),
      });
      return this.#tally.result(!answer.winner);
    } catch (err) {
      if ((err as SluiceError).code === 'SLUICE_ERR_STAGE_ENDED') return this.#tally.result(true);
      this.#failure ??= err as Error;
      throw err;
    }
  }

  #loadGroups(): Promise<void> {
    this.#loading ??= this.#deps.context.ready().then(
      () => this.#onGroups(),
      (err: unknown) => {
        this.#failure ??= err as Error;
        this.#loading = undefined;
      },
    );
    return this.#loading;
  }

  #onGroups(): void {
    if (this.#groupBytes.length > 0) return;
    const ctx = this.#deps.context;
    if (ctx.numPartitions !== this.options.numPartitions) {
      this.#failure ??= new InvalidArgumentError(
        'numPartitions',
        `shuffle ${this.options.shuffleId} has ${ctx.numPartitions} partitions, the writer was given ${this.options.numPartitions}`,
      );
      return;
    }
    if (ctx.committed) this.#pusher.endStage();
    const bytes = new Array<number>(
      ctx.groupIds().reduce((m, g) => Math.max(m, g), -Infinity) + 1,
    ).fill(0);
    this.#buffers.forEach((b, p) => {
      if (b) bytes[ctx.groupOf(p)]! += b.length;
    });
    this.#groupBytes = bytes;
    for (let g = 0; g < bytes.length; g++)
      if (bytes[g]! >= this.#deps.options.pushBatchBytes) this.#seal(g);
  }

  /**
   * Turns a group's buffered records into blocks and launches their push. The blocks are
   * encoded into one body buffer per PUSH, so the partition buffers are free again at once
   * (no allocation per block or per partition on the hot path) and a frame goes out as
   * header + one body instead of two parts per block.
   */
  #seal(groupId: number): void {
    if (this.#pusher.stageEnded || this.#failure) return;
    const group = this.#deps.context.current(groupId);
    if (!group) return;
    const encoder = this.#encoder;
    let runs: Run[] = [];
    let bound = 0;
    for (let p = group.startPartition; p < group.endPartition; p++) {
      const buf = this.#buffers[p];
      if (!buf || buf.length === 0) continue;
      const view = buf.view();
      for (const [start, end, records] of recordRuns(view, MAX_BLOCK_RAW_BYTES)) {
        const size = encoder.bound(end - start);
        if (
          runs.length === MAX_SLICES_PER_PUSH ||
          (bound > 0 && bound + size > MAX_PUSH_BODY_BYTES)
        ) {
          this.#launch(this.#encodeBatch(groupId, runs, bound));
          runs = [];
          bound = 0;
        }
        runs.push({ partition: p, raw: view.subarray(start, end), records });
        bound += size;
      }
    }
    if (runs.length > 0) this.#launch(this.#encodeBatch(groupId, runs, bound));
    for (let p = group.startPartition; p < group.endPartition; p++) this.#buffers[p]?.reset(true);
    this.#buffered -= this.#groupBytes[groupId] ?? 0;
    this.#groupBytes[groupId] = 0;
  }

  /** Encodes `runs` (at most `bound` encoded bytes) into one contiguous body. */
  #encodeBatch(groupId: number, runs: readonly Run[], bound: number): Batch {
    const body = Buffer.allocUnsafe(bound);
    const blocks: SealedBlock[] = [];
    let at = 0;
    for (const { partition, raw, records } of runs) {
      const batchId = this.#nextBatchId++;
      const meta = { mapId: this.options.mapId, attemptId: this.options.attemptId, batchId };
      const block = this.#encoder.encodeInto(meta, raw, body, at);
      const { header, stored, crc32 } = block; // named, not spread: once per block
      blocks.push({ partition, batchId, records, header, stored, crc32 });
      at += block.header.length + block.stored.length;
    }
    // The byte budget counts `at` bytes: when lz4 saved a lot, copy them out rather than pin
    // the whole allocation until the ack (stored as is, `at` is the bound: no copy).
    if (at > bound - (bound >> 2))
      return { groupId, blocks, bytes: at, body: body.subarray(0, at) };
    const exact = Buffer.allocUnsafe(at);
    body.copy(exact, 0, 0, at);
    const rebased = blocks.map((b) => {
      const start = b.header.byteOffset - body.byteOffset;
      const end = start + b.header.length + b.stored.length;
      const header = exact.subarray(start, start + b.header.length);
      const stored = exact.subarray(start + b.header.length, end);
      return {
        partition: b.partition,
        batchId: b.batchId,
        records: b.records,
        header,
        stored,
        crc32: b.crc32,
      };
    });
    return { groupId, blocks: rebased, bytes: at, body: exact };
  }

  /** Blocks copy what they hold, so the buffers can serve the client's next writer. */
  #releaseBuffers(): void {
    for (const b of this.#buffers) if (b) this.#deps.buffers.give(b);
    this.#buffers.fill(undefined);
  }

  #launch(batch: Batch): void {
    const budget = this.#deps.budget;
    budget.add(batch.bytes);
    const p: Promise<void> = this.#pusher
      .push(batch)
      .catch((err: unknown) => {
        this.#failure ??= err as Error;
        this.#deps.logger.warn({ mapId: this.options.mapId, err: describe(err) }, 'push failed');
      })
      .finally(() => {
        budget.release(batch.bytes);
        this.#pushes.delete(p);
      });
    this.#pushes.add(p);
  }
}
