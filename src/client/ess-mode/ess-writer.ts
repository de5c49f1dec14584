// The map-side writer of ESS mode (docs/architecture.md#ess-mode): records are buffered per partition like in push
// mode, sealed into the same blocks, and written to ONE data file per map attempt on this
// node with its partitions contiguous, plus an index (src/common/map-output.ts). A writer
// whose buffers pass maxBufferedBytesPerWriter spills sealed blocks to a spill file; close()
// merges spills and buffers partition by partition into the data file, writes the index
// atomically, registers the output with the node-local ESS, and reports MapperEnd.
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { InvalidArgumentError, SluiceError } from '../../common/errors.js';
import { encodeMapOutputIndex, mapOutputBase } from '../../common/map-output.js';
import { decodeRegistered, encodeRegisterOutputFrame } from '../../common/wire/index.js';
import type { AppId, ShuffleId } from '../../common/ids.js';
import type { DriverClient } from '../driver/driver-client.js';
import { writtenFields } from '../driver/partition-columns.js';
import type { ResolvedClientOptions } from '../options.js';
import type { ConnectionPool } from '../net/connection-pool.js';
import { recordRuns, type RecordBuffer } from '../records.js';
import { BlockEncoder } from '../write/block-codec.js';
import type { SealedBlock } from '../write/group-pusher.js';
import { PartitionTally } from '../write/partition-tally.js';
import type { RecordBufferPool } from '../write/record-buffer-pool.js';
import {
  checkRecord,
  writerAborted,
  type ShuffleWriter,
  type WriteResult,
  type WriterOptions,
} from '../write/writer.js';

const MAX_BLOCK_RAW_BYTES = 4 * 1024 * 1024;

export interface EssWriterDeps {
  readonly options: ResolvedClientOptions;
  readonly pool: ConnectionPool;
  readonly buffers: RecordBufferPool;
  readonly driver: DriverClient;
  readonly onFinished?: () => void;
}

interface Spill {
  readonly path: string;
  /** partition -> [start, end) in the spill file */
  readonly ranges: Map<number, [number, number]>;
}

export class EssWriter implements ShuffleWriter {
  readonly options: WriterOptions;
  readonly #deps: EssWriterDeps;
  readonly #ess: { address: string; dir: string };
  readonly #encoder: BlockEncoder;
  readonly #buffers: (RecordBuffer | undefined)[];
  readonly #tally = new PartitionTally();
  readonly #spills: Spill[] = [];
  #buffered = 0;
  #nextBatchId = 0;
  #failure: Error | undefined;
  #closing: Promise<WriteResult> | undefined;
  #spilling: Promise<void> = Promise.resolve();
  #spillCount = 0;

  constructor(deps: EssWriterDeps, options: WriterOptions) {
    if (!deps.options.ess) throw new InvalidArgumentError('ess', 'ESS mode needs ess options');
    this.#deps = deps;
    this.#ess = deps.options.ess;
    this.options = options;
    this.#encoder = new BlockEncoder(deps.options.compression);
    this.#buffers = new Array<RecordBuffer | undefined>(options.numPartitions);
  }

  get bufferedBytes(): number {
    return this.#buffered;
  }

  get closing(): Promise<WriteResult> | undefined {
    return this.#closing;
  }

