// Replica placement (docs/architecture.md#allocation-policies): a replica is never on its group's primary, is on
// another host whenever the cluster has several, prefers another rack when racks are
// labelled, and replicas are spread like primaries — at most ceil(G / n) per worker unless the
// host rule makes that impossible (3 workers on host A, 1 on host B: B must hold every
// replica of A's groups, and exceeding the spread is better than losing both copies with A).
import type { WorkerCandidate } from './types.js';

/** Cost of one more group on a worker; shared with primaries (place.ts). */
export function cost(assigned: number, score: number): number {
  return (assigned + 1) * (1 + score);
}

interface ReplicaRules {
  /** More than one host among the eligible workers: the replica must be on another host. */
  readonly multiHost: boolean;
  /** At least two distinct non-empty rack labels: prefer a replica on another rack. */
  readonly racksLabelled: boolean;
}

/** An unlabelled rack is unknown, never "different": it cannot prove a separate failure domain. */
function onOtherRack(a: WorkerCandidate, b: WorkerCandidate): boolean {
  return a.rack !== '' && b.rack !== '' && a.rack !== b.rack;
}

/**
 * Bookkeeping that keeps replicas under the cap whenever that is possible. A "domain" is the
 * unit a replica must leave: its rack when racks are labelled, else its host, else (a single
 * host) the worker itself. A greedy that only looks at the current group paints itself into a
 * corner: at the end the only workers with room left are the primaries of the last groups.
 * Hall's condition says a within-cap completion exists iff, for every domain d, the groups
 * still waiting whose primary is in d fit into the room outside d
 * (slack(d) = totalRoom - room[d] - pending[d] ≥ 0). Placing a replica lowers the slack of
 * every domain except the primary's and the replica's, so when some other domain has slack 0
 * the replica must go there; two such domains cannot coexist while a completion exists.
 */
interface Ledger {
  readonly cap: number;
  /** Replicas per worker. */
  readonly counts: number[];
  readonly domainOf: readonly number[];
  /** Per domain: groups without a replica yet whose primary is in the domain. */
  readonly pending: number[];
  /** Per domain: replicas its workers can still take without passing the cap. */
  readonly room: number[];
  totalRoom: number;
}

function newLedger(
  eligible: readonly WorkerCandidate[],
  primaries: readonly number[],
  cap: number,
  rules: ReplicaRules,
): Ledger {
  const ids = new Map<string, number>();
  const domainOf = eligible.map((w) => {
    const key = rules.racksLabelled ? w.rack : rules.multiHost ? w.host : w.id;
    if (!ids.has(key)) ids.set(key, ids.size);
    return ids.get(key)!;
  });
  const room = new Array<number>(ids.size).fill(0);
  for (const d of domainOf) room[d]! += cap;
  const pending = new Array<number>(ids.size).fill(0);
  for (const p of primaries) pending[domainOf[p]!]!++;
  const counts = new Array<number>(eligible.length).fill(0);
  return { cap, counts, domainOf, pending, room, totalRoom: cap * eligible.length };
}

/** The domain (other than the primary's) that must take this replica to keep the cap, or -1. */
function criticalDomain(ledger: Ledger, primaryDomain: number): number {
  let critical = -1;
  let minSlack = Infinity;
  for (let d = 0; d < ledger.room.length; d++) {
    if (d === primaryDomain || ledger.room[d]! === 0) continue;
    const slack = ledger.totalRoom - ledger.room[d]! - ledger.pending[d]!;
    if (slack < minSlack) {
      critical = d;
      minSlack = slack;
    }
  }
  return minSlack <= 0 ? critical : -1;
}

function record(ledger: Ledger, p: number, r: number): void {
  ledger.pending[ledger.domainOf[p]!]!--;
  if (ledger.counts[r]! < ledger.cap) {
    ledger.room[ledger.domainOf[r]!]!--;
    ledger.totalRoom--;
  }
  ledger.counts[r]!++;
}

/**
 * Replica for the group whose primary is `p`. Hard rules: never the primary, never the
 * primary's host when there are several hosts. Preferences, in order: another rack (a
 * top-of-rack switch failure costs more than an uneven spread), under the cap, in the critical
 * domain (Ledger), the lowest cost. The scan starts just after the primary in rotated order, so
 * equal workers form a ring (group on w_i → replica on w_{i+1}).
 */
function pickReplica(
  p: number,
  eligible: readonly WorkerCandidate[],
  scores: readonly number[],
  ledger: Ledger,
  rules: ReplicaRules,
): number {
  const n = eligible.length;
  const primary = eligible[p]!;
  const critical = criticalDomain(ledger, ledger.domainOf[p]!);
  // The key is compared field by field in locals: this loop runs G × n times.
  let best = -1;
  let bestKey = Infinity;
  let bestCost = Infinity;
  for (let step = 1; step < n; step++) {
    const i = (p + step) % n;
    const worker = eligible[i]!;
    if (rules.multiHost && worker.host === primary.host) continue;
    const key =
      (rules.racksLabelled && !onOtherRack(primary, worker) ? 4 : 0) +
      (ledger.counts[i]! >= ledger.cap ? 2 : 0) +
      (critical !== -1 && ledger.domainOf[i] !== critical ? 1 : 0);
    const c = cost(ledger.counts[i]!, scores[i]!);
    if (key < bestKey || (key === bestKey && c < bestCost)) {
      best = i;
      bestKey = key;
      bestCost = c;
    }
  }
  return best;
}

/**
 * Replica worker index per group (same order as `primaries`). Needs ≥ 2 eligible workers,
 * which eligibleWorkers guarantees when replicating; with several hosts every primary has a
 * worker on another host, so a replica always exists.
 */
export function assignReplicas(
  eligible: readonly WorkerCandidate[],
  scores: readonly number[],
  primaries: readonly number[],
  cap: number,
): number[] {
  const rules: ReplicaRules = {
    multiHost: new Set(eligible.map((w) => w.host)).size > 1,
    racksLabelled: new Set(eligible.filter((w) => w.rack !== '').map((w) => w.rack)).size >= 2,
  };
  const ledger = newLedger(eligible, primaries, cap, rules);
  return primaries.map((p) => {
    const r = pickReplica(p, eligible, scores, ledger, rules);
    record(ledger, p, r);
    return r;
  });
}
