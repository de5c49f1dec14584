// Flow control of pushes (docs/architecture.md#lifecycle-of-one-shuffle): an AIMD window of unacknowledged pushes per worker
// (ceiling maxInFlightPerWorker; an OK_CONGESTED ack halves it, every clean ack adds
// 1/window, i.e. about one per round trip) and a byte budget for the whole client.
//
// A dual push needs a slot on two workers. Both are taken at once or not at all: taking one
// and waiting for the other could deadlock two pushes that hold each other's second worker.

export type PushOutcome = 'ok' | 'congested' | 'failed';

interface Waiter {
  /** Arrival order: of the waiters a release can wake, the oldest goes first. */
  readonly seq: number;
  readonly wake: () => void;
}

/** The pushes waiting for one list of workers, oldest first (from `head`). */
interface Line {
  readonly key: string;
  readonly workers: readonly string[];
  readonly waiters: (Waiter | undefined)[];
  head: number;
}

interface Window {
  size: number;
  inFlight: number;
  /** The lines of waiters that need this worker. */
  readonly lines: Set<Line>;
}

export class PushWindows {
  readonly #max: number;
  readonly #windows = new Map<string, Window>();
  /**
   * Waiting pushes by the workers they need. A release of worker X looks only at the lines
   * that need X, and only at each line's oldest waiter (the others need the same workers):
   * its cost does not grow with the number of waiting pushes. A writer of 10^6 partitions
   * seals its 10^4 groups at close, and scanning every waiter at every release cost
   * O(waiters^2): 35 s for 2 x 10^4 pushes waiting.
   */
  readonly #lines = new Map<string, Line>();
  #seq = 0;

  constructor(maxInFlightPerWorker: number) {
    this.#max = maxInFlightPerWorker;
  }

  /** Current window of a worker (for tests and metrics). */
  size(workerId: string): number {
    return this.#window(workerId).size;
  }

  inFlight(workerId: string): number {
    return this.#window(workerId).inFlight;
  }

  acquire(workers: readonly string[]): Promise<void> {
    if (this.#free(workers)) {
      this.#take(workers);
      return Promise.resolve();
    }
    return new Promise((wake) => this.#line(workers).waiters.push({ seq: this.#seq++, wake }));
  }

  release(workerId: string, outcome: PushOutcome): void {
    const w = this.#window(workerId);
    w.inFlight--;
    if (outcome === 'ok') w.size = Math.min(this.#max, w.size + 1 / w.size);
    else if (outcome === 'congested') w.size = Math.max(1, w.size / 2);
    this.#wake(w);
  }

  /** Wakes the oldest waiters that need `w` and whose workers all have a free slot. */
  #wake(w: Window): void {
    for (;;) {
      let next: Line | undefined;
      for (const line of w.lines)
        if (
          (!next || line.waiters[line.head]!.seq < next.waiters[next.head]!.seq) &&
          this.#free(line.workers)
        )
          next = line;
      if (!next) return;
      const waiter = next.waiters[next.head]!;
      next.waiters[next.head++] = undefined;
      if (next.head === next.waiters.length) this.#dropLine(next);
      this.#take(next.workers);
      waiter.wake();
    }
  }

  #line(workers: readonly string[]): Line {
    const key = workers.join('\0');
    let line = this.#lines.get(key);
    if (!line) {
      line = { key, workers, waiters: [], head: 0 };
      this.#lines.set(key, line);
      for (const id of workers) this.#window(id).lines.add(line);
    }
    return line;
  }

  #dropLine(line: Line): void {
    this.#lines.delete(line.key);
    for (const id of line.workers) this.#window(id).lines.delete(line);
  }

  #free(workers: readonly string[]): boolean {
    return workers.every((id) => {
      const w = this.#window(id);
      return w.inFlight < Math.floor(w.size);
    });
  }

  #take(workers: readonly string[]): void {
    for (const id of workers) this.#window(id).inFlight++;
  }

  #window(workerId: string): Window {
    let w = this.#windows.get(workerId);
    if (!w) {
      w = { size: this.#max, inFlight: 0, lines: new Set() };
      this.#windows.set(workerId, w);
    }
    return w;
  }
}

/** Bytes sealed into blocks and not yet acknowledged, for one client. */
export class ByteBudget {
  readonly limit: number;
  #used = 0;
  #waiters: { below: number; wake: () => void }[] = [];

  constructor(limit: number) {
    this.limit = limit;
  }

  get used(): number {
    return this.#used;
  }

  add(bytes: number): void {
    this.#used += bytes;
  }

  release(bytes: number): void {
    this.#used -= bytes;
    const still: { below: number; wake: () => void }[] = [];
    for (const w of this.#waiters) {
      if (this.#used <= w.below) w.wake();
      else still.push(w);
    }
    this.#waiters = still;
  }

  /** Resolves once at most `below` bytes are in use (default: the limit). */
  waitBelow(below = this.limit): Promise<void> {
    if (this.#used <= below) return Promise.resolve();
    return new Promise((wake) => this.#waiters.push({ below, wake }));
  }
}
