// Partition-group allocation (docs/architecture.md#allocation-policies): pure policies that place a shuffle's
// partition groups on workers. The manager picks one by name from configuration
// (`manager.allocationPolicy`).
import { InvalidArgumentError } from '../../common/errors.js';
import { loadAware } from './load-aware.js';
import { roundRobin } from './round-robin.js';
import type { AllocationPolicy, AllocationPolicyName } from './types.js';

export type * from './types.js';
export type { PartitionRange } from './split.js';
export type { WorkerScorer } from './place.js';
export { splitIntoGroups } from './split.js';
export { placeGroups } from './place.js';
export { loadAware, loadScores, DISK_WEIGHT, MEMORY_PRESSURE_CAP } from './load-aware.js';
export { roundRobin } from './round-robin.js';

export const DEFAULT_POLICY: AllocationPolicyName = 'load-aware';

export const POLICIES: Readonly<Record<AllocationPolicyName, AllocationPolicy>> = Object.freeze({
  'load-aware': loadAware,
  'round-robin': roundRobin,
});

/** The policy called `name`; throws InvalidArgumentError for a name that is not a policy. */
export function getPolicy(name: AllocationPolicyName): AllocationPolicy {
  // Config validates the name, but a name can also arrive untyped (JSON, a test double).
  if (!Object.hasOwn(POLICIES, name)) {
    throw new InvalidArgumentError(
      'allocationPolicy',
      `unknown policy "${String(name)}"; expected one of ${Object.keys(POLICIES).join(', ')}`,
    );
  }
  return POLICIES[name];
}
