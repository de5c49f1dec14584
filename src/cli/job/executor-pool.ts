// The executors of `sluice job terasort --executors N`: N child processes forked from
// terasort-executor.js, each with one ShuffleClient, given tasks over IPC (executor-ipc.ts)
// the way an engine's scheduler hands tasks to its executors: at most `parallel` at a time
// per executor, the next task to the least busy one. An executor that exits before close()
// fails the stage with ExecutorLostError, and the pool kills every child it forked on
// destroy(), on SIGINT / SIGTERM (then re-raised) and when this process exits, so no
// executor outlives the job.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { ERROR_CODES, SluiceError, type ErrorCode } from '../../client/index.js';
import type { FromExecutor, TaskKind, TaskResults, ToExecutor } from './executor-ipc.js';

const EXECUTOR_MODULE = fileURLToPath(new URL('./terasort-executor.js', import.meta.url));
/** How long close() waits for an executor to close its client before killing it. */
const CLOSE_TIMEOUT_MS = 10_000;
/** Errors of a send to an executor whose end of the IPC channel is gone. */
const BROKEN_CHANNEL = new Set(['EPIPE', 'ECONNRESET', 'ERR_IPC_CHANNEL_CLOSED']);
/** How long a broken channel waits for the executor's exit before failing the job itself. */
const BROKEN_CHANNEL_GRACE_MS = 5_000;

/** An executor process exited (crashed, was killed) while the job still needed it. */
export class ExecutorLostError extends SluiceError {
  constructor(message: string, context: Record<string, unknown>) {
    super('SLUICE_ERR_UNAVAILABLE', message, { context, retriable: false });
  }
}

type Init = Omit<Extract<ToExecutor, { type: 'init' }>, 'type'>;

interface Executor {
  readonly index: number;
  readonly child: ChildProcess;
  readonly running: Set<number>;
  readonly tasks: Record<TaskKind, number>;
  /** CPU the executor had used when it became ready (its start-up is not the job's). */
  startCpuMicros: number;
}

export interface ExecutorStats {
  readonly executor: number;
  readonly pid: number;
  readonly maps: number;
  readonly reduces: number;
}

