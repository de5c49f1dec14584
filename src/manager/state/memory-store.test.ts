import { describe, expect, it } from 'vitest';
import { openStateStore } from './index.js';
import { MemoryStateStore } from './memory-store.js';
import { stateStoreContract } from './state-store.contract.js';

stateStoreContract('memory', async () => {
  const store = new MemoryStateStore();
  // No reopen: the memory store keeps nothing across close (docs/architecture.md#cluster-manager, "memory (tests)").
  return { store, cleanup: () => store.close() };
});

describe('MemoryStateStore', () => {
  it('is what openStateStore returns for kind "memory"', async () => {
    const store = openStateStore({ kind: 'memory', sqlitePath: '/nonexistent/never-created.db' });
    expect(store).toBeInstanceOf(MemoryStateStore);
    expect(store.kind).toBe('memory');
    await store.close();
  });
});
