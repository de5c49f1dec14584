// The behaviour every StateStore must have (conventions §5: one contract suite, run against
// every implementation). Each implementation's test file calls stateStoreContract() with a
// factory; a durable store also passes `reopen` so the suite checks that what was written is
// still there after close + open (design §6: the state survives a manager restart).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NotFoundError, StateStoreError } from '../../common/errors.js';
import { parseAppId, parseShuffleId } from '../../common/ids.js';
import type { AppId, ShuffleId } from '../../common/ids.js';
import type {
  AppRecord,
  GroupRecord,
  ShuffleRecord,
  StateSnapshot,
  StateStore,
  WorkerRef,
} from './store.js';

export interface ContractHandle {
  readonly store: StateStore;
  /** Closes the current store and opens the same storage again; durable stores only. */
  readonly reopen?: () => Promise<StateStore>;
  /** Closes whichever store is current and removes everything the factory created. */
  readonly cleanup: () => Promise<void>;
}

const BASE_MS = 1_700_000_000_000;

export function worker(n: number): WorkerRef {
  return {
    workerId: `worker-${n}`,
    host: `host-${n % 3}.example`,
    rack: `rack-${n % 2}`,
    controlPort: 9100 + n,
    dataPort: 9200 + n,
    httpPort: 9300 + n,
  };
}

export function app(id: string, overrides: Partial<AppRecord> = {}): AppRecord {
  return {
    appId: parseAppId(id),
    priority: 3,
    name: `job ${id}`,
    user: 'alice',
    registeredAtMs: BASE_MS,
    ...overrides,
  };
}

export function group(groupId: number, overrides: Partial<GroupRecord> = {}): GroupRecord {
  return {
    groupId,
    startPartition: groupId * 10,
    endPartition: groupId * 10 + 10,
    epoch: 0,
    primary: worker(groupId),
    // Every third group without a replica, so null and WorkerRef both round-trip.
    replica: groupId % 3 === 2 ? null : worker(groupId + 1),
    ...overrides,
  };
}

export function shuffle(
  appId: string,
  shuffleId: number,
  numGroups: number,
  overrides: Partial<ShuffleRecord> = {},
): ShuffleRecord {
  const groups = Array.from({ length: numGroups }, (_, i) => group(i));
  return {
    appId: parseAppId(appId),
    shuffleId: parseShuffleId(shuffleId),
    numMappers: 100,
    numPartitions: numGroups * 10,
    replicate: true,
    maxPartitionsPerGroup: 10,
    createdAtMs: BASE_MS + shuffleId,
    groups,
    ...overrides,
  };
}

const aid = (id: string): AppId => parseAppId(id);
const sid = (id: number): ShuffleId => parseShuffleId(id);

/** Makes a readonly record writable so a test can try to corrupt the store through it. */
function mutable<T>(value: T): { -readonly [K in keyof T]: T[K] } {
  return value as { -readonly [K in keyof T]: T[K] };
}

