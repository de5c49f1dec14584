// The worker's memory budget (docs/architecture.md#worker): states NORMAL -> PUSH_PAUSED at 0.85 of the budget
// -> FULL at 0.95, back to NORMAL only below 0.70 (hysteresis, so the push sockets do not
// flap). Pure bookkeeping with no timers or I/O: the push server pauses its sockets while
// the state is not NORMAL, the flushers flush the largest buffers first, and every
// transition goes to the listener (logged and exported as a gauge by the caller).

export type MemoryState = 'NORMAL' | 'PUSH_PAUSED' | 'FULL';

export interface MemoryThresholds {
  readonly pauseRatio: number;
  readonly fullRatio: number;
  readonly resumeRatio: number;
}

export const DEFAULT_THRESHOLDS: MemoryThresholds = Object.freeze({
  pauseRatio: 0.85,
  fullRatio: 0.95,
  resumeRatio: 0.7,
});

export type TransitionListener = (from: MemoryState, to: MemoryState, usedBytes: number) => void;

export class MemoryManager {
  readonly budgetBytes: number;
  readonly #t: MemoryThresholds;
  readonly #listeners: TransitionListener[] = [];
  #used = 0;
  #peak = 0;
  #state: MemoryState = 'NORMAL';

  constructor(budgetBytes: number, thresholds: MemoryThresholds = DEFAULT_THRESHOLDS) {
    if (!(budgetBytes > 0)) throw new RangeError(`memory budget must be > 0, got ${budgetBytes}`);
    const { resumeRatio, pauseRatio, fullRatio } = thresholds;
    if (!(
      resumeRatio > 0 &&
      resumeRatio < pauseRatio &&
      pauseRatio <= fullRatio &&
      fullRatio <= 1
    )) {
      throw new RangeError(
        `memory thresholds must satisfy 0 < resume < pause <= full <= 1, got ${resumeRatio}/${pauseRatio}/${fullRatio}`,
      );
    }
    this.budgetBytes = budgetBytes;
    this.#t = thresholds;
  }

  onTransition(listener: TransitionListener): void {
    this.#listeners.push(listener);
  }

  get usedBytes(): number {
    return this.#used;
  }

  get peakBytes(): number {
    return this.#peak;
  }

  get state(): MemoryState {
    return this.#state;
  }

  /** Pushes are accepted without back-pressure only in NORMAL. */
  get paused(): boolean {
    return this.#state !== 'NORMAL';
  }

  get ratio(): number {
    return this.#used / this.budgetBytes;
  }

  /** Bytes above the resume watermark: what flushing must free to resume pushes. */
  get excessBytes(): number {
    return Math.max(0, this.#used - this.#t.resumeRatio * this.budgetBytes);
  }

  acquire(bytes: number): void {
    this.#used += bytes;
    if (this.#used > this.#peak) this.#peak = this.#used;
    this.#update();
  }

  release(bytes: number): void {
    this.#used -= bytes;
    if (this.#used < 0)
      throw new RangeError(
        `memory accounting went negative (${this.#used}): a release without an acquire`,
      );
    this.#update();
  }

  #update(): void {
    const r = this.ratio;
    let next = this.#state;
    if (r >= this.#t.fullRatio) next = 'FULL';
    else if (r >= this.#t.pauseRatio) next = this.#state === 'FULL' ? 'FULL' : 'PUSH_PAUSED';
    else if (r < this.#t.resumeRatio) next = 'NORMAL';
    else if (this.#state === 'FULL') next = 'PUSH_PAUSED';
    if (next === this.#state) return;
    const from = this.#state;
    this.#state = next;
    for (const l of this.#listeners) l(from, next, this.#used);
  }
}
