// Turns a policy's plan (worker ids) into group records (worker addresses) for the manager:
// feeds the policy the healthy workers with their load and the groups already placed on
// them, rotates the tie-break cursor, and warns once when replicas share a host.
import { SluiceError } from '../common/errors.js';
import type { Logger } from '../common/obs/logger.js';
import { getPolicy } from './assignment/index.js';
import type { AllocationPolicyName, GroupPlacement } from './assignment/types.js';
import type { WorkerRegistry } from './registry/worker-registry.js';
import type { GroupRecord, ShuffleRecord, WorkerRef } from './state/store.js';

export interface PlacementRequest {
  readonly numPartitions: number;
  readonly maxPartitionsPerGroup: number;
  readonly replicate: boolean;
  readonly exclude?: ReadonlySet<string>;
  readonly firstGroupId?: number;
}

export class Placement {
  readonly #workers: WorkerRegistry;
  readonly #policy: AllocationPolicyName;
  readonly #minFreeDiskBytes: number;
  readonly #log: Logger;
  #cursor = 0;
  #warnedSharedHost = false;

  constructor(
    workers: WorkerRegistry,
    policy: AllocationPolicyName,
    minFreeDiskBytes: number,
    log: Logger,
  ) {
    this.#workers = workers;
    this.#policy = policy;
    this.#minFreeDiskBytes = minFreeDiskBytes;
    this.#log = log;
  }

  /** Groups at epoch 0 for the request; `shuffles` are the live ones (their load counts). */
  place(request: PlacementRequest, shuffles: Iterable<ShuffleRecord>): GroupRecord[] {
    const active = activeGroups(shuffles);
    const candidates = this.#workers
      .candidates()
      .map((w) => ({ ...w, activeGroups: active.get(w.id) ?? 0 }));
    const plan = getPolicy(this.#policy)(candidates, {
      ...request,
      minFreeDiskBytes: this.#minFreeDiskBytes,
      cursor: this.#cursor++,
    });
    if (plan.replicasShareHost && !this.#warnedSharedHost) {
      this.#warnedSharedHost = true;
      this.#log.warn(
        "all eligible workers run on one host: replicas share their primary's host (fine for tests and `sluice dev`, not for production)",
      );
    }
    return plan.groups.map((g) => this.#record(g));
  }

  #record(g: GroupPlacement): GroupRecord {
    return {
      groupId: g.groupId,
      startPartition: g.startPartition,
      endPartition: g.endPartition,
      epoch: 0,
      primary: this.#ref(g.primary),
      replica: g.replica === null ? null : this.#ref(g.replica),
    };
  }

  #ref(workerId: string): WorkerRef {
    const w = this.#workers.get(workerId);
    if (!w) throw new SluiceError('SLUICE_ERR_INTERNAL', `policy chose unknown worker ${workerId}`);
    return w.ref;
  }
}

/** Groups (primary or replica) of live shuffles per worker id. */
function activeGroups(shuffles: Iterable<ShuffleRecord>): Map<string, number> {
  const counts = new Map<string, number>();
  const add = (id: string) => counts.set(id, (counts.get(id) ?? 0) + 1);
  for (const s of shuffles) {
    for (const g of s.groups) {
      add(g.primary.workerId);
      if (g.replica) add(g.replica.workerId);
    }
  }
  return counts;
}
