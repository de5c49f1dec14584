// ClusterManager logic with an injected clock and the memory store: allocation,
// reallocation idempotence, expiry and the deletion protocol of heartbeat replies.
import { beforeEach, describe, expect, it } from 'vitest';
import { SluiceError } from '../common/errors.js';
import type { AppId, ShuffleId } from '../common/ids.js';
import {
  APP,
  DISK,
  S0,
  SETTINGS,
  addWorkers,
  alloc,
  codeOf,
  newManager,
  readyManager,
} from './cluster-manager.fixtures.js';
import { emptyLoad } from './registry/worker-registry.js';
import { MemoryStateStore } from './state/index.js';

describe('ClusterManager', () => {
  let m: ReturnType<typeof newManager>;
  beforeEach(async () => {
    m = await readyManager();
  });

  it('allocates groups covering every partition once, each with distinct primary and replica', async () => {
    const { shuffle, replicated } = await m.manager.allocateShuffle(alloc(1000));
    expect(replicated).toBe(true);
    expect(shuffle.groups).toHaveLength(10);
    let next = 0;
    for (const g of shuffle.groups) {
      expect(g.startPartition).toBe(next);
      expect(g.epoch).toBe(0);
      expect(g.replica?.workerId).not.toBe(g.primary.workerId);
      next = g.endPartition;
    }
    expect(next).toBe(1000);
  });

  it('answers a repeated AllocateShuffle with the same allocation and refuses a different shape', async () => {
    const first = await m.manager.allocateShuffle(alloc(250));
    const again = await m.manager.allocateShuffle(alloc(250));
    expect(again.shuffle).toEqual(first.shuffle);
    expect(await codeOf(m.manager.allocateShuffle(alloc(251)))).toBe('SLUICE_ERR_ALREADY_EXISTS');
  });

  it('refuses allocation for an unknown app and replication without two workers', async () => {
    expect(await codeOf(m.manager.allocateShuffle({ ...alloc(10), appId: 'nope' as AppId }))).toBe(
      'SLUICE_ERR_NOT_FOUND',
    );
    const single = newManager();
    addWorkers(single.manager, 1);
    await single.manager.registerApp({ appId: APP, priority: 3, name: '', user: '' });
    expect(await codeOf(single.manager.allocateShuffle(alloc(10)))).toBe('SLUICE_ERR_NO_WORKERS');
    const { shuffle } = await single.manager.allocateShuffle(alloc(10, false));
    expect(shuffle.groups.every((g) => g.replica === null && g.primary.workerId === 'w0')).toBe(
      true,
    );
  });

  it('reallocates a group to workers other than the failed one and bumps the epoch', async () => {
    const { shuffle } = await m.manager.allocateShuffle(alloc(100));
    const failed = shuffle.groups[0]!.primary.workerId;
    const g = await m.manager.reallocateGroup({
      appId: APP,
      shuffleId: S0,
      groupId: 0,
      oldEpoch: 0,
      failedWorkerIds: [failed],
    });
    expect(g.epoch).toBe(1);
    expect([g.primary.workerId, g.replica?.workerId]).not.toContain(failed);
    expect(g.startPartition).toBe(0);
    expect(g.endPartition).toBe(100);
    expect(m.manager.shuffle(APP, S0)!.groups[0]).toEqual(g);
    expect((await m.store.load()).shuffles[0]!.groups[0]).toEqual(g);
  });

  it('gives concurrent reallocations of the same old epoch one new epoch and one worker pair', async () => {
    await m.manager.allocateShuffle(alloc(100));
    // Each caller blames a different worker: only serialisation makes them agree.
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        m.manager.reallocateGroup({
          appId: APP,
          shuffleId: S0,
          groupId: 0,
          oldEpoch: 0,
          failedWorkerIds: [`w${i % 3}`],
        }),
      ),
    );
    expect(new Set(results.map((r) => r.epoch))).toEqual(new Set([1]));
    expect(new Set(results.map((r) => `${r.primary.workerId}/${r.replica?.workerId}`)).size).toBe(
      1,
    );
    expect((await m.metrics.reallocations.get()).values[0]!.value).toBe(1);
    expect((await m.store.load()).shuffles[0]!.groups[0]).toEqual(results[0]);
    // A request naming an epoch the group never had is a caller bug, not a reallocation.
    expect(
      await codeOf(
        m.manager.reallocateGroup({
          appId: APP,
          shuffleId: S0,
          groupId: 0,
          oldEpoch: 5,
          failedWorkerIds: [],
        }),
      ),
    ).toBe('SLUICE_ERR_STALE_EPOCH');
    expect(
      await codeOf(
        m.manager.reallocateGroup({
          appId: APP,
          shuffleId: S0,
          groupId: 9,
          oldEpoch: 0,
          failedWorkerIds: [],
        }),
      ),
    ).toBe('SLUICE_ERR_INVALID_ARGUMENT');
  });

  it('expires a silent app, forgets its shuffles and tells workers holding its data to delete it', async () => {
    await m.manager.allocateShuffle(alloc(10));
    m.clock.t += SETTINGS.appExpiryMs - 1;
    await m.manager.sweep();
    expect(m.manager.apps.has(APP)).toBe(true);
    m.clock.t += 2;
    await m.manager.sweep();
    expect(m.manager.apps.has(APP)).toBe(false);
    expect(m.manager.shuffles()).toEqual([]);
    expect((await m.store.load()).apps).toEqual([]);
    const reply = m.manager.workerHeartbeat('w0', emptyLoad(DISK), [{ appId: APP, shuffleId: 0 }]);
    expect(reply.expiredApps).toEqual([APP]);
    expect(await codeOf(Promise.resolve().then(() => m.manager.appHeartbeat(APP)))).toBe(
      'SLUICE_ERR_NOT_FOUND',
    );
  });

  it('keeps a heartbeating app alive and tells workers about released shuffles only', async () => {
    await m.manager.allocateShuffle(alloc(10));
    await m.manager.allocateShuffle({ ...alloc(10), shuffleId: 1 as ShuffleId });
    for (let i = 0; i < 5; i++) {
      m.clock.t += SETTINGS.appExpiryMs / 2;
      m.manager.appHeartbeat(APP);
      await m.manager.sweep();
    }
    expect(m.manager.apps.has(APP)).toBe(true);
    await m.manager.releaseShuffle(APP, 1 as ShuffleId);
    const reply = m.manager.workerHeartbeat('w1', emptyLoad(DISK), [
      { appId: APP, shuffleId: 0 },
      { appId: APP, shuffleId: 1 },
    ]);
    expect(reply).toMatchObject({
      reregister: false,
      expiredApps: [],
      releasedShuffles: [{ appId: APP, shuffleId: 1 }],
    });
  });

  it('declares a silent worker lost, allocates around it, and revives it on a heartbeat', async () => {
    m.clock.t += 10_000;
    m.manager.workerHeartbeat('w0', emptyLoad(DISK), []);
    m.manager.workerHeartbeat('w1', emptyLoad(DISK), []);
    m.clock.t += SETTINGS.workerLostTimeoutMs - 5_000;
    await m.manager.sweep();
    expect(m.manager.workers.get('w2')!.health).toBe('lost');
    expect(m.manager.workers.get('w0')!.health).toBe('healthy');
    const { shuffle } = await m.manager.allocateShuffle(alloc(1000));
    const used = new Set(shuffle.groups.flatMap((g) => [g.primary.workerId, g.replica!.workerId]));
    expect(used).toEqual(new Set(['w0', 'w1']));
    m.manager.workerHeartbeat('w2', emptyLoad(DISK), []);
    expect(m.manager.workers.get('w2')!.health).toBe('healthy');
    expect(m.manager.workerHeartbeat('stranger', emptyLoad(DISK), []).reregister).toBe(true);
  });

  it('reloads apps and allocations from the store after a restart', async () => {
    const { shuffle } = await m.manager.allocateShuffle(alloc(300));
    const restarted = newManager(m.store);
    await restarted.manager.load();
    expect(restarted.manager.apps.has(APP)).toBe(true);
    expect(restarted.manager.shuffle(APP, S0)).toEqual(shuffle);
    // Heartbeats are not stored: a reloaded app gets a full grace period from the restart.
    restarted.clock.t += SETTINGS.appExpiryMs - 1;
    await restarted.manager.sweep();
    expect(restarted.manager.apps.has(APP)).toBe(true);
  });

  it('leaves memory untouched when the store refuses a write', async () => {
    const store = new MemoryStateStore();
    const broken = newManager(store);
    addWorkers(broken.manager, 2);
    await broken.manager.registerApp({ appId: APP, priority: 3, name: '', user: '' });
    store.putShuffle = () =>
      Promise.reject(new SluiceError('SLUICE_ERR_STATE_STORE', 'disk on fire'));
    expect(await codeOf(broken.manager.allocateShuffle(alloc(10)))).toBe('SLUICE_ERR_STATE_STORE');
    expect(broken.manager.shuffles()).toEqual([]);
  });

  it('skips decommissioning workers when allocating', async () => {
    m.manager.workers.requestDecommission('w2');
    const { shuffle } = await m.manager.allocateShuffle(alloc(500));
    expect(
      shuffle.groups.some((g) => g.primary.workerId === 'w2' || g.replica?.workerId === 'w2'),
    ).toBe(false);
    expect(m.manager.workerHeartbeat('w2', emptyLoad(DISK), []).decommission).toBe(true);
  });
});

describe('ClusterManager placement across shuffles', () => {
  it('spreads many small shuffles over all workers instead of piling them on the idlest', async () => {
    const m = newManager();
    addWorkers(m.manager, 4);
    // Slightly different traffic; the rates stay fixed because no heartbeat arrives meanwhile.
    [10, 12, 14, 16].forEach((rate, i) =>
      m.manager.workerHeartbeat(`w${i}`, { ...emptyLoad(DISK), pushBytesPerSec: rate }, []),
    );
    await m.manager.registerApp({ appId: APP, priority: 3, name: '', user: '' });
    for (let s = 0; s < 40; s++)
      await m.manager.allocateShuffle({ ...alloc(10), shuffleId: s as ShuffleId });
    // Primary and replica receive the same pushes (docs/architecture.md#lifecycle-of-one-shuffle step 4), so both roles count.
    const placed = new Map<string, number>();
    const add = (id: string) => placed.set(id, (placed.get(id) ?? 0) + 1);
    for (const sh of m.manager.shuffles())
      for (const g of sh.groups) [g.primary.workerId, g.replica!.workerId].forEach(add);
    expect(placed.size).toBe(4);
    for (const n of placed.values()) expect(n).toBeGreaterThanOrEqual(15);
  });
});