export function stateStoreContract(name: string, open: () => Promise<ContractHandle>): void {
  describe(`StateStore contract: ${name}`, () => {
    let handle: ContractHandle;
    let store: StateStore;

    beforeEach(async () => {
      handle = await open();
      store = handle.store;
    });
    afterEach(async () => {
      await handle.cleanup();
    });

    it('loads an empty snapshot from a new store', async () => {
      expect(await store.load()).toEqual({ apps: [], shuffles: [] });
    });

    it('round-trips apps and shuffles exactly', async () => {
      const apps = [app('a1', { priority: 1, name: `it's "quoted" ✓ 中文`, user: '' }), app('a2')];
      const shuffles = [
        shuffle('a1', 0, 3, { replicate: false, createdAtMs: Date.now() }),
        shuffle('a1', 0x7fff_ffff, 1, { groups: [group(0, { replica: null, epoch: 42 })] }),
        shuffle('a2', 5, 0, { numPartitions: 0 }),
      ];
      for (const a of apps) await store.putApp(a);
      for (const s of shuffles) await store.putShuffle(s);
      const loaded = await store.load();
      expect(loaded).toEqual({ apps, shuffles });
      expect(loaded.shuffles[0]!.groups[2]!.replica).toBeNull();
      expect(loaded.shuffles[0]!.groups[0]!.replica).toEqual(worker(1));
      expect(loaded.shuffles[0]!.replicate).toBe(false);
    });

    it('putApp upserts: the second write of an app wins and only one is kept', async () => {
      await store.putApp(app('a1', { priority: 2, name: 'first' }));
      await store.putApp(app('a1', { priority: 5, name: 'second', registeredAtMs: BASE_MS + 9 }));
      const { apps } = await store.load();
      expect(apps).toEqual([
        app('a1', { priority: 5, name: 'second', registeredAtMs: BASE_MS + 9 }),
      ]);
    });

    it('putShuffle replaces the shuffle and all its groups, leaving no stale groups', async () => {
      await store.putShuffle(shuffle('a1', 1, 5));
      const replacement = shuffle('a1', 1, 2, { numMappers: 7, replicate: false });
      await store.putShuffle(replacement);
      const { shuffles } = await store.load();
      expect(shuffles).toEqual([replacement]);
      expect(shuffles[0]!.groups.map((g) => g.groupId)).toEqual([0, 1]);
    });

    it('keeps groups ordered by groupId whatever order they were written in', async () => {
      const s = shuffle('a1', 1, 4);
      await store.putShuffle({ ...s, groups: [...s.groups].reverse() });
      expect((await store.load()).shuffles).toEqual([s]);
    });

    it('putGroup replaces exactly one group and the new epoch is visible on load', async () => {
      const s = shuffle('a1', 1, 4);
      const other = shuffle('a1', 2, 4);
      await store.putShuffle(s);
      await store.putShuffle(other);
      const moved = group(1, { epoch: 1, primary: worker(50), replica: null });
      await store.putGroup(s.appId, s.shuffleId, moved);
      const { shuffles } = await store.load();
      const expected = { ...s, groups: [s.groups[0], moved, s.groups[2], s.groups[3]] };
      expect(shuffles).toEqual([expected, other]);
      await store.putGroup(s.appId, s.shuffleId, { ...moved, epoch: 2, replica: worker(51) });
      const again = await store.load();
      expect(again.shuffles[0]!.groups[1]).toEqual({ ...moved, epoch: 2, replica: worker(51) });
    });

    it('putGroup on an unknown shuffle or group rejects with NotFoundError', async () => {
      const attempt = store.putGroup(aid('nope'), sid(1), group(0));
      await expect(attempt).rejects.toBeInstanceOf(NotFoundError);
      await expect(attempt).rejects.toMatchObject({ code: 'SLUICE_ERR_NOT_FOUND' });
      await store.putShuffle(shuffle('a1', 1, 2));
      // Same app, other shuffle id: the lookup is by (appId, shuffleId), not by app alone.
      await expect(store.putGroup(aid('a1'), sid(2), group(0))).rejects.toMatchObject({
        code: 'SLUICE_ERR_NOT_FOUND',
      });
      // A groupId the shuffle does not have: reallocation only replaces existing groups.
      await expect(store.putGroup(aid('a1'), sid(1), group(2))).rejects.toMatchObject({
        code: 'SLUICE_ERR_NOT_FOUND',
      });
      expect((await store.load()).shuffles).toEqual([shuffle('a1', 1, 2)]);
    });

    it('deleteApp removes the app and its shuffles and nothing of other apps', async () => {
      // "app-1" is a prefix of "app-10": a prefix match would wrongly delete both.
      for (const id of ['app-1', 'app-10', 'app-2']) {
        await store.putApp(app(id));
        await store.putShuffle(shuffle(id, 0, 3));
        await store.putShuffle(shuffle(id, 1, 2));
      }
      await store.deleteApp(aid('app-1'));
      expect(await store.load()).toEqual({
        apps: [app('app-10'), app('app-2')],
        shuffles: [
          shuffle('app-10', 0, 3),
          shuffle('app-10', 1, 2),
          shuffle('app-2', 0, 3),
          shuffle('app-2', 1, 2),
        ],
      });
      await expect(store.putGroup(aid('app-1'), sid(0), group(0))).rejects.toBeInstanceOf(
        NotFoundError,
      );
    });

    it('deleteShuffle removes one shuffle and keeps the app and its other shuffles', async () => {
      await store.putApp(app('a1'));
      await store.putShuffle(shuffle('a1', 1, 3));
      await store.putShuffle(shuffle('a1', 2, 3));
      await store.putShuffle(shuffle('a2', 1, 3));
      await store.deleteShuffle(aid('a1'), sid(1));
      expect(await store.load()).toEqual({
        apps: [app('a1')],
        shuffles: [shuffle('a1', 2, 3), shuffle('a2', 1, 3)],
      });
      // Re-creating a deleted shuffle starts clean: no groups survive from before.
      await store.putShuffle(shuffle('a1', 1, 1));
      expect((await store.load()).shuffles[0]).toEqual(shuffle('a1', 1, 1));
    });

    it('deleting absent apps and shuffles succeeds and changes nothing', async () => {
      await store.putApp(app('a1'));
      await store.putShuffle(shuffle('a1', 1, 2));
      const before = await store.load();
      await store.deleteApp(aid('absent'));
      await store.deleteShuffle(aid('a1'), sid(99));
      await store.deleteShuffle(aid('absent'), sid(1));
      await store.deleteShuffle(aid('a1'), sid(1));
      await store.deleteShuffle(aid('a1'), sid(1));
      await store.deleteApp(aid('a1'));
      await store.deleteApp(aid('a1'));
      expect(before.apps).toHaveLength(1);
      expect(await store.load()).toEqual({ apps: [], shuffles: [] });
    });

    it('does not alias what callers pass in or get back', async () => {
      const a = app('a1');
      const s = shuffle('a1', 1, 2);
      await store.putApp(a);
      await store.putShuffle(s);
      const expected: StateSnapshot = { apps: [app('a1')], shuffles: [shuffle('a1', 1, 2)] };
      mutable(a).name = 'changed after put';
      mutable(s.groups[0]!.primary).host = 'changed-after-put';
      mutable(s.groups).pop();
      const loaded = await store.load();
      expect(loaded).toEqual(expected);
      mutable(loaded.apps[0]!).priority = 1;
      mutable(loaded.shuffles[0]!).numMappers = 1;
      mutable(loaded.shuffles[0]!.groups[1]!).epoch = 99;
      mutable(loaded.shuffles[0]!.groups[0]!.primary).host = 'changed-after-load';
      mutable(loaded.shuffles).push(shuffle('a9', 9, 1));
      expect(await store.load()).toEqual(expected);
    });

    it('loads apps by appId and shuffles by (appId, shuffleId)', async () => {
      for (const id of ['b', 'c', 'a', 'B']) await store.putApp(app(id));
      const keys: Array<[string, number]> = [
        ['b', 10],
        ['a', 2],
        ['b', 2],
        ['a', 10],
        ['B', 1],
        ['a', 1],
      ];
      for (const [appId, shuffleId] of keys) await store.putShuffle(shuffle(appId, shuffleId, 1));
      const { apps, shuffles } = await store.load();
      expect(apps.map((x) => x.appId)).toEqual(['B', 'a', 'b', 'c']);
      // Numeric order of shuffle ids (2 before 10), not their text order.
      expect(shuffles.map((x) => `${x.appId}/${x.shuffleId}`)).toEqual([
        'B/1',
        'a/1',
        'a/2',
        'a/10',
        'b/2',
        'b/10',
      ]);
    });

    it('round-trips 50 apps x 4 shuffles x 100 groups', async () => {
      const apps: AppRecord[] = [];
      const shuffles: ShuffleRecord[] = [];
      for (let i = 0; i < 50; i++) {
        const id = `app-${String(i).padStart(2, '0')}`;
        apps.push(app(id, { priority: 1 + (i % 5) }));
        for (let j = 0; j < 4; j++) shuffles.push(shuffle(id, j, 100, { replicate: j % 2 === 0 }));
      }
      for (const a of [...apps].reverse()) await store.putApp(a);
      for (const s of [...shuffles].reverse()) await store.putShuffle(s);
      const loaded = await store.load();
      expect(loaded.shuffles.reduce((n, s) => n + s.groups.length, 0)).toBe(20_000);
      expect(loaded).toEqual({ apps, shuffles });
    });

    it('refuses every call after close with StateStoreError, and close is idempotent', async () => {
      await store.putApp(app('a1'));
      await store.close();
      await store.close();
      const calls: Array<() => Promise<unknown>> = [
        () => store.load(),
        () => store.putApp(app('a2')),
        () => store.deleteApp(aid('a1')),
        () => store.putShuffle(shuffle('a1', 1, 1)),
        () => store.putGroup(aid('a1'), sid(1), group(0)),
        () => store.deleteShuffle(aid('a1'), sid(1)),
      ];
      for (const call of calls) {
        const attempt = call();
        await expect(attempt).rejects.toBeInstanceOf(StateStoreError);
        await expect(attempt).rejects.toMatchObject({
          code: 'SLUICE_ERR_STATE_STORE',
          message: 'state store is closed',
        });
      }
    });

    it('keeps everything written after close and reopen', async (ctx) => {
      const reopen = handle.reopen;
      if (reopen === undefined) return ctx.skip();
      await store.putApp(app('a1'));
      await store.putApp(app('a2', { priority: 1 }));
      await store.putApp(app('gone'));
      await store.putShuffle(shuffle('a1', 1, 3));
      await store.putShuffle(shuffle('a1', 2, 3));
      await store.putShuffle(shuffle('a2', 1, 2));
      await store.putShuffle(shuffle('gone', 1, 2));
      await store.putGroup(aid('a1'), sid(1), group(2, { epoch: 3, primary: worker(9) }));
      await store.deleteShuffle(aid('a1'), sid(2));
      await store.deleteApp(aid('gone'));
      const before = await store.load();
      store = await reopen();
      expect(await store.load()).toEqual(before);
      const s = shuffle('a1', 1, 3);
      expect(before).toEqual({
        apps: [app('a1'), app('a2', { priority: 1 })],
        shuffles: [
          { ...s, groups: [s.groups[0], s.groups[1], group(2, { epoch: 3, primary: worker(9) })] },
          shuffle('a2', 1, 2),
        ],
      });
      // The reopened store is writable and a second reopen sees that write too.
      await store.putGroup(aid('a2'), sid(1), group(0, { epoch: 1 }));
      store = await reopen();
      expect((await store.load()).shuffles[1]!.groups[0]!.epoch).toBe(1);
    });
  });
}
