// One local disk (docs/architecture.md#flush-and-commit): files opened with O_DIRECT where the filesystem
// accepts it (buffered otherwise), a bounded number of writes in flight, and a pool of
// aligned buffers so O_DIRECT writes never allocate on the hot path. Measured on this
// machine: O_DIRECT with 4 KiB-aligned buffers and several writes in flight reaches
// ~1.6-1.9 GB/s, buffered writes from Node only ~0.5 GB/s.
import { constants, promises as fsp, statfsSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { NativeOps } from '../../common/native.js';
import { sliceParts } from '../../common/wire/parts.js';
import { ALIGNMENT } from './aligned-pool.js';

export { ALIGNMENT };
/**
 * Size of a staging piece (see takePiece). Its unfilled part is memory the budget does not
 * see: at most this much per partition with staged bytes (16 MiB for 1000 partitions).
 */
const PIECE_BYTES = 16 * 1024;
/** Idle staging pieces kept per disk (16 MiB). */
const MAX_IDLE_PIECES = 1024;
/**
 * A partial write is made of aligned units of two sizes (see takeBuffers): 64 KiB (at most
 * bufferBytes) for the bulk, 4 KiB for the rest, so any partial write reuses what earlier
 * ones gave back and takes no more than it writes, rounded up to 4 KiB. Units are carved
 * from slabs (one allocation each): the pure-JS fallback gives every aligned allocation a
 * WebAssembly.Memory, of which only ~13,000 can be live at once (common/native.ts).
 */
const UNIT_BYTES = 64 * 1024;
const UNIT_SLAB_BYTES = 1024 * 1024;
/** Idle 4 KiB units kept per disk (4 MiB), carved 64 to a slab. */
const MAX_IDLE_SMALL_UNITS = 1024;
const SMALL_UNITS_PER_SLAB = 64;

/** Idle aligned buffers of one size. */
interface BufferPool {
  readonly size: number;
  readonly idle: Buffer[];
  readonly maxIdle: number;
  /** Buffers carved from one allocation when the pool is empty. */
  readonly perSlab: number;
}

export interface LocalDiskOptions {
  readonly dir: string;
  readonly writesInFlight: number;
  readonly directIo: boolean;
  /** Size of each pooled aligned buffer (a multiple of ALIGNMENT). */
  readonly bufferBytes: number;
  /**
   * Idle aligned buffers kept for reuse (default writesInFlight × 4). Many partitions filling
   * at once queue more writes than there are slots; a buffer allocated per write costs a
   * zero-filled allocation, page faults and garbage collection (measured: bench/README).
   */
  readonly poolBuffers?: number;
  readonly native: NativeOps;
  /** Fault injection (test.diskWriteBytesPerSec): a slow disk. 0 = full speed. */
  readonly throttleBytesPerSec?: number;
  /** Called after every completed write (metrics). */
  readonly onWrite?: (bytes: number, seconds: number) => void;
}

export interface DiskFile {
  readonly path: string;
  readonly handle: FileHandle;
  readonly direct: boolean;
}

export function alignUp(n: number): number {
  return Math.ceil(n / ALIGNMENT) * ALIGNMENT;
}

export function alignDown(n: number): number {
  return Math.floor(n / ALIGNMENT) * ALIGNMENT;
}

export class LocalDisk {
  readonly dir: string;
  readonly #opts: LocalDiskOptions;
  /** Full-size buffers (bufferBytes), then the partial-write units (the same pool when
   *  bufferBytes <= 64 KiB), then the 4 KiB units. */
  readonly #pools: readonly BufferPool[];
  readonly #pieces: Buffer[] = [];
  readonly #waiters: (() => void)[] = [];
  #inFlight = 0;
  #queuedBytes = 0;
  #throttleFreeAt = 0;
  /** False once the filesystem refused O_DIRECT; later files go buffered right away. */
  #directWorks: boolean;

  constructor(opts: LocalDiskOptions) {
    if (opts.bufferBytes % ALIGNMENT !== 0)
      throw new RangeError(`bufferBytes must be a multiple of ${ALIGNMENT}`);
    this.dir = opts.dir;
    this.#opts = opts;
    this.#directWorks = opts.directIo;
    // Flushes of many partitions often queue more writes than there are slots: keep enough
    // buffers that the steady state does not allocate (and garbage-collect) per write.
    const keep = opts.poolBuffers ?? opts.writesInFlight * 4;
    const full = { size: opts.bufferBytes, idle: [], maxIdle: keep, perSlab: 1 };
    const unitBytes = Math.min(UNIT_BYTES, opts.bufferBytes);
    this.#pools = [
      full,
      unitBytes === opts.bufferBytes
        ? full
        : {
            size: unitBytes,
            idle: [],
            maxIdle: Math.max(1, Math.floor((keep * opts.bufferBytes) / 2 / unitBytes)),
            perSlab: UNIT_SLAB_BYTES / unitBytes,
          },
      { size: ALIGNMENT, idle: [], maxIdle: MAX_IDLE_SMALL_UNITS, perSlab: SMALL_UNITS_PER_SLAB },
    ];
  }

  get directIo(): boolean {
    return this.#directWorks;
  }

  /** Bytes waiting for or in a write: the disk's share of the flush queue. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  get bufferBytes(): number {
    return this.#opts.bufferBytes;
  }

  space(): { capacityBytes: number; freeBytes: number } {
    const s = statfsSync(this.dir);
    return { capacityBytes: s.blocks * s.bsize, freeBytes: s.bavail * s.bsize };
  }

  async create(path: string): Promise<DiskFile> {
    await fsp.mkdir(dirname(path), { recursive: true });
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC;
    if (this.#directWorks) {
      try {
        return {
          path,
          handle: await fsp.open(path, flags | constants.O_DIRECT, 0o644),
          direct: true,
        };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
        this.#directWorks = false; // e.g. tmpfs: fall back to buffered writes for good
      }
    }
    return { path, handle: await fsp.open(path, flags, 0o644), direct: false };
  }

  /**
   * Aligned buffers for a write of `bytes`: one pooled buffer of bufferBytes when that much
   * is wanted, otherwise pooled units (partial flushes under memory pressure, final writes at
   * commit): 64 KiB ones (at most bufferBytes), then 4 KiB ones up to `bytes` rounded up to
   * 4 KiB. write() takes the list. Buffers in size classes left the pool full of idle buffers
   * of the wrong sizes, and bench scenario 5's partial flushes allocated nearly every one.
   */
  takeBuffers(bytes = this.#opts.bufferBytes): Buffer[] {
    const [full, units, small] = this.#pools as [BufferPool, BufferPool, BufferPool];
    if (bytes >= this.#opts.bufferBytes) return [this.#take(full)];
    const total = alignUp(Math.max(1, bytes));
    const bufs: Buffer[] = [];
    for (let n = Math.floor(total / units.size); n > 0; n--) bufs.push(this.#take(units));
    for (let n = (total % units.size) / ALIGNMENT; n > 0; n--) bufs.push(this.#take(small));
    return bufs;
  }

  /**
   * A PIECE_BYTES buffer in which partition writers stage pushed bytes until a flush copies
   * them into aligned buffers. Pooled: steady-state ingest allocates nothing.
   */
  takePiece(): Buffer {
    return this.#pieces.pop() ?? Buffer.allocUnsafeSlow(PIECE_BYTES);
  }

  /** The caller must hold no reference to the piece any more. */
  returnPiece(piece: Buffer): void {
    if (this.#pieces.length < MAX_IDLE_PIECES) this.#pieces.push(piece);
  }

  /** Hands back what takeBuffers gave; the caller must hold no reference to them any more. */
  returnBuffers(bufs: readonly Buffer[]): void {
    for (const buf of bufs) {
      const pool = this.#pools.find((p) => p.size === buf.length);
      if (pool && pool.idle.length < pool.maxIdle) pool.idle.push(buf);
    }
  }

  #take(pool: BufferPool): Buffer {
    const idle = pool.idle.pop();
    if (idle) return idle;
    const slab = this.#opts.native.alignedBuffer(pool.size * pool.perSlab, ALIGNMENT);
    for (let i = 1; i < pool.perSlab; i++)
      pool.idle.push(slab.subarray(i * pool.size, (i + 1) * pool.size));
    return slab.subarray(0, pool.size);
  }

  /**
   * Writes the first `length` bytes of `bufs` (one buffer, or several written in order with
   * pwritev) at `position`, waiting for a free write slot first. For O_DIRECT files every
   * buffer, the position and the length must be aligned (the caller pads).
   */
  async write(
    file: DiskFile,
    bufs: readonly Buffer[],
    length: number,
    position: number,
  ): Promise<void> {
    this.#queuedBytes += length;
    try {
      await this.#slot();
      try {
        await this.#throttle(length);
        const started = process.hrtime.bigint();
        let done = 0;
        while (done < length) {
          const { bytesWritten } =
            bufs.length === 1
              ? await file.handle.write(bufs[0]!, done, length - done, position + done)
              : await file.handle.writev(sliceParts(bufs, done, length), position + done);
          if (bytesWritten === 0) throw new Error(`short write to ${file.path}`);
          done += bytesWritten;
        }
        // Buffered files (O_DIRECT refused): start writeback now so dirty pages do not pile
        // up until the commit's fsync (docs/architecture.md#worker); O_DIRECT writes bypass the page cache.
        if (!file.direct) this.#opts.native.syncFileRange(file.handle.fd, position, length);
        this.#opts.onWrite?.(length, Number(process.hrtime.bigint() - started) / 1e9);
      } finally {
        this.#release();
      }
    } finally {
      this.#queuedBytes -= length;
    }
  }

  async #slot(): Promise<void> {
    if (this.#inFlight < this.#opts.writesInFlight) {
      this.#inFlight++;
      return;
    }
    await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  #release(): void {
    const next = this.#waiters.shift();
    if (next) next();
    else this.#inFlight--;
  }

  async #throttle(length: number): Promise<void> {
    const rate = this.#opts.throttleBytesPerSec ?? 0;
    if (rate <= 0) return;
    const now = Date.now();
    const start = Math.max(now, this.#throttleFreeAt);
    this.#throttleFreeAt = start + (length / rate) * 1000;
    await sleep(this.#throttleFreeAt - now);
  }
}
