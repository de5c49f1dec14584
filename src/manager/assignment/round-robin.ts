// The `round-robin` allocation policy (docs/architecture.md#allocation-policies): ignores load. Primaries go in
// rotated order (group g → eligible[g mod n]); each replica goes to the valid worker holding
// the fewest replicas so far. Useful when load reports are missing or misleading, and as the
// baseline the load-aware policy is measured against.
import { placeGroups } from './place.js';
import type { AllocationPolicy, WorkerCandidate } from './types.js';

// Equal scores make the shared greedy core pick "least assigned, ties in rotated order",
// which is exactly g mod n for primaries (place.ts).
const noLoad = (eligible: readonly WorkerCandidate[]): number[] => eligible.map(() => 0);

export const roundRobin: AllocationPolicy = (workers, request) =>
  placeGroups(workers, request, noLoad);
