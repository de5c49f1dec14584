// The manager's state module (docs/architecture.md#cluster-manager). The manager depends on the StateStore interface
// only; which implementation runs is configuration (`manager.state`, `manager.sqlitePath`).
import { MemoryStateStore } from './memory-store.js';
import { SqliteStateStore } from './sqlite-store.js';
import type { StateStore } from './store.js';

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

export interface StateStoreConfig {
  readonly kind: 'memory' | 'sqlite';
  /** Used by `sqlite` only; the file and its directory are created if missing. */
  readonly sqlitePath: string;
}

/** Opens the configured store; throws StateStoreError if the SQLite file cannot be used. */
export function openStateStore(config: StateStoreConfig): StateStore {
  switch (config.kind) {
    case 'memory':
      return new MemoryStateStore();
    case 'sqlite':
      return SqliteStateStore.open(config.sqlitePath);
  }
}
