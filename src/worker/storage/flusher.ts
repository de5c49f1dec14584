// The flush policy (docs/architecture.md#worker): when buffered partition data goes to its
// storage. A partition writes once it holds a full buffer (the storage's bufferBytes); above
// worker.memoryFlushRatio of the memory budget — or, while pushes are paused, above the resume
// watermark — the largest buffers are written early; a commit writes everything, a bounded
// number of files at a time. Storages only store; writers only hold and copy; this decides.
import { mapLimit } from '../../common/flow/map-limit.js';
import type { Logger } from '../../common/obs/logger.js';
import type { MemoryManager } from '../memory/memory-manager.js';
import type { PartitionWriter } from './partition-writer.js';

export interface FlusherOptions {
  readonly memory: MemoryManager;
  /** worker.memoryFlushRatio: past this share of the budget, flush before pushes must pause. */
  readonly flushRatio: number;
  /** Every writer that may hold data. */
  readonly writers: () => Iterable<PartitionWriter>;
  /** Bytes already on their way to storage (every storage's write queue). */
  readonly queuedBytes: () => number;
  readonly logger: Logger;
}

/**
 * Partition files committed at once: each final flush takes a buffer, and a thousand at once
 * allocated a thousand (the pools hold a few dozen); the storages' write slots and libuv's
 * threads bound the parallelism anyway.
 */
export const COMMIT_CONCURRENCY = 16;

export class Flusher {
  readonly #opts: FlusherOptions;
  #scheduled = false;

  constructor(opts: FlusherOptions) {
    this.#opts = opts;
  }

  /** After an append: a writer holding a full buffer writes it. */
  afterAppend(writer: PartitionWriter): void {
    writer.flush('full');
  }

  /**
   * Flush the largest buffers first until what is buffered and not yet on its way out is
   * back under the resume watermark while pushes are paused, or under the flush watermark
   * before they have to pause: with many partitions that each stay below a full buffer,
   * nothing would otherwise leave memory until the commit. Deferred to the next turn of the
   * loop: the memory state changes inside a writer's copy, which must not be re-entered, and
   * one pass per turn is enough. Called after pushes, finished writes and memory transitions.
   */
  relieveSoon(): void {
    if (this.#scheduled || this.#excess() <= 0) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      const excess = this.#excess();
      if (excess <= 0) return;
      try {
        this.relieve(excess - this.#opts.queuedBytes());
      } catch (err) {
        // A failed flush marks its writer failed (its pushes get FAILED); the worker goes on.
        this.#opts.logger.error({ err }, 'flushing under memory pressure failed');
      }
    });
  }

  /** Memory pressure: flush the largest buffers first until `bytes` are on their way out. */
  relieve(bytes: number): void {
    if (bytes <= 0) return;
    // Only writers with at least one aligned write to make; committed ones hold nothing.
    const writers: PartitionWriter[] = [];
    for (const w of this.#opts.writers())
      if (w.bufferedBytes >= w.storage.writeAlignment) writers.push(w);
    writers.sort((a, b) => b.bufferedBytes - a.bufferedBytes);
    let freed = 0;
    for (const w of writers) {
      if (freed >= bytes) break;
      const before = w.bufferedBytes;
      w.flush('aligned');
      // What stays is the rest below writeAlignment: count only what left memory.
      freed += before - w.bufferedBytes;
    }
  }

  /**
   * Commits every writer, COMMIT_CONCURRENCY at a time; `commitOne` finishes one (final
   * write, durable, index) and records the result.
   */
  async commitAll(
    writers: readonly PartitionWriter[],
    commitOne: (w: PartitionWriter) => Promise<void>,
  ): Promise<void> {
    await mapLimit(writers, COMMIT_CONCURRENCY, commitOne);
  }

  /** Bytes to send to storage now: above the resume watermark if paused, else above the flush one. */
  #excess(): number {
    const memory = this.#opts.memory;
    if (memory.paused) return memory.excessBytes;
    return memory.usedBytes - this.#opts.flushRatio * memory.budgetBytes;
  }
}
