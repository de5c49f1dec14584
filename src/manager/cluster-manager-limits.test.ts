// Limits against hostile or buggy clients in the manager's logic
// (docs/operations.md#limits-against-hostile-or-buggy-clients): per-app quotas, the group-count
// rule of a shuffle, and a live worker id claimed from another address. Each refusal has its
// code and is counted by the config key of the limit.
import { beforeEach, describe, expect, it } from 'vitest';
import { QuotaExceededError, SluiceError } from '../common/errors.js';
import type { AppId, ShuffleId } from '../common/ids.js';
import type { ManagerMetrics } from './metrics.js';
import { groupSizeFor } from './assignment/split.js';
import { APP, SETTINGS, addWorkers, alloc, newManager } from './cluster-manager.fixtures.js';
import { emptyLoad } from './registry/worker-registry.js';
import { MemoryStateStore } from './state/index.js';

const LIMITS = {
  maxGroupsPerShuffle: 50,
  maxShufflesPerApp: 3,
  maxPartitionsPerApp: 1_000,
  maxGroupsPerApp: 60,
  maxApps: 3,
};

async function refusals(metrics: ManagerMetrics, limit: string): Promise<number> {
  const { values } = await metrics.limitRefusals.get();
  return values.find((v) => v.labels.limit === limit)?.value ?? 0;
}

async function limitedManager() {
  const m = newManager(new MemoryStateStore(), undefined, { ...SETTINGS, limits: LIMITS });
  await m.manager.load();
  addWorkers(m.manager, 3);
  for (const appId of [APP, 'app-2'])
    await m.manager.registerApp({ appId: appId as AppId, priority: 3, name: '', user: '' });
  return m;
}

const shuffle = (
  shuffleId: number,
  numPartitions: number,
  appId: string = APP,
  maxPerGroup = 0,
) => ({
  ...alloc(numPartitions),
  appId: appId as AppId,
  shuffleId: shuffleId as ShuffleId,
  maxPartitionsPerGroup: maxPerGroup,
});

async function refusal(p: Promise<unknown>): Promise<SluiceError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SluiceError);
  return err as SluiceError;
}

describe('groupSizeFor: a shuffle is cut into at most maxGroupsPerShuffle groups', () => {
  it.each([
    // partitions, asked, default, max groups -> size
    [1_000_000, 0, 100, 10_000, 100],
    [1_000_000, 0, 100, 1_000, 1_000],
    [1_000_001, 0, 100, 10_000, 101],
    [10, 1, 100, 10_000, 1],
    [1_000_000, 100, 100, 10_000, 100],
    [1_000_000, 5_000, 100, 10_000, 5_000],
  ])('%d partitions, asked %d, default %d, at most %d groups: size %d', (n, asked, d, g, want) => {
    expect(groupSizeFor(n, asked, d, g)).toBe(want);
    expect(Math.ceil(n / want)).toBeLessThanOrEqual(g);
  });

  it('refuses an explicit size that would make too many groups, naming the smallest one', () => {
    expect(() => groupSizeFor(1_000_000, 1, 100, 10_000)).toThrow(
      expect.objectContaining({
        code: 'SLUICE_ERR_INVALID_ARGUMENT',
        field: 'max_partitions_per_group',
        message: expect.stringContaining('ask for 100 or more'),
      }),
    );
    expect(() => groupSizeFor(1_000_000, 99, 100, 10_000)).toThrow(SluiceError);
  });
});

