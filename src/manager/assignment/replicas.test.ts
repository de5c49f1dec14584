// Replica placement rules (docs/architecture.md#allocation-policies): hosts, racks and spread, for both policies.
import { describe, it, expect } from 'vitest';
import { loadAware } from './load-aware.js';
import { roundRobin } from './round-robin.js';
import type { AllocationPlan, AllocationPolicy, WorkerCandidate } from './types.js';

const GiB = 1024 ** 3;

function worker(id: string, host: string, rack = ''): WorkerCandidate {
  return {
    id,
    host,
    rack,
    freeDiskBytes: 100 * GiB,
    memoryUsedBytes: 0,
    memoryBudgetBytes: 8 * GiB,
    pushBytesPerSec: 0,
    fetchBytesPerSec: 0,
  };
}

/** `groups` single-partition groups, replicated. */
function place(
  policy: AllocationPolicy,
  workers: readonly WorkerCandidate[],
  groups: number,
  exclude: readonly string[] = [],
): AllocationPlan {
  return policy(workers, {
    numPartitions: groups,
    maxPartitionsPerGroup: 1,
    replicate: true,
    minFreeDiskBytes: 0,
    cursor: 0,
    exclude: new Set(exclude),
  });
}

function replicaCounts(plan: AllocationPlan): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const g of plan.groups) counts[g.replica!] = (counts[g.replica!] ?? 0) + 1;
  return counts;
}

/** host (or rack) of each group's primary and replica, as "primaryPlace>replicaPlace". */
function pairs(
  plan: AllocationPlan,
  workers: readonly WorkerCandidate[],
  field: 'host' | 'rack',
): string[] {
  const byId = new Map(workers.map((w) => [w.id, w]));
  return plan.groups.map((g) => `${byId.get(g.primary)![field]}>${byId.get(g.replica!)![field]}`);
}

describe.each([
  ['round-robin', roundRobin],
  ['load-aware', loadAware],
] as const)('%s replicas', (_name, policy) => {
  it('share the host on a single-host cluster, but never the worker, and say so', () => {
    const workers = ['a', 'b', 'c'].map((id) => worker(id, 'localhost'));
    const plan = place(policy, workers, 30);
    expect(plan.groups.filter((g) => g.replica === g.primary)).toEqual([]);
    expect(plan.replicasShareHost).toBe(true);
    expect(replicaCounts(plan)).toEqual({ a: 10, b: 10, c: 10 });
  });

  it('always go to the other host when there are two, evenly', () => {
    const workers = [worker('a1', 'A'), worker('a2', 'A'), worker('b1', 'B'), worker('b2', 'B')];
    const plan = place(policy, workers, 40);
    expect(new Set(pairs(plan, workers, 'host'))).toEqual(new Set(['A>B', 'B>A']));
    expect(plan.replicasShareHost).toBe(false);
    expect(replicaCounts(plan)).toEqual({ a1: 10, a2: 10, b1: 10, b2: 10 });
  });

  it('exceed the even spread rather than share a host (3 workers on A, 1 on B)', () => {
    const workers = [worker('a1', 'A'), worker('a2', 'A'), worker('a3', 'A'), worker('b1', 'B')];
    const plan = place(policy, workers, 4);
    expect(plan.groups.map((g) => g.primary)).toEqual(['a1', 'a2', 'a3', 'b1']);
    expect(plan.groups.slice(0, 3).map((g) => g.replica)).toEqual(['b1', 'b1', 'b1']);
    expect(plan.groups[3]!.replica).toMatch(/^a/);
    expect(plan.replicasShareHost).toBe(false);
  });

  it('go to another rack when racks are labelled', () => {
    const workers = [
      worker('w1', 'h1', 'r1'),
      worker('w2', 'h2', 'r1'),
      worker('w3', 'h3', 'r2'),
      worker('w4', 'h4', 'r2'),
    ];
    const plan = place(policy, workers, 40);
    expect(new Set(pairs(plan, workers, 'rack'))).toEqual(new Set(['r1>r2', 'r2>r1']));
    expect(replicaCounts(plan)).toEqual({ w1: 10, w2: 10, w3: 10, w4: 10 });
  });

  it('prefer another rack over an even spread', () => {
    const workers = [worker('a', 'h1', 'r1'), worker('b', 'h2', 'r1'), worker('c', 'h3', 'r2')];
    const plan = place(policy, workers, 3);
    expect(pairs(plan, workers, 'rack')).toEqual(['r1>r2', 'r1>r2', 'r2>r1']);
    expect(replicaCounts(plan)['c']).toBe(2);
  });

  it('fall back to another host when only one rack is left', () => {
    const workers = [worker('a', 'h1', 'r1'), worker('b', 'h2', 'r1'), worker('c', 'h3', 'r2')];
    const plan = place(policy, workers, 4, ['c']);
    expect(plan.groups.map((g) => `${g.primary}>${g.replica}`)).toEqual([
      'a>b',
      'b>a',
      'a>b',
      'b>a',
    ]);
    expect(plan.replicasShareHost).toBe(false);
  });

  it('treat an unlabelled rack as unknown: labelled primaries pick a labelled other rack', () => {
    const workers = [worker('a', 'h1', 'r1'), worker('b', 'h2', 'r2'), worker('c', 'h3')];
    const plan = place(policy, workers, 30);
    const replicasOf = (id: string): Set<string | null> =>
      new Set(plan.groups.filter((g) => g.primary === id).map((g) => g.replica));
    expect(replicasOf('a')).toEqual(new Set(['b']));
    expect(replicasOf('b')).toEqual(new Set(['a']));
    expect(replicasOf('c')).toEqual(new Set(['a', 'b']));
    expect(plan.replicasShareHost).toBe(false);
  });
});
