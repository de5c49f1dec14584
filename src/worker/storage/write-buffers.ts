// Pooled buffers for the write path, shared by every storage (storage.ts): staging pieces in
// which pushed bytes wait for a flush, and the aligned buffers a flush copies them into.
// Steady-state ingest allocates nothing: a buffer allocated per write costs a zero-filled
// allocation, page faults and garbage collection (bench/README.md).
import type { NativeOps } from '../../common/native.js';
import { ALIGNMENT } from './aligned-pool.js';

/**
 * Size of a staging piece (see takePiece). Its unfilled part is memory the budget does not
 * see: at most this much per partition with staged bytes (16 MiB for 1000 partitions).
 */
export const PIECE_BYTES = 16 * 1024;
/** Full pieces are carved from aligned slabs of this many (one allocation each). */
const PIECES_PER_SLAB = 64;
/**
 * A partition's first piece when what it stages fits: with 10^5-10^6 partitions of a few
 * records each, a 16 KiB piece per partition was gigabytes outside the budget (a worker
 * holding 667 000 partition files of a 10^6-partition shuffle: 10.9 GB).
 */
export const SMALL_PIECE_BYTES = 512;
/** Small pieces are carved from slabs of this many (one allocation each). */
const SMALL_PIECES_PER_SLAB = 128;
/** Idle small pieces kept (8 MiB). */
const MAX_IDLE_SMALL_PIECES = 16 * 1024;
/**
 * A partial write is made of aligned units of two sizes (see takeBuffers): 64 KiB (at most
 * bufferBytes) for the bulk, 4 KiB for the rest, so any partial write reuses what earlier
 * ones gave back and takes no more than it writes, rounded up to 4 KiB. Units are carved
 * from slabs (one allocation each): the pure-JS fallback gives every aligned allocation a
 * WebAssembly.Memory, of which only ~13,000 can be live at once (common/native.ts).
 */
const UNIT_BYTES = 64 * 1024;
const UNIT_SLAB_BYTES = 1024 * 1024;
/** Idle 4 KiB units kept (4 MiB), carved 64 to a slab. */
const MAX_IDLE_SMALL_UNITS = 1024;
const SMALL_UNITS_PER_SLAB = 64;

/**
 * How often idle full pieces that no load needed are let go (trimIdle): those that stayed idle
 * through a whole interval. Under load the pool keeps what the load uses, so nothing is
 * dropped and allocated again; once a load stops, its pieces go within two intervals.
 */
export const PIECE_TRIM_INTERVAL_MS = 30_000;

/** Idle aligned buffers of one size. */
interface BufferPool {
  readonly size: number;
  readonly idle: Buffer[];
  readonly maxIdle: number;
  /** Buffers carved from one allocation when the pool is empty. */
  readonly perSlab: number;
}

export function alignUp(n: number, alignment = ALIGNMENT): number {
  return Math.ceil(n / alignment) * alignment;
}

export function alignDown(n: number, alignment = ALIGNMENT): number {
  return Math.floor(n / alignment) * alignment;
}

export interface WriteBuffersOptions {
  /** Size of a full buffer (a multiple of 4 KiB). */
  readonly bufferBytes: number;
  /** Idle full buffers kept for reuse. */
  readonly keep: number;
  /**
   * Idle staging pieces kept for reuse at most (default: as many bytes as `keep` full
   * buffers). Every pushed byte waits in a piece until its flush, so this is the pool that
   * turns over fastest: a piece dropped past this limit is allocated again, zero-filled, with
   * page faults. Pieces no load needed for PIECE_TRIM_INTERVAL_MS are dropped (trimIdle).
   */
  readonly keepPieces?: number;
  readonly native: NativeOps;
}

export class WriteBuffers {
  readonly bufferBytes: number;
  readonly #native: NativeOps;
  /** Full-size buffers (bufferBytes), then the partial-write units (the same pool when
   *  bufferBytes <= 64 KiB), then the 4 KiB units. */
  readonly #pools: readonly [BufferPool, BufferPool, BufferPool];
  readonly #pieces: Buffer[] = [];
  readonly #maxIdlePieces: number;
  readonly #smallPieces: Buffer[] = [];
  /** The fewest idle full pieces since the last trim: pieces no take reached. */
  #untouchedPieces = 0;
  readonly #trimTimer: NodeJS.Timeout;

