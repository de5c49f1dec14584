// The manager's state module (docs/architecture.md#cluster-manager). The manager depends on the StateStore interface
// only; which implementation runs is configuration (`manager.state`, `manager.sqlitePath`,
// `manager.zk*`).
import type { Logger } from '../../common/obs/logger.js';
import { MemoryStateStore } from './memory-store.js';
import { SqliteStateStore } from './sqlite-store.js';
import type { StateStore } from './store.js';
import { ZooKeeperStateStore } from './zookeeper-store.js';

export type {
  AppRecord,
  GroupRecord,
  ShuffleRecord,
  StateSnapshot,
  StateStore,
  TombstoneRecord,
  WorkerRef,
} from './store.js';
export { MemoryStateStore } from './memory-store.js';
export { SqliteStateStore } from './sqlite-store.js';
export { ZooKeeperStateStore, type ZooKeeperStateStoreOptions } from './zookeeper-store.js';

export interface StateStoreConfig {
  readonly kind: 'memory' | 'sqlite' | 'zookeeper';
  /** Used by `sqlite` only; the file and its directory are created if missing. */
  readonly sqlitePath: string;
  /** `zookeeper` only: the servers, "host:port,...". Default 127.0.0.1:2181. */
  readonly zkConnect?: string;
  /** `zookeeper` only: the znode everything is kept under. Default /sluice. */
  readonly zkRoot?: string;
  /** `zookeeper` only: the session timeout, also each request's deadline. Default 6 s. */
  readonly zkSessionTimeoutMs?: number;
  /** `zookeeper` only: where connection changes are logged. */
  readonly logger?: Logger;
}

/**
 * Opens the configured store; throws StateStoreError if the SQLite file cannot be used. The
 * ZooKeeper store returns at once and connects in the background: its first call waits.
 */
export function openStateStore(config: StateStoreConfig): StateStore {
  switch (config.kind) {
    case 'memory':
      return new MemoryStateStore();
    case 'sqlite':
      return SqliteStateStore.open(config.sqlitePath);
    case 'zookeeper':
      return ZooKeeperStateStore.open({
        connect: config.zkConnect ?? '127.0.0.1:2181',
        root: config.zkRoot ?? '/sluice',
        sessionTimeoutMs: config.zkSessionTimeoutMs ?? 6_000,
        logger: config.logger,
      });
  }
}
