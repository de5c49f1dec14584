// Ended apps and shuffles (tombstones), the deletion orders in heartbeat replies, the orphan
// grace period, and "the store before memory" for every mutating call.
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
import { MemoryStateStore, type StateStore } from './state/index.js';

const held = (appId: string, shuffleId = 0) => [{ appId, shuffleId }];

describe('ClusterManager tombstones', () => {
  let m: ReturnType<typeof newManager>;
  beforeEach(async () => {
    m = await readyManager();
  });

  it('refuses to register an expired app id again, so a late deletion cannot hit a new incarnation', async () => {
    m.clock.t += SETTINGS.appExpiryMs + 1;
    await m.manager.sweep();
    const err = await m.manager
      .registerApp({ appId: APP, priority: 3, name: '', user: '' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SluiceError);
    expect((err as SluiceError).code).toBe('SLUICE_ERR_ALREADY_EXISTS');
    expect((err as SluiceError).message).toContain('register under a new app id');
    let heartbeatError: unknown;
    try {
      m.manager.appHeartbeat(APP);
    } catch (e) {
      heartbeatError = e;
    }
    expect((heartbeatError as SluiceError).message).toMatch(
      /ended \(expired at .*\); its shuffle data was deleted/,
    );
  });

  it('refuses to reuse a released shuffle id and orders only its data deleted', async () => {
    await m.manager.allocateShuffle(alloc(10));
    await m.manager.allocateShuffle({ ...alloc(10), shuffleId: 1 as ShuffleId });
    await m.manager.releaseShuffle(APP, S0);
    expect(await codeOf(m.manager.allocateShuffle(alloc(10)))).toBe('SLUICE_ERR_ALREADY_EXISTS');
    const reply = m.manager.workerHeartbeat('w0', undefined, [
      { appId: APP, shuffleId: 0 },
      { appId: APP, shuffleId: 1 },
      { appId: APP, shuffleId: 7 }, // unknown to the manager but not known dead: kept
    ]);
    expect(reply.releasedShuffles).toEqual([{ appId: APP, shuffleId: 0 }]);
    expect(reply.expiredApps).toEqual([]);
  });

  it('deletes data of apps it never knew only after the orphan grace period', async () => {
    expect(m.manager.workerHeartbeat('w0', undefined, held('stranger')).expiredApps).toEqual([]);
    m.clock.t += SETTINGS.orphanGraceMs - 1;
    expect(m.manager.workerHeartbeat('w0', undefined, held('stranger')).expiredApps).toEqual([]);
    m.clock.t += 2;
    expect(m.manager.workerHeartbeat('w0', undefined, held('stranger')).expiredApps).toEqual([
      'stranger',
    ]);
  });

  it('remembers ended apps across a restart and orders their data deleted at once', async () => {
    await m.manager.unregisterApp(APP);
    const restarted = newManager(m.store);
    await restarted.manager.load();
    addWorkers(restarted.manager, 1);
    expect(restarted.manager.workerHeartbeat('w0', undefined, held(APP)).expiredApps).toEqual([
      APP,
    ]);
    expect(
      await codeOf(restarted.manager.registerApp({ appId: APP, priority: 1, name: '', user: '' })),
    ).toBe('SLUICE_ERR_ALREADY_EXISTS');
  });

  it('forgets tombstones after the retention, in memory and in the store', async () => {
    await m.manager.unregisterApp(APP);
    m.clock.t += SETTINGS.tombstoneRetentionMs + 1;
    await m.manager.sweep();
    expect(m.manager.tombstones.list()).toEqual([]);
    expect((await m.store.load()).tombstones).toEqual([]);
    await m.manager.registerApp({ appId: APP, priority: 3, name: '', user: '' });
    expect(m.manager.apps.has(APP)).toBe(true);
  });

  it('does not expire an app whose heartbeat arrived after the sweep looked', async () => {
    m.clock.t += SETTINGS.appExpiryMs + 1;
    m.manager.appHeartbeat(APP);
    expect(await m.manager.unregisterApp(APP, 'expired')).toBe(false);
    expect(m.manager.apps.has(APP)).toBe(true);
  });

  it('counts allocation calls as proof of life for the app', async () => {
    await m.manager.allocateShuffle(alloc(10));
    for (let i = 0; i < 4; i++) {
      m.clock.t += SETTINGS.appExpiryMs / 2;
      for (const w of ['w0', 'w1', 'w2']) m.manager.workerHeartbeat(w, undefined, []);
      await m.manager.reallocateGroup({
        appId: APP,
        shuffleId: S0,
        groupId: 0,
        oldEpoch: i,
        failedWorkerIds: [],
      });
      await m.manager.sweep();
    }
    expect(m.manager.apps.has(APP)).toBe(true);
  });
});

describe('ClusterManager workers', () => {
  it('keeps the last disk report when a heartbeat carries no load', async () => {
    const m = newManager();
    addWorkers(m.manager, 2);
    m.manager.workerHeartbeat('w0', undefined, []);
    expect(m.manager.workers.candidates().find((c) => c.id === 'w0')!.freeDiskBytes).toBe(
      DISK[0]!.freeBytes,
    );
    m.manager.workerHeartbeat('w0', { ...emptyLoad([]), pushBytesPerSec: 5 }, []);
    expect(m.manager.workers.candidates().find((c) => c.id === 'w0')!.freeDiskBytes).toBe(0);
  });

  it('allocates nothing to a worker whose storages are all unhealthy; counts a healthy S3 tier as room', async () => {
    const m = await readyManager(); // three workers, w0..w2, and the app
    const disk = (healthy: boolean) => ({
      path: '/d',
      capacityBytes: 1e12,
      freeBytes: 5e11,
      healthy,
      kind: 'disk',
      state: healthy ? 'healthy' : 'failing',
    });
    // w0: its only disk failing; w1: a failing disk and a healthy S3 tier (no capacity known).
    m.manager.workerHeartbeat('w0', emptyLoad([disk(false)]), []);
    m.manager.workerHeartbeat(
      'w1',
      emptyLoad([
        disk(false),
        {
          path: 's3://b/p',
          capacityBytes: 0,
          freeBytes: 0,
          healthy: true,
          kind: 's3',
          state: 'healthy',
        },
      ]),
      [],
    );
    m.manager.workerHeartbeat('w2', emptyLoad([disk(true)]), []);
    const free = (id: string) =>
      m.manager.workers.candidates().find((c) => c.id === id)!.freeDiskBytes;
    expect(free('w0')).toBe(0);
    expect(free('w1')).toBeGreaterThan(1e12);
    expect(free('w2')).toBe(5e11);
    const { shuffle } = await m.manager.allocateShuffle(alloc(30));
    const used = new Set(shuffle.groups.flatMap((g) => [g.primary?.workerId, g.replica?.workerId]));
    expect(used.has('w0')).toBe(false);
    expect(used).toEqual(new Set(['w1', 'w2']));
  });

  it('drops workers lost for longer than workerForgetMs', async () => {
    const m = newManager();
    addWorkers(m.manager, 2);
    m.clock.t += SETTINGS.workerLostTimeoutMs + 1;
    m.manager.workerHeartbeat('w1', undefined, []);
    await m.manager.sweep();
    expect(m.manager.workers.get('w0')!.health).toBe('lost');
    m.clock.t += SETTINGS.workerForgetMs;
    m.manager.workerHeartbeat('w1', undefined, []);
    await m.manager.sweep();
    expect(m.manager.workerList().map((w) => w.ref.workerId)).toEqual(['w1']);
  });
});

describe('ClusterManager shuffle sizes', () => {
  const sizes = (bytesPushed: number, committed?: [number, number, number]) => ({
    bytesPushed,
    committed: committed !== undefined,
    bytesCommitted: committed?.[0] ?? 0,
    partitionFiles: committed?.[1] ?? 0,
    largestPartitionBytes: committed?.[2] ?? 0,
  });

  it("sums the workers' latest reports of live shuffles, and forgets them with the shuffle", async () => {
    const m = await readyManager();
    await m.manager.allocateShuffle(alloc(10));
    expect(m.manager.shuffleSizes(APP, S0)).toEqual({
      bytesPushed: null,
      bytesCommitted: null,
      partitionFiles: null,
      largestPartitionBytes: null,
      skew: null,
    });
    m.manager.workerHeartbeat('w0', undefined, [{ appId: APP, shuffleId: 0, sizes: sizes(500) }]);
    m.manager.workerHeartbeat('w1', undefined, [{ appId: APP, shuffleId: 0, sizes: sizes(300) }]);
    // A shuffle the manager does not hold is not kept.
    m.manager.workerHeartbeat('w1', undefined, [{ appId: APP, shuffleId: 5, sizes: sizes(9) }]);
    expect(m.manager.shuffleSizes(APP, 5 as ShuffleId).bytesPushed).toBeNull();
    expect(m.manager.shuffleSizes(APP, S0)).toMatchObject({
      bytesPushed: 800,
      bytesCommitted: null,
      skew: null,
    });
    // Committed on both: 4 files of 1000 bytes in all, the largest 400 (mean 250).
    const w0 = sizes(600, [600, 2, 400]);
    m.manager.workerHeartbeat('w0', undefined, [{ appId: APP, shuffleId: 0, sizes: w0 }]);
    const w1 = sizes(400, [400, 2, 200]);
    m.manager.workerHeartbeat('w1', undefined, [{ appId: APP, shuffleId: 0, sizes: w1 }]);
    expect(m.manager.shuffleSizes(APP, S0)).toEqual({
      bytesPushed: 1000,
      bytesCommitted: 1000,
      partitionFiles: 4,
      largestPartitionBytes: 400,
      skew: 1.6,
    });
    // A worker registering again (a new process) reports afresh.
    addWorkers(m.manager, 1);
    expect(m.manager.shuffleSizes(APP, S0)).toMatchObject({ bytesPushed: 400, skew: 1 });
    await m.manager.releaseShuffle(APP, S0);
    // Released: its figures are gone and a late report of it is not kept.
    expect(m.manager.shuffleSizes(APP, S0).bytesPushed).toBeNull();
    m.manager.workerHeartbeat('w1', undefined, [{ appId: APP, shuffleId: 0, sizes: w1 }]);
    expect(m.manager.shuffleSizes(APP, S0).bytesPushed).toBeNull();
  });
});

type Mutation = (m: ReturnType<typeof newManager>) => Promise<unknown>;

describe('ClusterManager writes the store before memory', () => {
  const cases: [string, keyof StateStore, Mutation][] = [
    [
      'registerApp',
      'putApp',
      (m) => m.manager.registerApp({ appId: 'other' as AppId, priority: 3, name: '', user: '' }),
    ],
    ['unregisterApp', 'deleteApp', (m) => m.manager.unregisterApp(APP)],
    [
      'allocateShuffle',
      'putShuffle',
      (m) => m.manager.allocateShuffle({ ...alloc(10), shuffleId: 1 as ShuffleId }),
    ],
    [
      'reallocateGroup',
      'putGroup',
      (m) =>
        m.manager.reallocateGroup({
          appId: APP,
          shuffleId: S0,
          groupId: 0,
          oldEpoch: 0,
          failedWorkerIds: [],
        }),
    ],
    ['releaseShuffle', 'deleteShuffle', (m) => m.manager.releaseShuffle(APP, S0)],
  ];

  it.each(cases)(
    '%s leaves memory untouched when the store refuses %s',
    async (_name, method, mutate) => {
      const store = new MemoryStateStore();
      const m = newManager(store);
      addWorkers(m.manager, 3);
      await m.manager.registerApp({ appId: APP, priority: 3, name: '', user: '' });
      await m.manager.allocateShuffle(alloc(10));
      const before = JSON.stringify([
        m.manager.appList(),
        m.manager.shuffles(),
        m.manager.tombstones.list(),
      ]);
      (store as unknown as Record<string, unknown>)[method] = () =>
        Promise.reject(new SluiceError('SLUICE_ERR_STATE_STORE', 'disk on fire'));
      expect(await codeOf(mutate(m))).toBe('SLUICE_ERR_STATE_STORE');
      expect(
        JSON.stringify([m.manager.appList(), m.manager.shuffles(), m.manager.tombstones.list()]),
      ).toBe(before);
    },
  );
});
