// The load-aware policy (docs/architecture.md#allocation-policies): scores and what they do to placement.
import { describe, it, expect } from 'vitest';
import { loadAware, loadScores } from './load-aware.js';
import type { AllocationPlan, WorkerCandidate } from './types.js';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

function worker(id: string, over: Partial<WorkerCandidate> = {}): WorkerCandidate {
  return {
    id,
    host: `host-${id}`,
    rack: '',
    freeDiskBytes: 100 * GiB,
    memoryUsedBytes: 0,
    memoryBudgetBytes: 8 * GiB,
    pushBytesPerSec: 0,
    fetchBytesPerSec: 0,
    ...over,
  };
}

/** Pushing and fetching hard, memory at 90 %, disk half used. */
const busy = (id: string): WorkerCandidate =>
  worker(id, {
    pushBytesPerSec: 400 * MiB,
    fetchBytesPerSec: 200 * MiB,
    memoryUsedBytes: 7.2 * GiB,
    freeDiskBytes: 50 * GiB,
  });

function place(workers: readonly WorkerCandidate[], groups: number, replicate = false) {
  return loadAware(workers, {
    numPartitions: groups,
    maxPartitionsPerGroup: 1,
    replicate,
    minFreeDiskBytes: 0,
    cursor: 0,
  });
}

function counts(plan: AllocationPlan, role: 'primary' | 'replica'): Record<string, number> {
  const out: Record<string, number> = {};
  for (const g of plan.groups) {
    const id = g[role]!;
    out[id] = (out[id] ?? 0) + 1;
  }
  return out;
}

describe('loadScores', () => {
  it.each([
    { case: 'idle, most free disk', over: {}, want: 0 },
    {
      case: 'the highest push+fetch rate',
      over: { pushBytesPerSec: 60, fetchBytesPerSec: 40 },
      want: 1,
    },
    { case: 'half the highest rate', over: { fetchBytesPerSec: 50 }, want: 0.5 },
    { case: 'memory at half its budget', over: { memoryUsedBytes: 4 * GiB }, want: 0.5 },
    { case: 'memory far over budget (capped)', over: { memoryUsedBytes: 80 * GiB }, want: 2 },
    {
      case: 'no memory budget reported',
      over: { memoryUsedBytes: GiB, memoryBudgetBytes: 0 },
      want: 0,
    },
    { case: 'half the most free disk', over: { freeDiskBytes: 50 * GiB }, want: 0.25 },
    { case: 'a garbled (NaN) rate', over: { pushBytesPerSec: Number.NaN }, want: 0 },
    { case: 'half the most placed groups', over: { activeGroups: 5 }, want: 0.5 },
  ])('$case → $want', ({ over, want }) => {
    // The reference worker sets the maxima: 100 B/s of traffic and 100 GiB free.
    const reference = worker('ref', { pushBytesPerSec: 100, activeGroups: 10 });
    const [score] = loadScores([worker('x', over), reference]);
    expect(score).toBeCloseTo(want, 9);
  });

  it('gives every worker 0 for rate when nobody moves bytes', () => {
    expect(loadScores([worker('a'), worker('b')])).toEqual([0, 0]);
  });
});

describe('load-aware placement', () => {
  it.each([
    { groups: 2, want: { idle1: 1, idle2: 1 } },
    { groups: 5, want: { idle1: 2, idle2: 2, busy: 1 } },
    { groups: 9, want: { idle1: 3, idle2: 3, busy: 3 } },
  ])('$groups groups on two idle workers and a busy one → $want', ({ groups, want }) => {
    const plan = place([busy('busy'), worker('idle1'), worker('idle2')], groups);
    expect(counts(plan, 'primary')).toEqual(want);
  });

  it('never gives an idle worker more than its share of primaries', () => {
    const workers = [worker('idle'), busy('b1'), busy('b2'), busy('b3')];
    const plan = place(workers, 8);
    // cap = ceil(8 / 4) = 2, however attractive the idle worker is.
    expect(counts(plan, 'primary')).toEqual({ idle: 2, b1: 2, b2: 2, b3: 2 });
    expect(plan.groups.slice(0, 2).map((g) => g.primary)).toEqual(['idle', 'idle']);
  });

  it('sends replicas to idle workers too', () => {
    const workers = [busy('b1'), busy('b2'), worker('i1'), worker('i2')];
    const plan = place(workers, 2, true);
    expect(plan.groups.map((g) => [g.primary, g.replica])).toEqual([
      ['i1', 'i2'],
      ['i2', 'i1'],
    ]);
  });

  it('spreads a burst of one-group allocations made between two heartbeats', () => {
    // Regression: rates only change with heartbeats, so before activeGroups counted, every
    // one-group shuffle of a burst landed on the same slightly idler worker.
    const active: Record<string, number> = { a: 0, b: 0, c: 0 };
    const rates: Record<string, number> = { a: 10, b: 12, c: 14 };
    for (let i = 0; i < 30; i++) {
      const workers = Object.keys(active).map((id) =>
        worker(id, { pushBytesPerSec: rates[id]!, activeGroups: active[id]! }),
      );
      active[place(workers, 1).groups[0]!.primary]!++;
    }
    expect(
      Math.max(...Object.values(active)) - Math.min(...Object.values(active)),
    ).toBeLessThanOrEqual(4);
  });

  it('ranks memory pressure: the fuller worker gets fewer groups', () => {
    const workers = [
      worker('calm', { memoryUsedBytes: 1 * GiB }),
      worker('tight', { memoryUsedBytes: 8 * GiB }),
    ];
    const plan = place(workers, 3);
    expect(counts(plan, 'primary')).toEqual({ calm: 2, tight: 1 });
  });
});
