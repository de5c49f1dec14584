// Executor rolling (docs/architecture.md#executor-rolling; ByteDance's Enhanced ESS): the driver adds up the shuffle bytes each
// executor wrote (every MapperEnd, winners and losers: both filled the executor's disks and
// connections); once an executor passes rollingThresholdBytes it is rolled: the engine stops
// scheduling tasks on it (drain), tells the driver when it is idle, and once it runs no task
// and holds no unacknowledged pushes the driver says release it and start a replacement.
// Pure: no timers, no I/O; the ShuffleDriver feeds it and delivers the decisions as events.

export type RollingDecision =
  | { readonly kind: 'drain'; readonly executorId: string; readonly shuffleBytes: number }
  | { readonly kind: 'release'; readonly executorId: string; readonly shuffleBytes: number }
  | { readonly kind: 'replace'; readonly executorId: string };

export interface ExecutorActivity {
  readonly runningTasks: number;
  /** Pushes sent and not yet acknowledged (ShuffleClient.inFlightBytes > 0 counts). */
  readonly unackedPushes: number;
}

type State = 'active' | 'draining' | 'released';

export class ExecutorRolling {
  /** 0 turns rolling off (accounting continues). */
  readonly thresholdBytes: number;
  readonly #bytes = new Map<string, number>();
  readonly #state = new Map<string, State>();

  constructor(thresholdBytes: number) {
    this.thresholdBytes = thresholdBytes;
  }

  /** Adds an executor's MapperEnd bytes; returns the drain decision when it crosses the threshold. */
  record(executorId: string, bytes: number): RollingDecision[] {
    const total = (this.#bytes.get(executorId) ?? 0) + bytes;
    this.#bytes.set(executorId, total);
    const state = this.#state.get(executorId) ?? 'active';
    if (state !== 'active' || this.thresholdBytes <= 0 || total < this.thresholdBytes) return [];
    this.#state.set(executorId, 'draining');
    return [{ kind: 'drain', executorId, shuffleBytes: total }];
  }

  /** The engine reports a draining executor's activity; idle means release and replace. */
  activity(executorId: string, a: ExecutorActivity): RollingDecision[] {
    if (this.#state.get(executorId) !== 'draining') return [];
    if (a.runningTasks > 0 || a.unackedPushes > 0) return [];
    this.#state.set(executorId, 'released');
    return [
      { kind: 'release', executorId, shuffleBytes: this.#bytes.get(executorId) ?? 0 },
      { kind: 'replace', executorId },
    ];
  }

  state(executorId: string): State {
    return this.#state.get(executorId) ?? 'active';
  }

  /** Shuffle bytes written per executor since the driver started. */
  bytesByExecutor(): Map<string, number> {
    return new Map(this.#bytes);
  }

  get rolledExecutors(): number {
    let n = 0;
    for (const s of this.#state.values()) if (s !== 'active') n++;
    return n;
  }
}