  write(partition: number, record: Buffer | Uint8Array): void {
    if (this.#closing) throw new InvalidArgumentError('write', 'the writer is closed');
    if (this.#failure) throw this.#failure;
    checkRecord(
      this.options.numPartitions,
      partition,
      record,
      this.#deps.options.maxBlockBytes / 2,
    );
    this.#buffered += (this.#buffers[partition] ??= this.#deps.buffers.take()).append(record);
  }

  /** Spills the buffers to a file on this node once they pass maxBufferedBytesPerWriter. */
  async flushIfNeeded(): Promise<void> {
    if (this.#failure) throw this.#failure;
    // Decided and chained synchronously: a close() called right after runs after this spill.
    if (!this.#closing && this.#buffered > this.#deps.options.maxBufferedBytesPerWriter)
      this.#spilling = this.#spilling.then(() => this.#spill());
    await this.#spilling;
    if (this.#failure) throw this.#failure;
  }

  close(): Promise<WriteResult> {
    this.#closing ??= this.#spilling
      .then(() => this.#close())
      .catch(async (err: unknown) => {
        // Nothing half-written stays behind: the task is retried as a new attempt.
        this.#failure ??= err as Error;
        await this.#removeFiles(true);
        throw err;
      })
      .finally(() => {
        this.#releaseBuffers();
        this.#deps.onFinished?.();
      });
    return this.#closing;
  }

  abort(err: Error = writerAborted()): void {
    this.#failure ??= err;
    this.#releaseBuffers();
    this.#buffered = 0;
    if (!this.#closing)
      void this.#spilling.catch(() => undefined).then(() => this.#removeFiles(false));
    this.#deps.onFinished?.();
  }

  /** Sealing hands aliased memory over (reset(false)), so the buffers can serve the next writer. */
  #releaseBuffers(): void {
    for (const b of this.#buffers) if (b) this.#deps.buffers.give(b);
    this.#buffers.fill(undefined);
  }

  get #base(): string {
    return mapOutputBase(this.#ess.dir, this.options);
  }

  /** Seals partition `p`'s buffered records into blocks (the buffer is emptied). */
  #seal(p: number): SealedBlock[] {
    const buf = this.#buffers[p];
    if (!buf || buf.length === 0) return [];
    const blocks: SealedBlock[] = [];
    let aliased = false;
    for (const [start, end, records] of recordRuns(buf.view(), MAX_BLOCK_RAW_BYTES)) {
      const meta = {
        mapId: this.options.mapId,
        attemptId: this.options.attemptId,
        batchId: this.#nextBatchId++,
      };
      const block = this.#encoder.encode(meta, buf.view().subarray(start, end));
      const { header, stored, crc32 } = block; // named, not spread: once per block
      blocks.push({ partition: p, batchId: meta.batchId, records, header, stored, crc32 });
      aliased ||= block.aliased;
    }
    this.#buffered -= buf.length;
    buf.reset(!aliased);
    return blocks;
  }

  /**
   * Writes every buffered partition's blocks to a new spill file. The buffers are emptied as
   * they are sealed, so a failed spill fails the writer for good (its records are gone):
   * close() then throws and the engine retries the task; the spill file is removed.
   */
  async #spill(): Promise<void> {
    if (this.#buffered === 0 || this.#failure) return;
    const path = `${this.#base}.spill${this.#spillCount++}`;
    const spill: Spill = { path, ranges: new Map() };
    const written: SealedBlock[][] = [];
    try {
      await mkdir(dirname(path), { recursive: true });
      const fh = await open(path, 'w');
      try {
        let pos = 0;
        for (let p = 0; p < this.options.numPartitions; p++) {
          const blocks = this.#seal(p);
          if (blocks.length === 0) continue;
          const start = pos;
          pos += await writeBlocks(fh, blocks, pos);
          spill.ranges.set(p, [start, pos]);
          written.push(blocks);
        }
      } finally {
        await fh.close();
      }
    } catch (err) {
      this.#failure ??= err as Error;
      await rm(path, { force: true });
      throw err;
    }
    this.#spills.push(spill);
    for (const blocks of written) this.#tally.add(blocks, 0);
  }

  /** Deletes spill files (and, when `output`, a partial data file and index temp file). */
  async #removeFiles(output: boolean): Promise<void> {
    const base = this.#base;
    const paths = this.#spills.map((s) => s.path);
    if (output) paths.push(`${base}.data.tmp`, `${base}.index.tmp`);
    await Promise.all(paths.map((p) => rm(p, { force: true })));
  }

  async #close(): Promise<WriteResult> {
    if (this.#failure) throw this.#failure;
    const base = this.#base;
    await mkdir(dirname(base), { recursive: true });
    // Written under a temp name and renamed before the index: an output rewritten with the same
    // ids never pairs a new data file with an old index.
    const out = await open(`${base}.data.tmp`, 'w');
    const offsets = [0];
    try {
      const spills = await Promise.all(
        this.#spills.map(async (s) => ({ ...s, fh: await open(s.path, 'r') })),
      );
      try {
        let pos = 0;
        for (let p = 0; p < this.options.numPartitions; p++) {
          for (const s of spills) {
            const range = s.ranges.get(p);
            if (range) pos += await copyRange(s.fh, range, out, pos);
          }
          const blocks = this.#seal(p);
          pos += await writeBlocks(out, blocks, pos);
          this.#tally.add(blocks, 0);
          offsets.push(pos);
        }
      } finally {
        await Promise.all(spills.map((s) => s.fh.close()));
      }
    } finally {
      await out.close();
    }
    if (this.#failure) throw this.#failure; // aborted while writing
    await rename(`${base}.data.tmp`, `${base}.data`);
    await Promise.all(this.#spills.map((s) => rm(s.path, { force: true })));
    const index = `${base}.index`;
    const tmp = await open(`${index}.tmp`, 'w');
    try {
      await tmp.writeFile(encodeMapOutputIndex(offsets));
    } finally {
      await tmp.close();
    }
    await rename(`${index}.tmp`, index);
    await this.#register(offsets);
    try {
      const answer = await this.#deps.driver.mapperEnd({
        appId: this.options.appId,
        shuffleId: this.options.shuffleId,
        mapId: this.options.mapId,
        attemptId: this.options.attemptId,
        executorId: this.#deps.options.executorId,
        ...writtenFields(this.#tally.written()),
        essAddress: this.#ess.address,
      });
      return this.#tally.result(!answer.winner);
    } catch (err) {
      if ((err as SluiceError).code === 'SLUICE_ERR_STAGE_ENDED') return this.#tally.result(true);
      throw err;
    }
  }

  /** Tells the node-local ESS the output exists; it checks the index against the data file. */
  async #register(offsets: readonly number[]): Promise<void> {
    const [host, port] = this.#ess.address.split(':');
    const conn = await this.#deps.pool.get({
      workerId: `ess ${this.#ess.address}`,
      host: host!,
      dataPort: Number(port),
    });
    const ref = {
      appId: this.options.appId as AppId,
      shuffleId: this.options.shuffleId as ShuffleId,
      mapId: this.options.mapId,
      attemptId: this.options.attemptId,
    };
    const frame = await conn.request(
      (id) => encodeRegisterOutputFrame(id, ref),
      this.#deps.options.pushTimeoutMs,
    );
    const seen = decodeRegistered(frame.header);
    if (seen.partitionCount !== offsets.length - 1 || seen.dataLength !== offsets.at(-1))
      throw new SluiceError(
        'SLUICE_ERR_INTERNAL',
        `the ESS sees ${seen.partitionCount} partitions / ${seen.dataLength} bytes, this writer wrote ${offsets.length - 1} / ${offsets.at(-1)}`,
      );
  }
}

async function writeBlocks(
  fh: FileHandle,
  blocks: readonly SealedBlock[],
  position: number,
): Promise<number> {
  let written = 0;
  for (const b of blocks) {
    for (const part of [b.header, b.stored]) {
      await writeAll(fh, part, position + written);
      written += part.length;
    }
  }
  return written;
}

async function writeAll(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length)
    done += (await fh.write(buf, done, buf.length - done, position + done)).bytesWritten;
}

const COPY_CHUNK_BYTES = 4 * 1024 * 1024;

async function copyRange(
  from: FileHandle,
  [start, end]: [number, number],
  to: FileHandle,
  position: number,
): Promise<number> {
  const buf = Buffer.allocUnsafe(Math.min(COPY_CHUNK_BYTES, end - start));
  let copied = 0;
  while (start + copied < end) {
    const { bytesRead } = await from.read(
      buf,
      0,
      Math.min(buf.length, end - start - copied),
      start + copied,
    );
    if (bytesRead === 0) throw new SluiceError('SLUICE_ERR_INTERNAL', 'a spill file ended early');
    await writeAll(to, buf.subarray(0, bytesRead), position + copied);
    copied += bytesRead;
  }
  return copied;
}
