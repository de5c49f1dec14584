// The `load-aware` allocation policy, the default (docs/architecture.md#allocation-policies): prefers workers
// with the lowest push+fetch rate, memory pressure and disk usage, while the shared core
// (place.ts) keeps every worker within its share of primaries.
import { placeGroups } from './place.js';
import type { AllocationPolicy, WorkerCandidate } from './types.js';

/** Memory pressure above this counts the same: a worker twice over budget is simply "full". */
export const MEMORY_PRESSURE_CAP = 2;
/**
 * Disk usage weighs half as much as rate or memory: free disk already gates eligibility
 * (minFreeDiskBytes), so here it only breaks near-ties between otherwise similar workers.
 */
export const DISK_WEIGHT = 0.5;

/** max(0, x) capped at `hi`; NaN (a garbled heartbeat) counts as 0 rather than poisoning the plan. */
function bounded(x: number, hi: number): number {
  return x > 0 ? Math.min(x, hi) : 0;
}

/**
 * Load score per worker, 0 for an idle worker with the most free disk, at most 4.5:
 * rate = (push + fetch bytes/s) / the highest rate among the eligible workers (0 if all idle);
 * mem = memoryUsed / memoryBudget (0 without a budget, capped at MEMORY_PRESSURE_CAP);
 * disk = 1 - freeDisk / the most free disk among the eligible workers;
 * groups = activeGroups / the most active groups among the eligible workers (0 if none).
 * Rates, disk and groups are relative so the score does not depend on the hardware's absolute size.
 */
export function loadScores(eligible: readonly WorkerCandidate[]): number[] {
  const rates = eligible.map((w) => bounded(w.pushBytesPerSec + w.fetchBytesPerSec, Infinity));
  let maxRate = 0;
  let maxFree = 0;
  let maxGroups = 0;
  eligible.forEach((w, i) => {
    maxRate = Math.max(maxRate, rates[i]!);
    maxFree = Math.max(maxFree, w.freeDiskBytes);
    maxGroups = Math.max(maxGroups, bounded(w.activeGroups ?? 0, Infinity));
  });
  return eligible.map((w, i) => {
    const rate = maxRate > 0 ? bounded(rates[i]! / maxRate, 1) : 0;
    const mem =
      w.memoryBudgetBytes > 0
        ? bounded(w.memoryUsedBytes / w.memoryBudgetBytes, MEMORY_PRESSURE_CAP)
        : 0;
    const disk = maxFree > 0 ? bounded(1 - w.freeDiskBytes / maxFree, 1) : 0;
    const groups = maxGroups > 0 ? bounded((w.activeGroups ?? 0) / maxGroups, 1) : 0;
    return rate + mem + DISK_WEIGHT * disk + groups;
  });
}

export const loadAware: AllocationPolicy = (workers, request) =>
  placeGroups(workers, request, loadScores);
