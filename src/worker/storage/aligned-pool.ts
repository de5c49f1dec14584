// Reusable 4 KiB-aligned buffers for O_DIRECT reads (the read server's chunks), in size
// classes: multiples of 4 KiB below 64 KiB, of 64 KiB above (a buffer is at most 64 KiB
// larger than asked for). A fresh aligned buffer is zero-filled memory the kernel must fault
// in page by page, and the garbage collector must later free. Chunks are mostly of a few
// sizes (chunkBytes, and the short last chunk), so classes suit them; partial writes, whose
// sizes are spread over every class, use LocalDisk's fixed-size units instead. Idle buffers
// are kept up to maxIdleBytes.
import type { NativeOps } from '../../common/native.js';

export const ALIGNMENT = 4096;
const CLASS_STEP_BYTES = 64 * 1024;

export class AlignedPool {
  readonly #native: NativeOps;
  readonly #maxIdleBytes: number;
  readonly #idle = new Map<number, Buffer[]>();
  #idleBytes = 0;

  constructor(native: NativeOps, maxIdleBytes: number) {
    this.#native = native;
    this.#maxIdleBytes = maxIdleBytes;
  }

  /** Size of the class that holds `bytes`. */
  static classOf(bytes: number): number {
    const step = bytes <= CLASS_STEP_BYTES ? ALIGNMENT : CLASS_STEP_BYTES;
    return Math.max(ALIGNMENT, Math.ceil(bytes / step) * step);
  }

  get idleBytes(): number {
    return this.#idleBytes;
  }

  /** An aligned buffer of classOf(bytes) bytes (so at least `bytes`, at most 64 KiB more). */
  take(bytes: number): Buffer {
    const size = AlignedPool.classOf(bytes);
    const buf = this.#idle.get(size)?.pop();
    if (buf) {
      this.#idleBytes -= size;
      return buf;
    }
    return this.#native.alignedBuffer(size, ALIGNMENT);
  }

  /** Hands a buffer from take() back; the caller must hold no reference to it any more. */
  give(buf: Buffer): void {
    const size = buf.length;
    if (size !== AlignedPool.classOf(size) || this.#idleBytes + size > this.#maxIdleBytes) return;
    let list = this.#idle.get(size);
    if (!list) this.#idle.set(size, (list = []));
    list.push(buf);
    this.#idleBytes += size;
  }
}
