// The behaviour every StateStore must have (docs/development.md#layout: one contract suite, run against
// every implementation). Each implementation's test file calls stateStoreContract() with a
// factory; a durable store also passes `reopen` so the suite checks that what was written is
// still there after close + open (docs/architecture.md#cluster-manager: the state survives a manager restart).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError, NotFoundError, StateStoreError } from '../../common/errors.js';
import { parseAppId, parseShuffleId } from '../../common/ids.js';
import type { AppId, ShuffleId } from '../../common/ids.js';
import type {
  AppRecord,
  GroupRecord,
  ShuffleRecord,
  StateSnapshot,
  StateStore,
  TombstoneRecord,
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
    registration: `sha-of-${id}`,
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

/** An app tombstone when shuffleId is null, else a shuffle tombstone. */
export function tombstone(
  appId: string,
  shuffleId: number | null,
  overrides: Partial<TombstoneRecord> = {},
): TombstoneRecord {
  return {
    appId: parseAppId(appId),
    shuffleId: shuffleId === null ? null : parseShuffleId(shuffleId),
    reason: shuffleId === null ? 'unregistered' : 'released',
    deletedAtMs: BASE_MS + 1_000,
    ...overrides,
  };
}

const aid = (id: string): AppId => parseAppId(id);
const sid = (id: number): ShuffleId => parseShuffleId(id);

/** Makes a readonly record writable so a test can try to corrupt the store through it. */
function mutable<T>(value: T): { -readonly [K in keyof T]: T[K] } {
  return value as { -readonly [K in keyof T]: T[K] };
}

/** deleteApp with a matching tombstone, the way the manager calls it. */
function deleteApp(store: StateStore, appId: string, overrides: Partial<TombstoneRecord> = {}) {
  return store.deleteApp(aid(appId), tombstone(appId, null, overrides));
}

/** deleteShuffle with a matching tombstone, the way the manager calls it. */
function deleteShuffle(
  store: StateStore,
  appId: string,
  shuffleId: number,
  overrides: Partial<TombstoneRecord> = {},
) {
  return store.deleteShuffle(aid(appId), sid(shuffleId), tombstone(appId, shuffleId, overrides));
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
      expect(await store.load()).toEqual({ apps: [], shuffles: [], tombstones: [] });
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
      expect(loaded).toEqual({ apps, shuffles, tombstones: [] });
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
      await deleteApp(store, 'app-1');
      expect(await store.load()).toEqual({
        apps: [app('app-10'), app('app-2')],
        shuffles: [
          shuffle('app-10', 0, 3),
          shuffle('app-10', 1, 2),
          shuffle('app-2', 0, 3),
          shuffle('app-2', 1, 2),
        ],
        tombstones: [tombstone('app-1', null)],
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
      await deleteShuffle(store, 'a1', 1);
      expect(await store.load()).toEqual({
        apps: [app('a1')],
        shuffles: [shuffle('a1', 2, 3), shuffle('a2', 1, 3)],
        tombstones: [tombstone('a1', 1)],
      });
      // Re-creating a deleted shuffle starts clean: no groups survive from before.
      await store.putShuffle(shuffle('a1', 1, 1));
      expect((await store.load()).shuffles[0]).toEqual(shuffle('a1', 1, 1));
    });

    it('deleting absent apps and shuffles succeeds and still records the tombstone', async () => {
      await store.putApp(app('a1'));
      await store.putShuffle(shuffle('a1', 1, 2));
      await deleteApp(store, 'absent');
      await deleteShuffle(store, 'a1', 99);
      await deleteShuffle(store, 'other', 1);
      await deleteShuffle(store, 'a1', 1);
      await deleteShuffle(store, 'a1', 1);
      expect(await store.load()).toEqual({
        apps: [app('a1')],
        shuffles: [],
        tombstones: [
          tombstone('a1', 1),
          tombstone('a1', 99),
          tombstone('absent', null),
          tombstone('other', 1),
        ],
      });
      await deleteApp(store, 'a1');
      await deleteApp(store, 'a1');
      expect(await store.load()).toEqual({
        apps: [],
        shuffles: [],
        tombstones: [tombstone('a1', null), tombstone('absent', null), tombstone('other', 1)],
      });
    });

    it("deleteApp writes the app tombstone and drops only that app's shuffle tombstones", async () => {
      // "app-1" is a prefix of "app-10" again: its tombstones must survive app-1's deletion.
      for (const id of ['app-1', 'app-10', 'app-2']) {
        await store.putApp(app(id));
        await store.putShuffle(shuffle(id, 0, 1));
        await store.putShuffle(shuffle(id, 1, 1));
        await deleteShuffle(store, id, 1);
        await deleteShuffle(store, id, 2);
      }
      await deleteApp(store, 'app-10', { reason: 'expired' });
      await deleteApp(store, 'app-1', { deletedAtMs: BASE_MS + 5_000 });
      expect(await store.load()).toEqual({
        apps: [app('app-2')],
        shuffles: [shuffle('app-2', 0, 1)],
        tombstones: [
          // Only the app tombstone is left of each deleted app, whatever it had before.
          tombstone('app-1', null, { deletedAtMs: BASE_MS + 5_000 }),
          tombstone('app-10', null, { reason: 'expired' }),
          tombstone('app-2', 1),
          tombstone('app-2', 2),
        ],
      });
    });

    it('deleteShuffle writes the shuffle tombstone and leaves the app and its other shuffles', async () => {
      await store.putApp(app('a1'));
      await store.putShuffle(shuffle('a1', 1, 2));
      await store.putShuffle(shuffle('a1', 2, 2));
      await deleteShuffle(store, 'a1', 1, { deletedAtMs: BASE_MS + 7 });
      const { apps, shuffles, tombstones } = await store.load();
      expect(apps).toEqual([app('a1')]);
      expect(shuffles).toEqual([shuffle('a1', 2, 2)]);
      expect(tombstones).toEqual([tombstone('a1', 1, { deletedAtMs: BASE_MS + 7 })]);
      // A shuffle of an app that already has an app tombstone gets its own tombstone beside it.
      await deleteApp(store, 'a9');
      await deleteShuffle(store, 'a9', 3);
      expect((await store.load()).tombstones).toEqual([
        tombstone('a1', 1, { deletedAtMs: BASE_MS + 7 }),
        tombstone('a9', null),
        tombstone('a9', 3),
      ]);
    });

    it('round-trips tombstones exactly: null vs numeric shuffleId, reason and time', async () => {
      const now = Date.now();
      const written = [
        tombstone('a1', null, { reason: 'expired', deletedAtMs: now }),
        // Shuffle id 0 is a shuffle, not the app: it must not read back as null.
        tombstone('a1', 0, { reason: 'released', deletedAtMs: 0 }),
        tombstone('a1', 0x7fff_ffff, { reason: 'expired', deletedAtMs: Number.MAX_SAFE_INTEGER }),
        tombstone('a2', null, { reason: 'unregistered', deletedAtMs: BASE_MS }),
        tombstone('a3', 5, { reason: 'unregistered', deletedAtMs: BASE_MS + 1 }),
      ];
      // The app tombstone first: a later deleteApp would drop the shuffle tombstones.
      for (const t of written) {
        if (t.shuffleId === null) await store.deleteApp(t.appId, t);
        else await store.deleteShuffle(t.appId, t.shuffleId, t);
      }
      const { tombstones } = await store.load();
      expect(tombstones).toEqual(written);
      expect(tombstones[0]!.shuffleId).toBeNull();
      expect(tombstones[1]!.shuffleId).toBe(0);
      expect(tombstones[2]!.deletedAtMs).toBe(Number.MAX_SAFE_INTEGER);
    });

    it('loads tombstones by appId, then shuffleId with the app tombstone first', async () => {
      const keys: Array<[string, number | null]> = [
        ['b', 10],
        ['a', 2],
        ['b', null],
        ['a', 10],
        ['B', 1],
        ['a', null],
        ['b', 2],
        ['a', 0],
      ];
      // deleteShuffle after deleteApp of the same app, so every key above survives.
      for (const [appId] of keys.filter(([, id]) => id === null)) {
        await deleteApp(store, appId);
      }
      for (const [appId, shuffleId] of keys) {
        if (shuffleId !== null) await deleteShuffle(store, appId, shuffleId);
      }
      const { tombstones } = await store.load();
      expect(tombstones.map((t) => `${t.appId}/${t.shuffleId ?? '*'}`)).toEqual([
        'B/1',
        'a/*',
        'a/0',
        'a/2',
        'a/10',
        'b/*',
        'b/2',
        'b/10',
      ]);
    });

    it('a second tombstone for the same key replaces the first', async () => {
      await deleteShuffle(store, 'a1', 1, { deletedAtMs: BASE_MS + 1 });
      await deleteShuffle(store, 'a1', 1, { reason: 'expired', deletedAtMs: BASE_MS + 2 });
      await deleteApp(store, 'a2', { reason: 'expired', deletedAtMs: BASE_MS + 3 });
      await deleteApp(store, 'a2', { reason: 'unregistered', deletedAtMs: BASE_MS + 1 });
      expect((await store.load()).tombstones).toEqual([
        tombstone('a1', 1, { reason: 'expired', deletedAtMs: BASE_MS + 2 }),
        // The later write wins even when its time is earlier: it is a replace, not a max.
        tombstone('a2', null, { reason: 'unregistered', deletedAtMs: BASE_MS + 1 }),
      ]);
    });

    it('pruneTombstones drops only tombstones older than beforeMs and counts them', async () => {
      expect(await store.pruneTombstones(Number.MAX_SAFE_INTEGER)).toBe(0);
      await store.putApp(app('live'));
      await store.putShuffle(shuffle('live', 1, 1));
      await deleteApp(store, 'a1', { deletedAtMs: 100 });
      await deleteApp(store, 'a2', { deletedAtMs: 200 });
      await deleteShuffle(store, 'a3', 1, { deletedAtMs: 199 });
      await deleteShuffle(store, 'a3', 2, { deletedAtMs: 300 });
      // Strictly older: the tombstone at exactly 200 stays.
      expect(await store.pruneTombstones(200)).toBe(2);
      expect(await store.pruneTombstones(200)).toBe(0);
      const loaded = await store.load();
      expect(loaded.tombstones).toEqual([
        tombstone('a2', null, { deletedAtMs: 200 }),
        tombstone('a3', 2, { deletedAtMs: 300 }),
      ]);
      // Pruning touches tombstones only.
      expect(loaded.apps).toEqual([app('live')]);
      expect(loaded.shuffles).toEqual([shuffle('live', 1, 1)]);
      expect(await store.pruneTombstones(301)).toBe(2);
      expect((await store.load()).tombstones).toEqual([]);
    });

    it('refuses a tombstone keyed to something else than what is deleted, writing nothing', async () => {
      await store.putApp(app('a1'));
      await store.putShuffle(shuffle('a1', 1, 1));
      await deleteShuffle(store, 'a1', 2);
      const before = await store.load();
      const attempts: Array<[() => Promise<void>, string]> = [
        [() => store.deleteApp(aid('a1'), tombstone('a2', null)), 'tombstone.appId'],
        [() => store.deleteApp(aid('a1'), tombstone('a1', 1)), 'tombstone.shuffleId'],
        [() => store.deleteShuffle(aid('a1'), sid(1), tombstone('a2', 1)), 'tombstone.appId'],
        [
          () => store.deleteShuffle(aid('a1'), sid(1), tombstone('a1', null)),
          'tombstone.shuffleId',
        ],
        [() => store.deleteShuffle(aid('a1'), sid(1), tombstone('a1', 2)), 'tombstone.shuffleId'],
      ];
      for (const [call, field] of attempts) {
        const attempt = call();
        await expect(attempt).rejects.toBeInstanceOf(InvalidArgumentError);
        await expect(attempt).rejects.toMatchObject({ code: 'SLUICE_ERR_INVALID_ARGUMENT', field });
      }
      expect(await store.load()).toEqual(before);
    });

    it('does not alias what callers pass in or get back', async () => {
      const a = app('a1');
      const s = shuffle('a1', 1, 2);
      const t = tombstone('a0', null);
      const u = tombstone('a1', 7);
      await store.putApp(a);
      await store.putShuffle(s);
      await store.deleteApp(t.appId, t);
      await store.deleteShuffle(u.appId, sid(7), u);
      const expected: StateSnapshot = {
        apps: [app('a1')],
        shuffles: [shuffle('a1', 1, 2)],
        tombstones: [tombstone('a0', null), tombstone('a1', 7)],
      };
      mutable(a).name = 'changed after put';
      mutable(s.groups[0]!.primary).host = 'changed-after-put';
      mutable(s.groups).pop();
      mutable(t).deletedAtMs = 1;
      mutable(u).reason = 'expired';
      const loaded = await store.load();
      expect(loaded).toEqual(expected);
      mutable(loaded.apps[0]!).priority = 1;
      mutable(loaded.shuffles[0]!).numMappers = 1;
      mutable(loaded.shuffles[0]!.groups[1]!).epoch = 99;
      mutable(loaded.shuffles[0]!.groups[0]!.primary).host = 'changed-after-load';
      mutable(loaded.shuffles).push(shuffle('a9', 9, 1));
      mutable(loaded.tombstones[1]!).shuffleId = null;
      mutable(loaded.tombstones).pop();
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
      expect(loaded).toEqual({ apps, shuffles, tombstones: [] });
    });

    it('refuses every call after close with StateStoreError, and close is idempotent', async () => {
      await store.putApp(app('a1'));
      await store.close();
      await store.close();
      const calls: Array<() => Promise<unknown>> = [
        () => store.load(),
        () => store.putApp(app('a2')),
        () => deleteApp(store, 'a1'),
        () => store.putShuffle(shuffle('a1', 1, 1)),
        () => store.putGroup(aid('a1'), sid(1), group(0)),
        () => deleteShuffle(store, 'a1', 1),
        () => store.pruneTombstones(Number.MAX_SAFE_INTEGER),
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
      await deleteShuffle(store, 'a1', 2);
      await deleteApp(store, 'gone');
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
        tombstones: [tombstone('a1', 2), tombstone('gone', null)],
      });
      // The reopened store is writable and a second reopen sees that write too.
      await store.putGroup(aid('a2'), sid(1), group(0, { epoch: 1 }));
      store = await reopen();
      expect((await store.load()).shuffles[1]!.groups[0]!.epoch).toBe(1);
    });

    it('keeps tombstones and their pruning after close and reopen', async (ctx) => {
      const reopen = handle.reopen;
      if (reopen === undefined) return ctx.skip();
      await deleteShuffle(store, 'a1', 0, { deletedAtMs: 10 });
      await deleteShuffle(store, 'a1', 3, { reason: 'expired', deletedAtMs: 20 });
      await deleteShuffle(store, 'a2', 4, { deletedAtMs: 30 });
      await deleteApp(store, 'a2', { reason: 'expired', deletedAtMs: 40 });
      await deleteApp(store, 'a3', { deletedAtMs: 50 });
      const expected = [
        tombstone('a1', 0, { deletedAtMs: 10 }),
        tombstone('a1', 3, { reason: 'expired', deletedAtMs: 20 }),
        tombstone('a2', null, { reason: 'expired', deletedAtMs: 40 }),
        tombstone('a3', null, { deletedAtMs: 50 }),
      ];
      store = await reopen();
      expect((await store.load()).tombstones).toEqual(expected);
      // A prune and an upsert made after the reopen are durable too.
      expect(await store.pruneTombstones(40)).toBe(2);
      await deleteApp(store, 'a3', { reason: 'unregistered', deletedAtMs: 60 });
      store = await reopen();
      expect((await store.load()).tombstones).toEqual([
        tombstone('a2', null, { reason: 'expired', deletedAtMs: 40 }),
        tombstone('a3', null, { deletedAtMs: 60 }),
      ]);
    });
  });
}