describe('ClusterManager limits', () => {
  let m: Awaited<ReturnType<typeof limitedManager>>;
  beforeEach(async () => {
    m = await limitedManager();
  });

  it('refuses a shuffle asking for groups smaller than the group-count rule allows, counted', async () => {
    // 1000 partitions in at most 50 groups: 20 per group at least.
    const err = await refusal(m.manager.allocateShuffle(shuffle(0, 1_000, APP, 1)));
    expect(err).toMatchObject({ code: 'SLUICE_ERR_INVALID_ARGUMENT' });
    expect(err.message).toContain('manager.maxGroupsPerShuffle');
    expect(await refusals(m.metrics, 'manager.maxGroupsPerShuffle')).toBe(1);
    expect(m.manager.shuffles()).toHaveLength(0);
    // The default size grows instead: 50 groups of 20 (the default, 100 per group, is larger).
    const ok = await m.manager.allocateShuffle(shuffle(1, 1_000, APP, 20));
    expect(ok.shuffle.groups).toHaveLength(50);
  });

  it('lets the default group size grow so a large shuffle fits in the group count', async () => {
    const settings = { ...SETTINGS, maxPartitionsPerGroup: 1, limits: { ...LIMITS } };
    const big = newManager(new MemoryStateStore(), undefined, settings);
    await big.manager.load();
    addWorkers(big.manager, 3);
    await big.manager.registerApp({ appId: APP, priority: 3, name: '', user: '' });
    const { shuffle: s } = await big.manager.allocateShuffle(shuffle(0, 1_000));
    expect(s.groups).toHaveLength(50);
    expect(s.maxPartitionsPerGroup).toBe(20);
    // A repeated request with the default is the same shuffle (idempotent).
    expect((await big.manager.allocateShuffle(shuffle(0, 1_000))).shuffle).toBe(s);
  });

  it('refuses a new app past maxApps with QUOTA_EXCEEDED; a live app may register again', async () => {
    const m = await limitedManager(); // APP and app-2 live; maxApps is 3
    await m.manager.registerApp({ appId: 'app-3' as AppId, priority: 3, name: '', user: '' });
    const err = await m.manager
      .registerApp({ appId: 'app-4' as AppId, priority: 3, name: '', user: '' })
      .catch((e: unknown) => e as SluiceError);
    expect(err).toBeInstanceOf(QuotaExceededError);
    expect((err as SluiceError).context).toMatchObject({ limit: 'manager.maxApps', max: 3 });
    expect(await refusals(m.metrics, 'manager.maxApps')).toBe(1);
    await m.manager.registerApp({ appId: APP, priority: 2, name: '', user: '' });
    await m.manager.unregisterApp('app-3' as AppId);
    await m.manager.registerApp({ appId: 'app-4' as AppId, priority: 3, name: '', user: '' });
  });

  it('refuses a shuffle past maxShufflesPerApp with QUOTA_EXCEEDED; releasing one makes room', async () => {
    for (let i = 0; i < 3; i++) await m.manager.allocateShuffle(shuffle(i, 10));
    const err = await refusal(m.manager.allocateShuffle(shuffle(3, 10)));
    expect(err).toBeInstanceOf(QuotaExceededError);
    expect(err).toMatchObject({ code: 'SLUICE_ERR_QUOTA_EXCEEDED', retriable: false });
    expect(err.context).toMatchObject({ limit: 'manager.maxShufflesPerApp', max: 3, would: 4 });
    expect(await refusals(m.metrics, 'manager.maxShufflesPerApp')).toBe(1);
    // A repeated allocation of a live shuffle is not a new one.
    await m.manager.allocateShuffle(shuffle(2, 10));
    // Another app has its own quota.
    await m.manager.allocateShuffle(shuffle(0, 10, 'app-2'));
    await m.manager.releaseShuffle(APP, 0 as ShuffleId);
    await m.manager.allocateShuffle(shuffle(3, 10));
    expect(m.manager.usage(APP)).toEqual({ shuffles: 3, partitions: 30, groups: 3 });
  });

  it('refuses partitions and groups past the per-app sums, counted per kind', async () => {
    await m.manager.allocateShuffle(shuffle(0, 900));
    const partitions = await refusal(m.manager.allocateShuffle(shuffle(1, 101)));
    expect(partitions.context).toMatchObject({ limit: 'manager.maxPartitionsPerApp' });
    expect(partitions.code).toBe('SLUICE_ERR_QUOTA_EXCEEDED');
    // 900 partitions in groups of 100 (9), then 50 groups of 1: 59 groups.
    await m.manager.allocateShuffle(shuffle(1, 50, APP, 1));
    expect(m.manager.usage(APP)).toEqual({ shuffles: 2, partitions: 950, groups: 59 });
    const groups = await refusal(m.manager.allocateShuffle(shuffle(2, 2, APP, 1)));
    expect(groups.context).toMatchObject({ limit: 'manager.maxGroupsPerApp', would: 61 });
    expect(await refusals(m.metrics, 'manager.maxPartitionsPerApp')).toBe(1);
    expect(await refusals(m.metrics, 'manager.maxGroupsPerApp')).toBe(1);
    // Reallocation moves a group to a new epoch and adds none: the quota does not stop it.
    await m.manager.reallocateGroup({
      appId: APP,
      shuffleId: 1 as ShuffleId,
      groupId: 0,
      oldEpoch: 0,
      failedWorkerIds: [],
    });
    expect(m.manager.usage(APP).groups).toBe(59);
  });

  it('usage survives a restart (rebuilt from the store) and an ended app frees it', async () => {
    await m.manager.allocateShuffle(shuffle(0, 900));
    const again = newManager(m.store, undefined, { ...SETTINGS, limits: LIMITS });
    await again.manager.load();
    expect(again.manager.usage(APP)).toEqual({ shuffles: 1, partitions: 900, groups: 9 });
    await again.manager.unregisterApp(APP);
    expect(again.manager.usage(APP)).toEqual({ shuffles: 0, partitions: 0, groups: 0 });
  });

  it('refuses a live worker id from another address; same address, lost or shutting down: accepted', async () => {
    const ref = (host: string, dataPort = 2, controlPort = 1) => ({
      workerId: 'w0',
      host,
      rack: '',
      controlPort,
      dataPort,
      httpPort: 0,
    });
    const refused = async () => (await m.metrics.workerRegistrationsRefused.get()).values[0]!.value;
    // addWorkers registered w0 on h0, data 2, control 1.
    for (const other of [ref('h9'), ref('h0', 3), ref('h0', 2, 4)]) {
      expect(() => m.manager.registerWorker(other, 1 << 30, [])).toThrow(
        expect.objectContaining({ code: 'SLUICE_ERR_ALREADY_EXISTS' }),
      );
    }
    expect(await refused()).toBe(3);
    expect(m.manager.workers.get('w0')!.ref.host).toBe('h0');
    // A restart on the same address (another HTTP port) is a registration like any other.
    m.manager.registerWorker({ ...ref('h0'), httpPort: 8 }, 1 << 30, []);
    expect(m.manager.workers.get('w0')!.ref.httpPort).toBe(8);
    // Announced SHUTTING_DOWN: the id may come back from elsewhere.
    m.manager.workerHeartbeat('w0', { ...emptyLoad(), servingState: 'SHUTTING_DOWN' }, []);
    m.manager.registerWorker(ref('h7'), 1 << 30, []);
    expect(m.manager.workers.get('w0')!.ref.host).toBe('h7');
    // Lost: from anywhere.
    m.clock.t += SETTINGS.workerLostTimeoutMs + 1;
    await m.manager.sweep();
    expect(m.manager.workers.get('w0')!.health).toBe('lost');
    m.manager.registerWorker(ref('h8'), 1 << 30, []);
    expect(m.manager.workers.get('w0')).toMatchObject({ health: 'healthy', ref: ref('h8') });
    expect(await refused()).toBe(3);
  });
});
