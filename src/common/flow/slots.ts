// A counting semaphore: at most `limit` holders at once, the rest wait in arrival order.
// Bounds the writes a storage has in flight and the chunk reads of a connection.
export class Slots {
  readonly #limit: number;
  readonly #waiters: (() => void)[] = [];
  #held = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Resolves once a slot is this caller's; give it back with release(). */
  async take(): Promise<void> {
    if (this.#held < this.#limit) {
      this.#held++;
      return;
    }
    await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  /** Hands the slot to the longest waiter, or frees it. */
  release(): void {
    const next = this.#waiters.shift();
    if (next) next();
    else this.#held--;
  }
}
