// The shuffle service's capacity model (docs/architecture.md#worker, docs/architecture.md#allocation-agent): pushing tasks share the workers'
// ingest; pushed bytes sit in worker memory until flushed to disk; above the pause watermark
// the workers throttle pushes down to what they can flush, and resume below the low one.
import type { ShuffleServiceModel } from './model.js';
import type { ShuffleState, SimTask } from './state.js';

/** A floor so a fully saturated cluster still trickles (other tenants' pushes also end). */
const MIN_SHARE_OF_FLUSH = 0.02;

export function newShuffleState(m: ShuffleServiceModel): ShuffleState {
  return {
    memoryBytes: m.initialMemoryFraction * m.memoryBytes * m.workers,
    throttled: m.initialMemoryFraction >= m.pauseFraction,
    throttledSeconds: 0,
    pushing: new Set(),
    pushedBytes: 0,
  };
}

/** Capacity left for this app's pushes (bytes/s, whole cluster). */
export function pushCapacity(m: ShuffleServiceModel, s: ShuffleState): number {
  const ceiling = s.throttled ? m.flushBytesPerSec : m.ingestBytesPerSec;
  const floor = MIN_SHARE_OF_FLUSH * m.flushBytesPerSec * m.workers;
  return Math.max(floor, ceiling * m.workers - m.backgroundBytesPerSec);
}

/**
 * Advances pushes and worker memory by dt seconds; returns the tasks whose push completed.
 * Processor sharing: every pushing task gets an equal share, capped by its own NIC share.
 */
export function advanceShuffle(m: ShuffleServiceModel, s: ShuffleState, dt: number): SimTask[] {
  const n = s.pushing.size;
  const rate = n === 0 ? 0 : Math.min(m.taskPushBytesPerSec, pushCapacity(m, s) / n);
  const done: SimTask[] = [];
  let ingress = 0;
  for (const t of s.pushing) {
    const moved = Math.min(t.pushRemaining, rate * dt);
    t.pushRemaining -= moved;
    ingress += moved;
    if (t.pushRemaining <= 1e-6) done.push(t);
  }
  for (const t of done) s.pushing.delete(t);
  s.pushedBytes += ingress;
  const budget = m.memoryBytes * m.workers;
  const inflow = ingress + m.backgroundBytesPerSec * dt;
  s.memoryBytes = clamp(s.memoryBytes + inflow - m.flushBytesPerSec * m.workers * dt, 0, budget);
  const f = s.memoryBytes / budget;
  if (!s.throttled && f >= m.pauseFraction) s.throttled = true;
  else if (s.throttled && f < m.resumeFraction) s.throttled = false;
  if (s.throttled) s.throttledSeconds += dt;
  return done;
}

export function memoryFraction(m: ShuffleServiceModel, s: ShuffleState): number {
  return s.memoryBytes / (m.memoryBytes * m.workers);
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}
