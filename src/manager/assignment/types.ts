// Inputs and outputs of the allocation policies (docs/architecture.md#cluster-manager). Policies are pure functions:
// no I/O, no clock, no randomness; the caller supplies a cursor to rotate tie-breaks.

/** A healthy worker that may receive partition groups, with its recent load. */
export interface WorkerCandidate {
  readonly id: string;
  readonly host: string;
  /** Empty string when racks are not labelled. */
  readonly rack: string;
  readonly freeDiskBytes: number;
  readonly memoryUsedBytes: number;
  readonly memoryBudgetBytes: number;
  /** Push and fetch rates averaged over the last minute. */
  readonly pushBytesPerSec: number;
  readonly fetchBytesPerSec: number;
  /**
   * Partition groups (primary or replica) of live shuffles already placed on the worker.
   * Rates arrive with heartbeats every few seconds; this count moves with every allocation,
   * so a burst of allocations between two heartbeats still spreads (load-aware policy).
   */
  readonly activeGroups?: number;
}

export interface AllocationRequest {
  readonly numPartitions: number;
  readonly maxPartitionsPerGroup: number;
  readonly replicate: boolean;
  /** Workers with less free disk than this are not eligible. */
  readonly minFreeDiskBytes: number;
  /** Rotates tie-breaks between requests so equal workers share the work; any integer. */
  readonly cursor: number;
  /** Worker ids that must not be used (e.g. the ones that just failed). */
  readonly exclude?: ReadonlySet<string>;
  /** Number the groups from here (reallocation of one group keeps its id). */
  readonly firstGroupId?: number;
}

export interface GroupPlacement {
  readonly groupId: number;
  readonly startPartition: number;
  /** Exclusive. */
  readonly endPartition: number;
  readonly primary: string;
  /** Null when replication is off. */
  readonly replica: string | null;
}

export interface AllocationPlan {
  readonly groups: readonly GroupPlacement[];
  /** True when at least one replica shares its primary's host (single-host clusters). */
  readonly replicasShareHost: boolean;
}

export type AllocationPolicy = (
  workers: readonly WorkerCandidate[],
  request: AllocationRequest,
) => AllocationPlan;

export type AllocationPolicyName = 'load-aware' | 'round-robin';
