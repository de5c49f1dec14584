// How many partition files a worker keeps open for writing (docs/architecture.md#open-files).
// A partition's file is opened at its first flush and written until the commit; a shuffle of 10^5 partitions whose data outgrows memory would hold 10^5 descriptors
// and fail with EMFILE past the process's limit (20 000 on these machines), and every file
// that failed so would be lost on this worker. Past the budget, the least recently written
// file with no write in flight is closed, and opened again (without truncating) at its next
// write. Shared by every local disk of the worker: they share the process's limit.
import { readFileSync } from 'node:fs';

/** A file whose descriptor the budget may take back while it is idle. */
export interface Reopenable {
  /** Writes in flight (or an open in progress): never closed while true. */
  readonly busy: boolean;
  /** Closes the descriptor; the next write opens it again (through admit()). */
  release(): Promise<void>;
}

export class OpenFiles {
  readonly limit: number;
  /** Open files, least recently used first (a Map keeps insertion order). */
  readonly #open = new Map<Reopenable, true>();
  /** Opens admitted and not yet done. */
  #opening = 0;
  /** Admissions waiting for an open file to be closed or to become idle. */
  readonly #waiting: (() => void)[] = [];
  /** Descriptors closed to stay within the budget. */
  reopened = 0;

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`the open-file budget must be a positive integer, got ${limit}`);
    this.limit = limit;
  }

  /** Files open, and opens in progress. */
  get count(): number {
    return this.#open.size + this.#opening;
  }

  /**
   * Waits for room to open one more file: closes the least recently used idle files past the
   * budget, or, when every open file has a write in flight, waits for one to finish. Follow
   * with opened() or abandoned().
   */
  async admit(): Promise<void> {
    while (this.count >= this.limit) {
      const idle = this.#oldestIdle();
      if (idle) {
        this.#open.delete(idle);
        this.reopened++;
        this.#opening++; // the room stays taken while the idle file closes
        try {
          await idle.release();
        } finally {
          this.#opening--;
        }
      } else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
    this.#opening++;
  }

  /** The least recently used open file with no write in flight (no copy of the list). */
  #oldestIdle(): Reopenable | undefined {
    for (const f of this.#open.keys()) if (!f.busy) return f;
    return undefined;
  }

  /** The admitted open succeeded: `file` holds a descriptor. */
  opened(file: Reopenable): void {
    this.#opening--;
    this.#open.set(file, true);
    this.wake(); // idle until its first write: an admission waiting may close it
  }

  /** The admitted open failed. */
  abandoned(): void {
    this.#opening--;
    this.wake();
  }

  /** `file` is being written: it becomes the most recently used. */
  touch(file: Reopenable): void {
    if (!this.#open.delete(file)) return;
    this.#open.set(file, true);
  }

  /** `file` closed its descriptor for good (committed or aborted). */
  forget(file: Reopenable): void {
    if (this.#open.delete(file)) this.wake();
  }

  /** A file may have become idle or closed: let a waiting admission look again. */
  wake(): void {
    this.#waiting.shift()?.();
  }
}

/**
 * The default budget: a quarter of the process's soft limit on descriptors (RLIMIT_NOFILE,
 * from /proc/self/limits; 1024 where that cannot be read), leaving the rest to connections,
 * read streams (worker.maxOpenStreams) and the rest of the process, and at least 64.
 */
export function defaultOpenFileBudget(limits = readLimits()): number {
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(limits);
  const soft = m?.[1] === 'unlimited' ? 1 << 20 : Number(m?.[1] ?? 1024);
  return Math.max(64, Math.floor(soft / 4));
}

/** /proc/self/limits, or '' where there is none. */
function readLimits(): string {
  try {
    return readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return '';
  }
}
