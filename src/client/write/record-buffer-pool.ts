// Per-partition record buffers recycled between the writers of one ShuffleClient. A map task's
// buffers grow (by doubling) to its partitions' sizes and the task ends: without a pool the
// next task grows a new set from scratch. In bench scenario 5 (1000 partitions × 10 KiB per
// map) that was four allocations and four copies per partition per map, and with the garbage
// collection they caused about 30% of an executor's CPU.
import { RecordBuffer } from '../records.js';

/** Capacity of a buffer the pool has none to give for. */
const INITIAL_BYTES = 1024;

export class RecordBufferPool {
  readonly #maxBytes: number;
  readonly #free: RecordBuffer[] = [];
  #bytes = 0;

  /** Keeps at most `maxBytes` of buffer capacity while no writer uses it. */
  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** Capacity held in the pool (for tests). */
  get bytes(): number {
    return this.#bytes;
  }

  /** An empty buffer, recycled when the pool has one. */
  take(): RecordBuffer {
    const b = this.#free.pop();
    if (!b) return new RecordBuffer(INITIAL_BYTES);
    this.#bytes -= b.capacity;
    return b;
  }

  /**
   * Takes back a buffer nothing else refers to (its memory is not aliased by a block still in
   * use: reset(false) has handed such memory over). Dropped when the pool is full.
   */
  give(b: RecordBuffer): void {
    b.reset(true);
    if (this.#bytes + b.capacity > this.#maxBytes) return;
    this.#free.push(b);
    this.#bytes += b.capacity;
  }
}
