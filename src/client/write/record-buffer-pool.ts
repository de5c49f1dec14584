// Per-partition record buffers recycled between the writers of one ShuffleClient. A map task's
// buffers grow (by doubling) to its partitions' sizes and the task ends: without a pool the
// next task grows a new set from scratch. In bench scenario 5 (1000 partitions × 10 KiB per
// map) that was four allocations and four copies per partition per map, and with the garbage
// collection they caused about 30% of an executor's CPU.
import { RecordBuffer } from '../records.js';

/**
 * Capacity of a buffer the pool has none to give for. Small: a writer of 10^6 partitions with a
 * few records each holds one buffer per partition until it closes, and at 1 KiB each that was
 * 1 GiB for ~20 MB of records (bench:large's process peaked at 4.7 GB with two such writers).
 */
export const INITIAL_BYTES = 64;

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
   * use: reset(false) has handed such memory over). Dropped when the pool is full, or when it
   * never grew: a new one costs no more, and keeping a million of them alive between tasks
   * would cost every garbage collection.
   */
  give(b: RecordBuffer): void {
    b.reset(true);
    if (b.capacity <= INITIAL_BYTES || this.#bytes + b.capacity > this.#maxBytes) return;
    this.#free.push(b);
    this.#bytes += b.capacity;
  }
}
