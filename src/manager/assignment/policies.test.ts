// Table-driven tests of both allocation policies (docs/architecture.md#allocation-policies). Every row of the
// table goes through expectValidPlan, which checks the guarantees docs/architecture.md#cluster-manager makes for any policy.
import { describe, it, expect } from 'vitest';
import { loadAware } from './load-aware.js';
import { roundRobin } from './round-robin.js';
import type {
  AllocationPlan,
  AllocationPolicy,
  AllocationRequest,
  WorkerCandidate,
} from './types.js';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const POLICIES: readonly (readonly [string, AllocationPolicy])[] = [
  ['round-robin', roundRobin],
  ['load-aware', loadAware],
];

type Layout = 'one-host' | 'host-per-worker' | 'two-per-host' | 'racks';

const idOf = (i: number): string => `w${String(i).padStart(3, '0')}`;

/** Workers w000.. with varied load (so load-aware has something to weigh) laid out on hosts. */
function cluster(n: number, layout: Layout): WorkerCandidate[] {
  return Array.from({ length: n }, (_, i) => ({
    id: idOf(i),
    host: layout === 'one-host' ? 'h0' : layout === 'two-per-host' ? `h${i >> 1}` : `h${i}`,
    rack: layout === 'racks' ? `r${i % 3}` : '',
    freeDiskBytes: (50 + ((i * 7) % 50)) * GiB,
    memoryUsedBytes: ((i * 13) % 8) * GiB,
    memoryBudgetBytes: 8 * GiB,
    pushBytesPerSec: ((i * 37) % 10) * 10 * MiB,
    fetchBytesPerSec: ((i * 11) % 5) * MiB,
  }));
}

function request(over: Partial<AllocationRequest>): AllocationRequest {
  return {
    numPartitions: 100,
    maxPartitionsPerGroup: 100,
    replicate: false,
    minFreeDiskBytes: 0,
    cursor: 0,
    ...over,
  };
}

function isEligible(w: WorkerCandidate, req: AllocationRequest): boolean {
  return (
    req.exclude?.has(w.id) !== true &&
    w.freeDiskBytes > 0 &&
    w.freeDiskBytes >= req.minFreeDiskBytes
  );
}