export class ExecutorPool {
  readonly #executors: Executor[] = [];
  readonly #parallel: number;
  /** Why the pool cannot run tasks any more (an executor was lost). */
  #lost: Error | undefined;
  /** Rejects the running step; set while one runs. */
  #fail: ((err: Error) => void) | undefined;
  #stage = 'start';
  #closing = false;
  readonly #onSignal = (signal: NodeJS.Signals) => {
    this.destroy();
    process.kill(process.pid, signal);
  };
  readonly #onExit = () => this.destroy();

  private constructor(parallel: number) {
    this.#parallel = parallel;
  }

  /** Forks `count` executors and waits until each has built its client. */
  static async start(count: number, parallel: number, init: Init): Promise<ExecutorPool> {
    const pool = new ExecutorPool(parallel);
    process.once('SIGINT', pool.#onSignal);
    process.once('SIGTERM', pool.#onSignal);
    process.once('exit', pool.#onExit);
    try {
      await pool.#step('start', async () => {
        for (let i = 0; i < count; i++) pool.#fork(i + 1, init);
        await Promise.all(
          pool.#executors.map(async (e) => {
            e.startCpuMicros = (await pool.#reply(e, 'ready')).cpuMicros;
          }),
        );
      });
      return pool;
    } catch (err) {
      pool.destroy();
      throw err;
    }
  }

  get pids(): number[] {
    return this.#executors.map((e) => e.child.pid!);
  }

  get stats(): ExecutorStats[] {
    return this.#executors.map((e) => ({
      executor: e.index,
      pid: e.child.pid!,
      maps: e.tasks.map,
      reduces: e.tasks.reduce,
    }));
  }

  /**
   * Runs tasks 0..count-1 of a stage, at most `parallel` per executor, the next one to the
   * least busy executor; the first failed task or lost executor fails the stage.
   */
  async run<K extends TaskKind>(
    kind: K,
    count: number,
    onDone: (result: TaskResults[K], executor: number) => void,
  ): Promise<void> {
    const listeners = new Map<Executor, (m: FromExecutor) => void>();
    try {
      await this.#step(kind, () => {
        return new Promise<void>((resolve, reject) => {
          let next = 0;
          let done = 0;
          const dispatch = () => {
            while (next < count) {
              const e = this.#leastBusy();
              if (!e) return;
              e.running.add(next);
              this.#send(e, { type: 'task', kind, task: next++ });
            }
          };
          for (const e of this.#executors) {
            const listener = (m: FromExecutor) => {
              if ((m.type !== 'done' && m.type !== 'failed') || m.kind !== kind) return;
              e.running.delete(m.task);
              if (m.type === 'failed') return reject(taskFailed(kind, m, e));
              e.tasks[kind]++;
              onDone(m.result as TaskResults[K], e.index);
              if (++done === count) resolve();
              else dispatch();
            };
            listeners.set(e, listener);
            e.child.on('message', listener);
          }
          if (count === 0) resolve();
          dispatch();
        });
      });
    } finally {
      for (const [e, listener] of listeners) e.child.off('message', listener);
    }
  }

  /** CPU the executors used since they became ready, summed, in seconds. */
  async cpuSeconds(): Promise<number> {
    let micros = 0;
    await this.#step(this.#stage, () =>
      Promise.all(
        this.#executors.map(async (e) => {
          this.#send(e, { type: 'usage' });
          micros += (await this.#reply(e, 'usage')).cpuMicros - e.startCpuMicros;
        }),
      ),
    );
    return micros / 1e6;
  }

  /** Lets every executor close its client and exit; kills those that do not in time. */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    const alive = this.#executors.filter((e) => isAlive(e.child));
    for (const e of alive) this.#send(e, { type: 'close' });
    const timer = setTimeout(() => this.destroy(), CLOSE_TIMEOUT_MS);
    await Promise.all(alive.map((e) => (isAlive(e.child) ? once(e.child, 'exit') : undefined)));
    clearTimeout(timer);
    this.destroy();
  }

  /** Kills every executor still running (idempotent); what a failed job and a signal do. */
  destroy(): void {
    this.#closing = true;
    for (const e of this.#executors) if (isAlive(e.child)) e.child.kill('SIGKILL');
    process.off('SIGINT', this.#onSignal);
    process.off('SIGTERM', this.#onSignal);
    process.off('exit', this.#onExit);
  }

  #fork(index: number, init: Init): void {
    const child = fork(EXECUTOR_MODULE, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const e: Executor = {
      index,
      child,
      running: new Set(),
      tasks: { map: 0, reduce: 0 },
      startCpuMicros: 0,
    };
    this.#executors.push(e);
    child.once('exit', (code, signal) => {
      if (this.#closing) return;
      const running = [...e.running].map((t) => `${this.#stage} ${t}`).join(', ');
      this.#lose(
        new ExecutorLostError(
          `executor ${index} (pid ${child.pid}) exited with ${signal ?? `code ${code}`} ` +
            `during the ${this.#stage} stage${running ? ` while running ${running}` : ''}; the job fails`,
          { executor: index, pid: child.pid, stage: this.#stage, code, signal },
        ),
      );
    });
    // A failed spawn, or a failed send. A send to an executor that has just died fails with
    // EPIPE before its 'exit' arrives: the exit (above) says which executor died and in which
    // stage, so the send's error counts only if no exit follows.
    child.on('error', (err) => {
      if (!BROKEN_CHANNEL.has((err as NodeJS.ErrnoException).code ?? '')) return this.#lose(err);
      setTimeout(() => {
        if (isAlive(child)) this.#lose(err);
      }, BROKEN_CHANNEL_GRACE_MS).unref();
    });
    this.#send(e, { type: 'init', ...init });
  }

  #send(e: Executor, message: ToExecutor): void {
    if (isAlive(e.child) && e.child.connected) e.child.send(message);
  }

  #leastBusy(): Executor | undefined {
    let best: Executor | undefined;
    for (const e of this.#executors)
      if (e.running.size < this.#parallel && (!best || e.running.size < best.running.size))
        best = e;
    return best;
  }

  /** The next message of `type` from an executor. */
  #reply<T extends FromExecutor['type']>(
    e: Executor,
    type: T,
  ): Promise<Extract<FromExecutor, { type: T }>> {
    return new Promise((resolve) => {
      const listener = (m: FromExecutor) => {
        if (m.type !== type) return;
        e.child.off('message', listener);
        resolve(m as Extract<FromExecutor, { type: T }>);
      };
      e.child.on('message', listener);
    });
  }

  #lose(err: Error): void {
    this.#lost ??= err;
    this.#fail?.(this.#lost);
  }

  /** Runs one step of the job; it fails as soon as an executor is lost. */
  async #step<T>(stage: string, body: () => Promise<T>): Promise<T> {
    if (this.#lost) throw this.#lost;
    this.#stage = stage;
    const lost = new Promise<never>((_, reject) => (this.#fail = reject));
    try {
      return await Promise.race([body(), lost]);
    } finally {
      this.#fail = undefined;
    }
  }
}

function isAlive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

function taskFailed(
  kind: TaskKind,
  m: Extract<FromExecutor, { type: 'failed' }>,
  e: Executor,
): SluiceError {
  const code: ErrorCode =
    m.code && m.code in ERROR_CODES ? (m.code as ErrorCode) : 'SLUICE_ERR_INTERNAL';
  return new SluiceError(
    code,
    `${kind} ${m.task} failed on executor ${e.index} (pid ${e.child.pid}): ${m.message}`,
    { context: { executor: e.index, pid: e.child.pid, [kind]: m.task } },
  );
}
