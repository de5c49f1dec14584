// Pooled receive memory for the framed server (framed-server.ts): a plain-TCP connection reads
// straight into slabs taken from a server-wide pool (net.Socket's `onread`) instead of Node
// allocating a fresh 64 KiB Buffer per read. Fresh Buffers are external memory, and at 1 GB/s
// they made the worker's garbage collector its largest single cost (bench/README.md).
//
// A connection reads into the rest of its current slab; once less than MIN_READ_BYTES is left
// it moves to a new one. A slab goes back to the pool only when nothing can still look at it:
// it is no longer the current slab, the frame in progress starts after it, and every frame
// that began before its end has been handled. Bytes are tracked by their offset in the
// connection's stream, so no per-chunk reference counting is needed. Handlers therefore may
// look at a frame's bytes only until their handle() settles: whatever keeps bytes longer must
// copy them (the partition writers do).
import { Socket } from 'node:net';

/**
 * A read gets at least this much room; a slab with less left is retired. It is also the most
 * a read takes while memory is paused (the bound 'data' events had: a frame in progress grows
 * by at most one read once the server stops reading).
 */
export const MIN_READ_BYTES = 64 * 1024;
/** Slab size: a read takes what has arrived, up to the room left (fewer, larger reads). */
export const RECEIVE_SLAB_BYTES = 256 * 1024;

/**
 * Set in the test suite (vitest.config.ts): slabs given back are overwritten with this byte,
 * so a handler that kept a view of a frame past its handle() reads garbage (CRC errors,
 * corrupt records) instead of passing by luck.
 */
const POISON = process.env.TEST_POISON_RECEIVE_BUFFERS === '1' ? 0xee : undefined;

export class ReceivePool {
  readonly slabBytes: number;
  readonly #maxIdle: number;
  readonly #idle: Buffer[] = [];

  /** `maxIdle`: slabs kept for reuse (those of open connections are not in the pool). */
  constructor(opts: { slabBytes: number; maxIdle: number }) {
    this.slabBytes = opts.slabBytes;
    this.#maxIdle = opts.maxIdle;
  }

  take(): Buffer {
    return this.#idle.pop() ?? Buffer.allocUnsafeSlow(this.slabBytes);
  }

  give(slab: Buffer): void {
    if (POISON !== undefined) slab.fill(POISON);
    if (this.#idle.length < this.#maxIdle) this.#idle.push(slab);
  }

  get idle(): number {
    return this.#idle.length;
  }
}

/**
 * A connection starts on small slabs (SMALL_SLAB_BYTES), enough for requests: every open
 * connection holds its current slab, and most only ever send small frames (fetches). Its
 * first read of SMALL_SLAB_BYTES / 2 or more moves it to large ones for good.
 */
export const SMALL_SLAB_BYTES = 16 * 1024;
const SMALL_MIN_READ_BYTES = 4 * 1024;

/** A server's two pools of slabs: small ones for new connections, large ones for pushes. */
export class ReceivePools {
  readonly small: ReceivePool;
  readonly large: ReceivePool;

  constructor(opts: { largeSlabBytes?: number } = {}) {
    this.small = new ReceivePool({ slabBytes: SMALL_SLAB_BYTES, maxIdle: 256 });
    this.large = new ReceivePool({
      slabBytes: Math.max(opts.largeSlabBytes ?? RECEIVE_SLAB_BYTES, MIN_READ_BYTES),
      maxIdle: 64,
    });
  }

  give(slab: Buffer): void {
    (slab.length === this.small.slabBytes ? this.small : this.large).give(slab);
  }
}

interface Slab {
  readonly buf: Buffer;
  /** Stream offset of buf[0]. */
  readonly start: number;
}

/**
 * One connection's slabs. `lowWater` is the caller's lowest stream offset still in use (the
 * first byte of the oldest frame not yet handled, or of the frame in progress).
 */
export class ReceiveBuffers {
  readonly #pools: ReceivePools;
  readonly #smallReads: () => boolean;
  readonly #slabs: Slab[] = [];
  #large = false;
  /** Bytes used of the current (last) slab. */
  #used = 0;
  #received = 0;
  #stopped = false;