function countBy(ids: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

const maxCount = (ids: readonly string[]): number => Math.max(0, ...countBy(ids).values());

interface Topology {
  readonly multiHost: boolean;
  readonly racks: ReadonlySet<string>;
}

function topology(eligible: readonly WorkerCandidate[]): Topology {
  return {
    multiHost: new Set(eligible.map((w) => w.host)).size > 1,
    racks: new Set(eligible.map((w) => w.rack).filter((x) => x !== '')),
  };
}

/** Replica rules (docs/architecture.md#cluster-manager): one line per violation for the group whose primary is p. */
function replicaProblems(
  p: WorkerCandidate,
  r: WorkerCandidate | undefined,
  topo: Topology,
): string[] {
  if (r === undefined) return ['replica is not an eligible worker'];
  const problems: string[] = [];
  if (r.id === p.id) problems.push(`replica ${r.id} is its own primary`);
  if (topo.multiHost && r.host === p.host) problems.push(`replica ${r.id} shares host ${p.host}`);
  // With labelled racks every labelled primary has another rack available, so use it.
  if (topo.racks.size >= 2 && p.rack !== '' && r.rack === p.rack) {
    problems.push(`replica ${r.id} shares rack ${p.rack}`);
  }
  return problems;
}

/** The invariants every plan must satisfy, whatever the policy and input. */
function expectValidPlan(
  plan: AllocationPlan,
  workers: readonly WorkerCandidate[],
  req: AllocationRequest,
): void {
  const eligible = workers.filter((w) => isEligible(w, req));
  const byId = new Map(eligible.map((w) => [w.id, w]));
  const groupCount = Math.ceil(req.numPartitions / req.maxPartitionsPerGroup);
  const cap = Math.ceil(groupCount / eligible.length);
  const topo = topology(eligible);
  const problems: string[] = [];
  let next = 0;
  let shareHost = false;
  plan.groups.forEach((g, k) => {
    const where = `group ${g.groupId}`;
    if (g.groupId !== (req.firstGroupId ?? 0) + k) problems.push(`${where}: out of order`);
    if (g.startPartition !== next) problems.push(`${where}: starts at ${g.startPartition}`);
    const size = g.endPartition - g.startPartition;
    if (size < 1 || size > req.maxPartitionsPerGroup) problems.push(`${where}: size ${size}`);
    next = g.endPartition;
    const primary = byId.get(g.primary);
    if (primary === undefined) problems.push(`${where}: primary ${g.primary} not eligible`);
    if (!req.replicate) {
      if (g.replica !== null) problems.push(`${where}: replica without replication`);
    } else if (primary !== undefined) {
      const replica = byId.get(g.replica ?? '');
      problems.push(...replicaProblems(primary, replica, topo).map((p) => `${where}: ${p}`));
      if (replica?.host === primary.host) shareHost = true;
    }
  });
  expect(problems).toEqual([]);
  expect(plan.groups).toHaveLength(groupCount);
  expect(next).toBe(req.numPartitions);
  const primaries = plan.groups.map((g) => g.primary);
  expect(maxCount(primaries)).toBeLessThanOrEqual(cap + 1);
  expect(maxCount(primaries)).toBeLessThanOrEqual(cap);
  expect(plan.replicasShareHost).toBe(shareHost);
  if (req.replicate) expectReplicaSpread(plan, eligible, topo, cap);
}

/**
 * Replicas stay within ceil(G / n) per worker unless the host (or rack) rule forces more: a
 * replica must leave its primary's domain, so a domain whose primaries outnumber the room in
 * all other domains (cap × workers outside it) must overflow somewhere.
 */
function expectReplicaSpread(
  plan: AllocationPlan,
  eligible: readonly WorkerCandidate[],
  topo: Topology,
  cap: number,
): void {
  const domainOf = (w: WorkerCandidate): string =>
    topo.racks.size >= 2 ? w.rack : topo.multiHost ? w.host : w.id;
  const byId = new Map(eligible.map((w) => [w.id, w]));
  const sizes = countBy(eligible.map(domainOf));
  const primariesIn = countBy(plan.groups.map((g) => domainOf(byId.get(g.primary)!)));
  const forced = [...primariesIn].some(
    ([d, count]) => count > cap * (eligible.length - sizes.get(d)!),
  );
  if (!forced) expect(maxCount(plan.groups.map((g) => g.replica!))).toBeLessThanOrEqual(cap);
}

interface Row {
  readonly name: string;
  readonly policy: AllocationPolicy;
  readonly workers: number;
  readonly layout: Layout;
  readonly numPartitions: number;
  readonly maxPartitionsPerGroup: number;
  readonly replicate: boolean;
}

function tableRows(): Row[] {
  const rows: Row[] = [];
  for (const [name, policy] of POLICIES) {
    for (const workers of [1, 2, 3, 100]) {
      for (const layout of ['one-host', 'host-per-worker', 'two-per-host', 'racks'] as const) {
        for (const [numPartitions, maxPartitionsPerGroup] of [
          [1, 100],
          [1, 1],
          [10_000, 100],
          [10_000, 1],
        ] as const) {
          for (const replicate of [false, true]) {
            rows.push({
              name,
              policy,
              workers,
              layout,
              numPartitions,
              maxPartitionsPerGroup,
              replicate,
            });
          }
        }
      }
    }
  }
  return rows;
}

/**
 * In the 100-worker rows two workers drop out — one with a full disk, one excluded (it just
 * failed) — so every row also checks that such workers are never used.
 */
function withDropouts(workers: WorkerCandidate[]): {
  workers: WorkerCandidate[];
  exclude: ReadonlySet<string>;
} {
  if (workers.length < 100) return { workers, exclude: new Set() };
  const out = workers.map((w, i) => (i === 7 ? { ...w, freeDiskBytes: 0 } : w));
  return { workers: out, exclude: new Set([idOf(13)]) };
}

describe('allocation table', () => {
  it.each(tableRows())(
    '$name: $workers workers ($layout), $numPartitions partitions / max $maxPartitionsPerGroup, replicate $replicate',
    (row) => {
      const { workers, exclude } = withDropouts(cluster(row.workers, row.layout));
      const { numPartitions, maxPartitionsPerGroup, replicate } = row;
      const req = request({ numPartitions, maxPartitionsPerGroup, replicate, exclude, cursor: 5 });
      if (row.replicate && row.workers < 2) {
        expect(() => row.policy(workers, req)).toThrow(
          expect.objectContaining({ code: 'SLUICE_ERR_NO_WORKERS' }),
        );
        return;
      }
      const plan = row.policy(workers, req);
      expectValidPlan(plan, workers, req);
      const used = new Set(plan.groups.flatMap((g) => [g.primary, g.replica]));
      expect(used.has(idOf(7))).toBe(false);
      expect(used.has(idOf(13))).toBe(false);
      // Same input, same output (docs/architecture.md#cluster-manager: policies are pure). Compared as JSON because a
      // deep toEqual over 10 000 groups costs more than the allocation itself.
      expect(JSON.stringify(row.policy(workers, req))).toBe(JSON.stringify(plan));
    },
  );
});

/** n identical idle workers, one per host: only the cursor can tell them apart. */
const equalWorkers = (n: number): WorkerCandidate[] =>
  cluster(n, 'host-per-worker').map((w) => ({
    ...w,
    freeDiskBytes: 100 * GiB,
    memoryUsedBytes: 0,
    pushBytesPerSec: 0,
    fetchBytesPerSec: 0,
  }));

describe.each(POLICIES)('%s', (_name, policy) => {
  it('gives the same plan whatever order the workers are listed in', () => {
    const workers = cluster(10, 'two-per-host');
    const req = request({ numPartitions: 1000, maxPartitionsPerGroup: 10, replicate: true });
    const plan = policy(workers, req);
    expect(policy([...workers].reverse(), req)).toEqual(plan);
    expect(policy(workers, req)).toEqual(plan);
  });

  it.each([
    { cursor: 0, first: 'w000' },
    { cursor: 1, first: 'w001' },
    { cursor: 2, first: 'w002' },
    { cursor: 3, first: 'w000' },
    { cursor: -1, first: 'w002' },
    { cursor: 301, first: 'w001' },
  ])('cursor $cursor gives the first group to $first among equal workers', ({ cursor, first }) => {
    const plan = policy(equalWorkers(3), request({ numPartitions: 1, cursor }));
    expect(plan.groups[0]?.primary).toBe(first);
  });

  it('spreads equal workers evenly, replicas included', () => {
    const req = request({ numPartitions: 900, maxPartitionsPerGroup: 10, replicate: true });
    const plan = policy(equalWorkers(9), req);
    expectValidPlan(plan, equalWorkers(9), req);
    expect([...countBy(plan.groups.map((g) => g.primary)).values()]).toEqual(Array(9).fill(10));
    expect([...countBy(plan.groups.map((g) => g.replica!)).values()]).toEqual(Array(9).fill(10));
  });

  it('numbers groups from firstGroupId and returns no groups for zero partitions', () => {
    const workers = equalWorkers(3);
    const req = request({ numPartitions: 250, firstGroupId: 40 });
    expect(policy(workers, req).groups.map((g) => g.groupId)).toEqual([40, 41, 42]);
    expect(policy(workers, request({ numPartitions: 0 }))).toEqual({
      groups: [],
      replicasShareHost: false,
    });
  });

  // Speed is not asserted here (timed unit tests flake on a shared machine); the whole file
  // running in a few seconds is the practical bound.
  it('places 10 000 single-partition groups on 100 workers with racks', () => {
    const workers = cluster(100, 'racks');
    const req = request({ numPartitions: 10_000, maxPartitionsPerGroup: 1, replicate: true });
    expectValidPlan(policy(workers, req), workers, req);
  });
});

describe('round-robin order', () => {
  it.each([
    { cursor: 0, primaries: [0, 1, 2, 0, 1, 2, 0], replicas: [1, 2, 0, 1, 2, 0, 1] },
    { cursor: 1, primaries: [1, 2, 0, 1, 2, 0, 1], replicas: [2, 0, 1, 2, 0, 1, 2] },
  ])('cursor $cursor: primaries in rotated order, replicas in a ring', (row) => {
    const req = request({ numPartitions: 7, maxPartitionsPerGroup: 1, replicate: true, ...row });
    const plan = roundRobin(cluster(3, 'host-per-worker'), req);
    expect(plan.groups.map((g) => g.primary)).toEqual(row.primaries.map(idOf));
    expect(plan.groups.map((g) => g.replica)).toEqual(row.replicas.map(idOf));
  });
});
