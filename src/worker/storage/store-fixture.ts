// A PartitionStore over given storages with its storage health and its flusher, wired as the
// worker wires them (server.ts) but with no probe timer running and a silent logger: for the
// storage tests and bench/commit-files.mjs, which each built the same three objects.
import { SILENT_LOGGER } from '../../common/obs/logger.js';
import type { MemoryManager } from '../memory/memory-manager.js';
import { Flusher } from './flusher.js';
import { PartitionStore, type PartitionStoreOptions } from './partition-store.js';
import { StorageHealth } from './storage-health.js';
import type { Storage } from './storage.js';

export interface StoreFixtureOptions {
  readonly storages: readonly Storage[];
  readonly memory: MemoryManager;
  readonly chunkBytes: number;
  readonly fsyncOnCommit: boolean;
  /** storage.diskHighWatermark (default 0.99). */
  readonly highWatermark?: number;
  /** worker.memoryFlushRatio (default 0.8). */
  readonly flushRatio?: number;
  readonly remoteAfterBytes?: PartitionStoreOptions['remoteAfterBytes'];
}

export function storeFixture(opts: StoreFixtureOptions): {
  store: PartitionStore;
  health: StorageHealth;
  flusher: Flusher;
} {
  const { storages, memory } = opts;
  const health = new StorageHealth({
    storages,
    highWatermark: opts.highWatermark ?? 0.99,
    hungMs: 30_000,
    probeIntervalMs: 60_000,
    errorWindowMs: 60_000,
    logger: SILENT_LOGGER,
  });
  const store: PartitionStore = new PartitionStore({
    storages,
    health,
    flusher: () => flusher,
    memory,
    chunkBytes: opts.chunkBytes,
    fsyncOnCommit: opts.fsyncOnCommit,
    remoteAfterBytes: opts.remoteAfterBytes,
    logger: SILENT_LOGGER,
  });
  const flusher = new Flusher({
    memory,
    flushRatio: opts.flushRatio ?? 0.8,
    writers: () => store.writers(),
    queuedBytes: () => store.flushQueueBytes,
    logger: SILENT_LOGGER,
  });
  return { store, health, flusher };
}
