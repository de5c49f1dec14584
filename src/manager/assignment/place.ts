// The greedy placement core shared by both allocation policies (docs/architecture.md#allocation-policies).
// A policy only supplies a score per worker (0 = idle); everything else — eligibility, the
// per-worker caps, the host and rack rules for replicas (replicas.ts) — is the same for every
// policy so the guarantees of docs/architecture.md#cluster-manager hold whichever policy the operator picks.
//
// Cost of giving a worker one more group: (assignedSoFar + 1) × (1 + score). With all scores
// equal this degenerates to "least assigned, ties in rotated order", i.e. plain round-robin;
// with scores it sends more groups to idle workers. O(G × n) for G groups and n workers.
import { eligibleWorkers } from './eligibility.js';
import { assignReplicas, cost } from './replicas.js';
import { splitIntoGroups } from './split.js';
import type {
  AllocationPlan,
  AllocationRequest,
  GroupPlacement,
  WorkerCandidate,
} from './types.js';

/** Per-worker load score, same order as `eligible`; lower is better, 0 is idle. */
export type WorkerScorer = (eligible: readonly WorkerCandidate[]) => readonly number[];

/**
 * Primary worker index per group. The cap ceil(G / n) is hard (docs/architecture.md#cluster-manager: "no worker gets
 * more than its share"); n × cap ≥ G, so some worker is always under it.
 */
function assignPrimaries(groups: number, scores: readonly number[], cap: number): number[] {
  const counts = new Array<number>(scores.length).fill(0);
  const primaries: number[] = [];
  for (let g = 0; g < groups; g++) {
    let best = -1;
    let bestCost = Infinity;
    for (let i = 0; i < scores.length; i++) {
      const assigned = counts[i]!;
      if (assigned >= cap) continue;
      const c = cost(assigned, scores[i]!);
      if (c < bestCost) {
        best = i;
        bestCost = c;
      }
    }
    counts[best]!++;
    primaries.push(best);
  }
  return primaries;
}

/**
 * Places every group of `request` on the eligible workers using `scorer`'s load scores.
 * Throws NoWorkersError (from eligibleWorkers) when nothing can be placed.
 */
export function placeGroups(
  workers: readonly WorkerCandidate[],
  request: AllocationRequest,
  scorer: WorkerScorer,
): AllocationPlan {
  const eligible = eligibleWorkers(workers, request);
  const ranges = splitIntoGroups(
    request.numPartitions,
    request.maxPartitionsPerGroup,
    request.firstGroupId ?? 0,
  );
  const scores = scorer(eligible);
  const cap = Math.ceil(ranges.length / eligible.length);
  const primaries = assignPrimaries(ranges.length, scores, cap);
  const replicas = request.replicate ? assignReplicas(eligible, scores, primaries, cap) : null;
  let replicasShareHost = false;
  // Fields are copied one by one: V8 builds `{ ...range, primary }` through a slow generic
  // path that made 10 000-group plans several times slower.
  const groups: GroupPlacement[] = ranges.map(({ groupId, startPartition, endPartition }, g) => {
    const p = primaries[g]!;
    const primary = eligible[p]!.id;
    if (replicas === null) return { groupId, startPartition, endPartition, primary, replica: null };
    const r = replicas[g]!;
    if (eligible[r]!.host === eligible[p]!.host) replicasShareHost = true;
    return { groupId, startPartition, endPartition, primary, replica: eligible[r]!.id };
  });
  return { groups, replicasShareHost };
}
