// The manager's durable state (docs/architecture.md#cluster-manager): apps and shuffle allocations. Worker liveness and
// heartbeats are NOT stored: they are rebuilt from heartbeats after a restart or failover.
// Implementations: memory (tests), SQLite (embedded default), ZooKeeper (managers with leader
// election, zookeeper-store.ts). One contract suite (state-store.contract.ts) runs against
// every implementation.
import type { AppId, ShuffleId } from '../../common/ids.js';

/** How a driver or executor reaches a worker; copied into allocations so they outlive it. */
export interface WorkerRef {
  readonly workerId: string;
  readonly host: string;
  readonly rack: string;
  readonly controlPort: number;
  readonly dataPort: number;
  readonly httpPort: number;
}

export interface GroupRecord {
  readonly groupId: number;
  readonly startPartition: number;
  /** Exclusive. */
  readonly endPartition: number;
  readonly epoch: number;
  readonly primary: WorkerRef;
  readonly replica: WorkerRef | null;
}

export interface ShuffleRecord {
  readonly appId: AppId;
  readonly shuffleId: ShuffleId;
  readonly numMappers: number;
  readonly numPartitions: number;
  readonly replicate: boolean;
  readonly maxPartitionsPerGroup: number;
  readonly createdAtMs: number;
  /** Ordered by groupId, which equals the index. */
  readonly groups: readonly GroupRecord[];
}

export interface AppRecord {
  readonly appId: AppId;
  /** 1 (highest) .. 5. */
  readonly priority: number;
  readonly name: string;
  readonly user: string;
  readonly registeredAtMs: number;
  /**
   * SHA-256 (hex) of the token the registering driver sent with RegisterApp, '' for none: a
   * retry carrying the same token gets a credential again (its first answer may have been
   * lost), anyone else needs the app's credential (docs/operations.md#security).
   */
  readonly registration: string;
}

/**
 * What the manager remembers about an app or shuffle that ended: workers are told to delete
 * only data the manager knows is dead (a tombstone), and an ended id is never handed out
 * again, so a late deletion can never hit a new incarnation under the same id.
 */
export interface TombstoneRecord {
  readonly appId: AppId;
  /** Null when the whole app ended. */
  readonly shuffleId: ShuffleId | null;
  readonly reason: 'expired' | 'unregistered' | 'released';
  readonly deletedAtMs: number;
}

export interface StateSnapshot {
  readonly apps: readonly AppRecord[];
  readonly shuffles: readonly ShuffleRecord[];
  /** Sorted by (appId, shuffleId with null first). */
  readonly tombstones: readonly TombstoneRecord[];
}

/**
 * Every write is durable when its promise resolves (the manager answers the RPC after that).
 * Writes are upserts; deleting something absent is not an error.
 */
export interface StateStore {
  readonly kind: string;
  /** Everything stored, read at start (and on failover). */
  load(): Promise<StateSnapshot>;
  putApp(app: AppRecord): Promise<void>;
  /**
   * In one transaction: deletes the app, every shuffle of it and the app's shuffle
   * tombstones, and writes `tombstone` (whose shuffleId is null) in their place. The tombstone
   * is written even if the app is absent. Throws InvalidArgumentError, writing nothing, if the
   * tombstone is not keyed (appId, null).
   */
  deleteApp(appId: AppId, tombstone: TombstoneRecord): Promise<void>;
  /** Inserts or replaces a shuffle with all its groups. */
  putShuffle(shuffle: ShuffleRecord): Promise<void>;
  /** Replaces one group of an existing shuffle (reallocation); throws NotFoundError if the shuffle is unknown. */
  putGroup(appId: AppId, shuffleId: ShuffleId, group: GroupRecord): Promise<void>;
  /**
   * In one transaction: deletes the shuffle and its groups and writes (or replaces) `tombstone`,
   * even if the shuffle is absent. Throws InvalidArgumentError, writing nothing, if the
   * tombstone is not keyed (appId, shuffleId).
   */
  deleteShuffle(appId: AppId, shuffleId: ShuffleId, tombstone: TombstoneRecord): Promise<void>;
  /** Drops tombstones with deletedAtMs < beforeMs; returns how many. */
  pruneTombstones(beforeMs: number): Promise<number>;
  /** Idempotent. */
  close(): Promise<void>;
}
