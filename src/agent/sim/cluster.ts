// Executor lifecycle in the simulator: request → pod queue (batches) → cold start → ready →
// release, and the application of a policy's Decision to it (docs/architecture.md#allocation-agent).
import type { Decision } from '../policy/types.js';
import type { SimModel } from './model.js';
import { Rng } from './rng.js';
import type { SimExecutor, SimStage } from './state.js';

export interface ClusterHost {
  readonly model: SimModel;
  readonly seed: number;
  readonly executors: SimExecutor[];
  now(): number;
  schedule(time: number, kind: 'pod' | 'ready', ref: number): void;
}

export class Cluster {
  readonly #host: ClusterHost;
  readonly #queue: SimExecutor[] = [];
  #podTimer = false;
  #starting = 0;

  constructor(host: ClusterHost) {
    this.#host = host;
  }

  /** Executors not released (queued, starting or ready). */
  live(): SimExecutor[] {
    return this.#host.executors.filter((e) => e.state !== 'released');
  }

  request(stageId: number | null): SimExecutor | undefined {
    const h = this.#host;
    if (this.live().length >= h.model.executor.maxExecutors) return undefined;
    const n = h.executors.length;
    const e: SimExecutor = {
      id: `exec-${n + 1}`,
      n,
      state: 'queued',
      stageId,
      readyAt: NaN,
      releasedAt: NaN,
      running: 0,
      idleSince: NaN,
      busySeconds: 0,
      busySince: NaN,
      seenStages: new Set(),
    };
    h.executors.push(e);
    this.#queue.push(e);
    if (!this.#podTimer) {
      this.#podTimer = true;
      h.schedule(h.now(), 'pod', 0);
    }
    return e;
  }

  /** A ready executor at time 0 (the oracle sweep's warm pool). */
  addWarm(): SimExecutor {
    const e = this.request(null)!;
    this.#queue.pop();
    e.state = 'ready';
    e.readyAt = 0;
    e.idleSince = 0;
    return e;
  }

  /** Pod batch: Spark on Kubernetes creates `podBatchSize` pods, then waits the batch delay. */
  onPodBatch(): void {
    const h = this.#host;
    const m = h.model.executor;
    for (let i = 0; i < m.podBatchSize && this.#queue.length > 0; i++) {
      const e = this.#queue.shift()!;
      e.state = 'starting';
      this.#starting++;
      const pull = m.imagePullSeconds * (1 + this.#starting / m.pullContention);
      const rng = Rng.derive(h.seed, `cold:${e.n}`);
      h.schedule(h.now() + (m.coldStartSeconds + pull) * rng.logNormal(0.15), 'ready', e.n);
    }
    if (this.#queue.length > 0) h.schedule(h.now() + m.podBatchDelaySeconds, 'pod', 0);
    else this.#podTimer = false;
  }

  onReady(e: SimExecutor): boolean {
    if (e.state !== 'starting') return false;
    this.#starting--;
    e.state = 'ready';
    e.readyAt = this.#host.now();
    e.idleSince = e.readyAt;
    return true;
  }

  release(e: SimExecutor): void {
    if (e.state === 'released') return;
    if (e.state === 'starting') this.#starting--;
    if (e.state === 'queued') this.#queue.splice(this.#queue.indexOf(e), 1);
    e.state = 'released';
    e.releasedAt = this.#host.now();
  }

  /** Cancel not-yet-ready executors, newest first (Spark deletes pending pods too). */
  #cancel(pool: SimExecutor[], count: number): number {
    let cancelled = 0;
    const notReady = pool.filter((e) => e.state === 'queued' || e.state === 'starting');
    notReady.sort((a, b) => (a.state === b.state ? b.n - a.n : a.state === 'queued' ? -1 : 1));
    for (const e of notReady) {
      if (cancelled >= count) break;
      this.release(e);
      cancelled++;
    }
    return cancelled;
  }

  /** Targets first (free executors are reused before new ones are requested), then releases
   * of executors that are still idle and free. */
  apply(d: Decision, running: readonly SimStage[]): void {
    if (d.appTarget !== undefined) this.#applyAppTarget(d.appTarget);
    if (d.stageTargets) {
      for (const s of running) {
        const t = d.stageTargets.get(s.spec.id);
        if (t !== undefined) this.#applyStageTarget(s.spec.id, t);
      }
    }
    if (d.reassignFree) this.#reassignFree(running);
    for (const id of d.release ?? []) {
      const e = this.#host.executors.find((x) => x.id === id);
      if (e && e.state === 'ready' && e.running === 0 && e.stageId === null) this.release(e);
    }
  }

  #applyAppTarget(target: number): void {
    const live = this.live();
    if (target > live.length) for (let i = live.length; i < target; i++) this.request(null);
    else if (target < live.length) this.#cancel(live, live.length - target);
  }

  #applyStageTarget(stageId: number, target: number): void {
    const mine = this.live().filter((e) => e.stageId === stageId);
    if (mine.length < target) {
      let need = target - mine.length;
      const free = this.live().filter((e) => e.stageId === null);
      // Ready and idle first (no cold start), then ones already on their way.
      free.sort((a, b) => rank(a) - rank(b) || a.n - b.n);
      for (const e of free) {
        if (need === 0) break;
        e.stageId = stageId;
        need--;
      }
      for (; need > 0; need--) if (!this.request(stageId)) break;
    } else if (mine.length > target) {
      let excess = mine.length - target;
      excess -= this.#cancel(mine, excess);
      // Drain: idle ones are freed now, busy ones finish their tasks but get no new ones.
      mine.sort((a, b) => a.running - b.running || b.n - a.n);
      for (const e of mine) {
        if (excess === 0) break;
        if (e.state !== 'ready') continue;
        e.stageId = null;
        excess--;
      }
    }
  }

  #reassignFree(running: readonly SimStage[]): void {
    const target = running.find((s) => s.state === 'running' && s.next < s.spec.tasks);
    if (!target) return;
    for (const e of this.live())
      if (e.stageId === null && e.state === 'ready') e.stageId = target.spec.id;
  }
}

function rank(e: SimExecutor): number {
  if (e.state === 'ready') return e.running === 0 ? 0 : 1;
  return e.state === 'starting' ? 2 : 3;
}