  constructor(opts: WriteBuffersOptions) {
    if (opts.bufferBytes <= 0 || opts.bufferBytes % ALIGNMENT !== 0)
      throw new RangeError(`bufferBytes must be a positive multiple of ${ALIGNMENT}`);
    this.bufferBytes = opts.bufferBytes;
    this.#native = opts.native;
    this.#maxIdlePieces =
      opts.keepPieces ?? Math.max(1024, Math.floor((opts.keep * opts.bufferBytes) / PIECE_BYTES));
    const full = { size: opts.bufferBytes, idle: [], maxIdle: opts.keep, perSlab: 1 };
    const unitBytes = Math.min(UNIT_BYTES, opts.bufferBytes);
    this.#pools = [
      full,
      unitBytes === opts.bufferBytes
        ? full
        : {
            size: unitBytes,
            idle: [],
            maxIdle: Math.max(1, Math.floor((opts.keep * opts.bufferBytes) / 2 / unitBytes)),
            perSlab: UNIT_SLAB_BYTES / unitBytes,
          },
      { size: ALIGNMENT, idle: [], maxIdle: MAX_IDLE_SMALL_UNITS, perSlab: SMALL_UNITS_PER_SLAB },
    ];
    this.#trimTimer = setInterval(() => this.trimIdle(), PIECE_TRIM_INTERVAL_MS);
    this.#trimTimer.unref();
  }

  /** Idle full pieces (tests, gauges). */
  get idlePieces(): number {
    return this.#pieces.length;
  }

  /**
   * Drops the idle full pieces that no take reached since the last call, and returns how
   * many. Pieces are taken from the top of the idle stack, so those are its bottom ones.
   * Memory comes back once every piece of a slab is dropped, as happens when a load stops.
   */
  trimIdle(): number {
    const untouched = this.#untouchedPieces;
    if (untouched > 0) this.#pieces.splice(0, untouched);
    this.#untouchedPieces = this.#pieces.length;
    return untouched;
  }

  /** Stops the trimming timer; the pools are left to the garbage collector. */
  close(): void {
    clearInterval(this.#trimTimer);
  }

  /**
   * Aligned buffers for a write of `bytes`: one pooled buffer of bufferBytes when that much
   * is wanted, otherwise pooled units (partial flushes under memory pressure, final writes at
   * commit): 64 KiB ones (at most bufferBytes), then 4 KiB ones up to `bytes` rounded up to
   * 4 KiB. Buffers in size classes left the pool full of idle buffers of the wrong sizes, and
   * bench scenario 5's partial flushes allocated nearly every one.
   */
  take(bytes = this.bufferBytes): Buffer[] {
    const [full, units, small] = this.#pools;
    if (bytes >= this.bufferBytes) return [this.#take(full)];
    const total = alignUp(Math.max(1, bytes));
    const bufs: Buffer[] = [];
    for (let n = Math.floor(total / units.size); n > 0; n--) bufs.push(this.#take(units));
    for (let n = (total % units.size) / ALIGNMENT; n > 0; n--) bufs.push(this.#take(small));
    return bufs;
  }

  /** Hands back what take gave; the caller must hold no reference to them any more. */
  give(bufs: readonly Buffer[]): void {
    for (const buf of bufs) {
      const pool = this.#pools.find((p) => p.size === buf.length);
      if (pool && pool.idle.length < pool.maxIdle) pool.idle.push(buf);
    }
  }

  /**
   * A buffer in which partition writers stage pushed bytes until a flush: PIECE_BYTES, aligned
   * like the full buffers so that full pieces can be written as they are, or
   * SMALL_PIECE_BYTES (not aligned; copied out at the flush) for a partition's first bytes
   * when they fit.
   */
  takePiece(size: 'small' | 'full' = 'full'): Buffer {
    if (size === 'full') {
      const idle = this.#pieces.pop();
      this.#untouchedPieces = Math.min(this.#untouchedPieces, this.#pieces.length);
      if (idle) return idle;
      const slab = this.#native.alignedBuffer(PIECE_BYTES * PIECES_PER_SLAB, ALIGNMENT);
      for (let i = 1; i < PIECES_PER_SLAB; i++)
        this.#pieces.push(slab.subarray(i * PIECE_BYTES, (i + 1) * PIECE_BYTES));
      return slab.subarray(0, PIECE_BYTES);
    }
    const idle = this.#smallPieces.pop();
    if (idle) return idle;
    const slab = Buffer.allocUnsafeSlow(SMALL_PIECE_BYTES * SMALL_PIECES_PER_SLAB);
    for (let i = 1; i < SMALL_PIECES_PER_SLAB; i++)
      this.#smallPieces.push(slab.subarray(i * SMALL_PIECE_BYTES, (i + 1) * SMALL_PIECE_BYTES));
    return slab.subarray(0, SMALL_PIECE_BYTES);
  }

  /** The caller must hold no reference to the piece any more. */
  givePiece(piece: Buffer): void {
    if (piece.length === SMALL_PIECE_BYTES) {
      if (this.#smallPieces.length < MAX_IDLE_SMALL_PIECES) this.#smallPieces.push(piece);
    } else if (this.#pieces.length < this.#maxIdlePieces) this.#pieces.push(piece);
  }

  #take(pool: BufferPool): Buffer {
    const idle = pool.idle.pop();
    if (idle) return idle;
    const slab = this.#native.alignedBuffer(pool.size * pool.perSlab, ALIGNMENT);
    for (let i = 1; i < pool.perSlab; i++)
      pool.idle.push(slab.subarray(i * pool.size, (i + 1) * pool.size));
    return slab.subarray(0, pool.size);
  }
}
