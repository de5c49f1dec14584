// Settings and request shapes of the manager's logic (ClusterManager), independent of gRPC.
import type { AppId, ShuffleId } from '../common/ids.js';
import type { AllocationPolicyName } from './assignment/types.js';

export interface ManagerSettings {
  readonly workerHeartbeatIntervalMs: number;
  readonly workerLostTimeoutMs: number;
  /** A lost worker silent this long is dropped from the registry. */
  readonly workerForgetMs: number;
  readonly appHeartbeatIntervalMs: number;
  readonly appExpiryMs: number;
  readonly allocationPolicy: AllocationPolicyName;
  readonly maxPartitionsPerGroup: number;
  /** Per-shuffle and per-app limits (docs/operations.md#limits-against-hostile-or-buggy-clients). */
  readonly limits: ManagerQuotas;
  readonly minFreeDiskBytes: number;
  /** How long an ended app/shuffle id is remembered (deletion orders, no reuse). */
  readonly tombstoneRetentionMs: number;
  /** Data of apps the manager has never heard of is deleted only after this much uptime. */
  readonly orphanGraceMs: number;
}

export interface ManagerQuotas {
  /** A shuffle is cut into at most this many groups. */
  readonly maxGroupsPerShuffle: number;
  /** Live shuffles, and partitions and groups summed over them, one app may hold. */
  readonly maxShufflesPerApp: number;
  readonly maxPartitionsPerApp: number;
  readonly maxGroupsPerApp: number;
  /** Live apps in the cluster. */
  readonly maxApps: number;
}

export interface Clock {
  now(): number;
}

export interface ShuffleRefView {
  readonly appId: string;
  readonly shuffleId: number;
}

/** What a worker reports of one shuffle it holds (HeldShuffle in manager.proto). */
export interface HeldSizesView {
  readonly bytesPushed: number;
  /** The commit finished on that worker; the other fields describe its files. */
  readonly committed: boolean;
  readonly bytesCommitted: number;
  readonly partitionFiles: number;
  readonly largestPartitionBytes: number;
}

/** A held shuffle; without sizes when the worker's figures did not add up. */
export interface HeldShuffleView extends ShuffleRefView {
  readonly sizes?: HeldSizesView;
}

export interface HeartbeatReply {
  readonly reregister: boolean;
  readonly expiredApps: string[];
  readonly releasedShuffles: ShuffleRefView[];
  readonly decommission: boolean;
  /** A decommission was withdrawn: a DECOMMISSIONING worker serves again. */
  readonly recommission: boolean;
}

export interface AllocateRequest {
  readonly appId: AppId;
  readonly shuffleId: ShuffleId;
  readonly numMappers: number;
  readonly numPartitions: number;
  readonly replicate: boolean;
  /** 0 means the manager's default. */
  readonly maxPartitionsPerGroup: number;
}

export interface ReallocateRequest {
  readonly appId: AppId;
  readonly shuffleId: ShuffleId;
  readonly groupId: number;
  readonly oldEpoch: number;
  readonly failedWorkerIds: readonly string[];
}
