// Flow control of pushes (docs/architecture.md#lifecycle-of-one-shuffle): an AIMD window of unacknowledged pushes per worker
// (ceiling maxInFlightPerWorker; an OK_CONGESTED ack halves it, every clean ack adds
// 1/window, i.e. about one per round trip) and a byte budget for the whole client.
//
// A dual push needs a slot on two workers. Both are taken at once or not at all: taking one
// and waiting for the other could deadlock two pushes that hold each other's second worker.

export type PushOutcome = 'ok' | 'congested' | 'failed';

interface Waiter {
  readonly workers: readonly string[];
  readonly wake: () => void;
}

interface Window {
  size: number;
  inFlight: number;
}

export class PushWindows {
  readonly #max: number;
  readonly #windows = new Map<string, Window>();
  #waiters: Waiter[] = [];

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
    return new Promise((resolve) => this.#waiters.push({ workers, wake: resolve }));
  }

  release(workerId: string, outcome: PushOutcome): void {
    const w = this.#window(workerId);
    w.inFlight--;
    if (outcome === 'ok') w.size = Math.min(this.#max, w.size + 1 / w.size);
    else if (outcome === 'congested') w.size = Math.max(1, w.size / 2);
    this.#wakeWaiters();
  }

  #wakeWaiters(): void {
    const still: Waiter[] = [];
    for (const waiter of this.#waiters) {
      if (this.#free(waiter.workers)) {
        this.#take(waiter.workers);
        waiter.wake();
      } else still.push(waiter);
    }
    this.#waiters = still;
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
      w = { size: this.#max, inFlight: 0 };
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