  /** `smallReads`: while it holds, reads take at most MIN_READ_BYTES (memory pressure). */
  constructor(pools: ReceivePools, smallReads: () => boolean = () => false) {
    this.#pools = pools;
    this.#smallReads = smallReads;
  }

  /** Bytes received so far: the stream offset of the next byte. */
  get received(): number {
    return this.#received;
  }

  /** Slabs held (tests, gauges). */
  get slabs(): number {
    return this.#slabs.length;
  }

  /** The room for the next read (onread's buffer supplier). */
  nextBuffer(): Buffer {
    // A closing connection drains what the peer still sends into memory of its own.
    if (this.#stopped) return Buffer.allocUnsafe(SMALL_SLAB_BYTES);
    const pool = this.#large ? this.#pools.large : this.#pools.small;
    const minRead = this.#large ? MIN_READ_BYTES : SMALL_MIN_READ_BYTES;
    let current = this.#slabs.at(-1);
    if (
      current === undefined ||
      current.buf.length !== pool.slabBytes ||
      current.buf.length - this.#used < minRead
    ) {
      current = { buf: pool.take(), start: this.#received };
      this.#slabs.push(current);
      this.#used = 0;
    }
    const end = this.#smallReads() ? this.#used + MIN_READ_BYTES : current.buf.length;
    return current.buf.subarray(this.#used, end);
  }

  /** `n` bytes were read into `buf` (what nextBuffer returned): a view of them. */
  filled(n: number, buf: Buffer): Buffer {
    this.#used += n;
    this.#received += n;
    if (n >= SMALL_SLAB_BYTES / 2) this.#large = true;
    return buf.subarray(0, n);
  }

  /** Gives back every slab before the current one that ends at or below `lowWater`. */
  release(lowWater: number): void {
    if (this.#stopped) return;
    while (this.#slabs.length > 1 && this.#slabs[1]!.start <= lowWater)
      this.#pools.give(this.#slabs.shift()!.buf);
  }

  /** The connection is closing: nothing more is given back or read into its slabs. */
  stop(): void {
    this.#stopped = true;
  }

  /**
   * Every slab back to the pool: only once the socket has closed (nothing reads into them)
   * and every request of the connection has settled (nothing looks at them). A connection
   * destroyed with requests still running never calls this: its slabs are left to the
   * garbage collector.
   */
  giveBack(): void {
    for (const slab of this.#slabs.splice(0)) this.#pools.give(slab.buf);
  }
}

interface HandleOwner {
  _handle: unknown;
}

/**
 * Moves an accepted socket's handle (accepted with pauseOnConnect, nothing read yet) to a new
 * Socket that reads into `buffers` and calls `onChunk` with each read. `net.Server` takes no
 * `onread` option, so this is the way to one; `_handle` is not public API, and the test of
 * this file (receive-buffers.test.ts) fails if a Node release changes how it behaves.
 * Returns undefined when the socket has no handle to move (it closed meanwhile).
 */
export function adoptSocket(
  accepted: Socket,
  buffers: ReceiveBuffers,
  onChunk: (chunk: Buffer) => void,
): Socket | undefined {
  const owner = accepted as unknown as HandleOwner;
  const handle = owner._handle;
  if (!handle) return undefined;
  const socket = new Socket({
    handle,
    readable: true,
    writable: true,
    onread: {
      buffer: () => buffers.nextBuffer(),
      callback: (n: number, buf: Uint8Array) => {
        onChunk(buffers.filled(n, buf as Buffer));
      },
    },
  } as ConstructorParameters<typeof Socket>[0]);
  // The old Socket no longer owns the handle: destroying it closes nothing, and counts the
  // connection gone on the net.Server (whose close() would otherwise wait for it for ever).
  owner._handle = null;
  accepted.destroy();
  return socket;
}
