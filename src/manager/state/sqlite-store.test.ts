import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { StateStoreError } from '../../common/errors.js';
import { openStateStore } from './index.js';
import { SqliteStateStore } from './sqlite-store.js';
import { app, group, shuffle, stateStoreContract, tombstone } from './state-store.contract.js';
import type { StateStore, TombstoneRecord } from './store.js';

const tempPrefix = (): string => join(tmpdir(), 'sluice-state-');

stateStoreContract('sqlite', async () => {
  const dir = mkdtempSync(tempPrefix());
  const path = join(dir, 'manager.db');
  let current: StateStore = SqliteStateStore.open(path);
  return {
    store: current,
    // A restart of the manager: close the file, open it again.
    reopen: async () => {
      await current.close();
      current = SqliteStateStore.open(path);
      return current;
    },
    cleanup: async () => {
      await current.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('SqliteStateStore', () => {
  const dirs: string[] = [];
  const stores: StateStore[] = [];
  const tempDir = (): string => {
    const dir = mkdtempSync(tempPrefix());
    dirs.push(dir);
    return dir;
  };
  const open = (path: string): SqliteStateStore => {
    const store = SqliteStateStore.open(path);
    stores.push(store);
    return store;
  };
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a file that is not a SQLite database with StateStoreError', () => {
    const path = join(tempDir(), 'garbage.db');
    // Longer than SQLite's 100-byte header, so the file is read, not treated as empty.
    writeFileSync(path, Buffer.alloc(4096, 'this is not a database\n'));
    let thrown: unknown;
    try {
      open(path);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(StateStoreError);
    expect(thrown).toMatchObject({ code: 'SLUICE_ERR_STATE_STORE', retriable: false });
    const error = thrown as StateStoreError;
    expect(error.message).toContain(path);
    expect(error.message).toContain('is not a SQLite database');
    expect(error.cause).toMatchObject({ code: 'SQLITE_NOTADB' });
    expect(error.context).toMatchObject({ path, operation: 'open' });
  });

  it('creates the missing parent directories of the file', async () => {
    const path = join(tempDir(), 'a', 'b', 'c', 'manager.db');
    const store = open(path);
    await store.putApp(app('a1'));
    expect(existsSync(path)).toBe(true);
    expect((await store.load()).apps).toEqual([app('a1')]);
  });

  it('wraps a file that cannot be opened (a directory) in StateStoreError', () => {
    const dir = tempDir();
    expect(() => open(dir)).toThrow(StateStoreError);
    expect(() => open(dir)).toThrow(dir);
  });

  it('wraps a parent path that is a file in StateStoreError with the fs error as cause', () => {
    const file = join(tempDir(), 'file');
    writeFileSync(file, 'x');
    const path = join(file, 'manager.db');
    let thrown: unknown;
    try {
      open(path);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(StateStoreError);
    expect((thrown as StateStoreError).message).toContain(path);
    // mkdir reports EEXIST or ENOTDIR depending on the platform; either way it is the cause.
    expect((thrown as StateStoreError).cause).toMatchObject({ syscall: 'mkdir' });
  });

  it('throws "state store is closed" after close, which is idempotent', async () => {
    const store = open(join(tempDir(), 'manager.db'));
    await store.close();
    await expect(store.close()).resolves.toBeUndefined();
    await expect(store.load()).rejects.toBeInstanceOf(StateStoreError);
    await expect(store.putApp(app('a1'))).rejects.toMatchObject({
      code: 'SLUICE_ERR_STATE_STORE',
      message: 'state store is closed',
    });
  });

  it('writes schema v2 in WAL mode with the agreed tables', async () => {
    const path = join(tempDir(), 'manager.db');
    const store = open(path);
    await store.putShuffle(shuffle('a1', 1, 2));
    const db = new Database(path, { readonly: true });
    try {
      expect(db.pragma('user_version', { simple: true })).toBe(2);
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      const tables = db
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
        .pluck()
        .all();
      expect(tables).toEqual(['apps', 'groups', 'shuffles', 'tombstones']);
      const row = db.prepare('SELECT * FROM groups WHERE group_id = 0').get();
      expect(row).toMatchObject({ app_id: 'a1', shuffle_id: 1, epoch: 0 });
      expect(JSON.parse((row as { primary_json: string }).primary_json)).toEqual(group(0).primary);
    } finally {
      db.close();
    }
  });

  it('stores an app tombstone as shuffle_id -1, one per app, and prunes through an index', async () => {
    const path = join(tempDir(), 'manager.db');
    const store = open(path);
    await store.deleteApp(app('a1').appId, tombstone('a1', null, { reason: 'expired' }));
    await store.deleteApp(app('a1').appId, tombstone('a1', null, { deletedAtMs: 5 }));
    await store.deleteShuffle(app('a1').appId, shuffle('a1', 0, 0).shuffleId, tombstone('a1', 0));
    const db = new Database(path, { readonly: true });
    try {
      const rows = db.prepare('SELECT * FROM tombstones ORDER BY shuffle_id').all();
      expect(rows).toEqual([
        { app_id: 'a1', shuffle_id: -1, reason: 'unregistered', deleted_at_ms: 5 },
        {
          app_id: 'a1',
          shuffle_id: 0,
          reason: 'released',
          deleted_at_ms: tombstone('a1', 0).deletedAtMs,
        },
      ]);
      const plan = db
        .prepare('EXPLAIN QUERY PLAN DELETE FROM tombstones WHERE deleted_at_ms < ?')
        .all(0)
        .map((r) => (r as { detail: string }).detail)
        .join('\n');
      expect(plan).toContain('tombstones_by_deleted_at');
    } finally {
      db.close();
    }
  });

  it('refuses an unknown reason or a fractional time through the schema, as StateStoreError', async () => {
    const store = open(join(tempDir(), 'manager.db'));
    const bad = [
      tombstone('a1', 1, { reason: 'forgotten' as TombstoneRecord['reason'] }),
      tombstone('a1', 1, { deletedAtMs: 0.5 }),
    ];
    for (const t of bad) {
      await expect(store.deleteShuffle(t.appId, shuffle('a1', 1, 0).shuffleId, t)).rejects.toThrow(
        /deleteShuffle failed: SQLITE_CONSTRAINT/,
      );
    }
    expect((await store.load()).tombstones).toEqual([]);
  });

  it('rolls back a deleteApp whose tombstone is refused, keeping the shuffle tombstones', async () => {
    const store = open(join(tempDir(), 'manager.db'));
    await store.putApp(app('a1'));
    await store.putShuffle(shuffle('a1', 1, 2));
    await store.deleteShuffle(app('a1').appId, shuffle('a1', 2, 0).shuffleId, tombstone('a1', 2));
    const before = await store.load();
    // The app's old tombstones are deleted first in the transaction, then the CHECK on reason
    // refuses the new one: the deletion of the old ones must be undone with it.
    const bad = tombstone('a1', null, { reason: 'forgotten' as TombstoneRecord['reason'] });
    const attempt = store.deleteApp(bad.appId, bad);
    await expect(attempt).rejects.toBeInstanceOf(StateStoreError);
    await expect(attempt).rejects.toThrow(/deleteApp failed: SQLITE_CONSTRAINT/);
    expect(await store.load()).toEqual(before);
  });

  it('rolls back a delete that fails after its tombstone was written, leaving no tombstone', async () => {
    const path = join(tempDir(), 'manager.db');
    const store = open(path);
    await store.putApp(app('doomed'));
    await store.putShuffle(shuffle('doomed', 1, 2));
    await store.putShuffle(shuffle('doomed', 7, 2));
    await store.deleteShuffle(
      app('doomed').appId,
      shuffle('doomed', 2, 0).shuffleId,
      tombstone('doomed', 2),
    );
    const before = await store.load();
    // Fault injection from a second connection: the last statement of each transaction (the
    // app row's delete, the shuffle row's delete) fails, after the tombstone went in.
    const db = new Database(path);
    try {
      db.exec(`
        CREATE TRIGGER fail_app_delete BEFORE DELETE ON apps WHEN old.app_id = 'doomed'
        BEGIN SELECT RAISE(ABORT, 'injected fault'); END;
        CREATE TRIGGER fail_shuffle_delete BEFORE DELETE ON shuffles WHEN old.shuffle_id = 7
        BEGIN SELECT RAISE(ABORT, 'injected fault'); END;
      `);
    } finally {
      db.close();
    }
    const appAttempt = store.deleteApp(app('doomed').appId, tombstone('doomed', null));
    await expect(appAttempt).rejects.toBeInstanceOf(StateStoreError);
    await expect(appAttempt).rejects.toThrow(/deleteApp failed: .*injected fault/);
    expect(await store.load()).toEqual(before);
    const shuffleAttempt = store.deleteShuffle(
      app('doomed').appId,
      shuffle('doomed', 7, 0).shuffleId,
      tombstone('doomed', 7),
    );
    await expect(shuffleAttempt).rejects.toThrow(/deleteShuffle failed: .*injected fault/);
    expect(await store.load()).toEqual(before);
    // The store is still usable: a delete the triggers let through commits whole.
    await store.deleteShuffle(
      app('doomed').appId,
      shuffle('doomed', 1, 0).shuffleId,
      tombstone('doomed', 1),
    );
    expect(await store.load()).toEqual({
      ...before,
      shuffles: [shuffle('doomed', 7, 2)],
      tombstones: [tombstone('doomed', 1), tombstone('doomed', 2)],
    });
  });

  it('brings a v1 file forward: its apps keep every field and get no registration token', async () => {
    const path = join(tempDir(), 'manager.db');
    const v1 = new Database(path);
    v1.exec(`CREATE TABLE apps (
        app_id TEXT NOT NULL PRIMARY KEY, priority INTEGER NOT NULL, name TEXT NOT NULL,
        user TEXT NOT NULL, registered_at_ms INTEGER NOT NULL) STRICT;
      CREATE TABLE shuffles (app_id TEXT NOT NULL, shuffle_id INTEGER NOT NULL,
        num_mappers INTEGER NOT NULL, num_partitions INTEGER NOT NULL,
        replicate INTEGER NOT NULL CHECK (replicate IN (0, 1)),
        max_partitions_per_group INTEGER NOT NULL, created_at_ms INTEGER NOT NULL,
        PRIMARY KEY (app_id, shuffle_id)) STRICT;
      CREATE TABLE groups (app_id TEXT NOT NULL, shuffle_id INTEGER NOT NULL,
        group_id INTEGER NOT NULL, start_partition INTEGER NOT NULL,
        end_partition INTEGER NOT NULL, epoch INTEGER NOT NULL, primary_json TEXT NOT NULL,
        replica_json TEXT, PRIMARY KEY (app_id, shuffle_id, group_id)) STRICT;
      CREATE TABLE tombstones (app_id TEXT NOT NULL,
        shuffle_id INTEGER NOT NULL CHECK (shuffle_id >= -1), reason TEXT NOT NULL
        CHECK (reason IN ('expired', 'unregistered', 'released')),
        deleted_at_ms INTEGER NOT NULL, PRIMARY KEY (app_id, shuffle_id)) STRICT;
      INSERT INTO apps VALUES ('old-app', 2, 'n', 'u', 1234);`);
    v1.pragma('user_version = 1');
    v1.close();
    const store = open(path);
    const { apps } = await store.load();
    expect(apps).toEqual([
      {
        appId: 'old-app',
        priority: 2,
        name: 'n',
        user: 'u',
        registeredAtMs: 1234,
        registration: '',
      },
    ]);
    await store.close();
  });

  it('refuses a file written by a newer schema version', () => {
    const path = join(tempDir(), 'manager.db');
    const db = new Database(path);
    db.pragma('user_version = 99');
    db.close();
    expect(() => open(path)).toThrow(/schema version 99, newer than this build's 2/);
  });

  it('rolls back a putShuffle that fails halfway, keeping the previous shuffle whole', async () => {
    const store = open(join(tempDir(), 'manager.db'));
    const original = shuffle('a1', 1, 3);
    await store.putShuffle(original);
    const bad = shuffle('a1', 1, 5, { numMappers: 1 });
    // A fractional epoch is refused by the STRICT INTEGER column at the 4th group insert,
    // after the old groups were deleted and the shuffle row updated in the same transaction.
    const groups = bad.groups.map((g) => (g.groupId === 3 ? { ...g, epoch: 0.5 } : g));
    const attempt = store.putShuffle({ ...bad, groups });
    await expect(attempt).rejects.toBeInstanceOf(StateStoreError);
    await expect(attempt).rejects.toThrow(/putShuffle failed: SQLITE_CONSTRAINT/);
    expect((await store.load()).shuffles).toEqual([original]);
  });

  it('is what openStateStore returns for kind "sqlite"', async () => {
    const path = join(tempDir(), 'nested', 'manager.db');
    const store = openStateStore({ kind: 'sqlite', sqlitePath: path });
    stores.push(store);
    expect(store).toBeInstanceOf(SqliteStateStore);
    expect(store.kind).toBe('sqlite');
    expect(existsSync(path)).toBe(true);
  });
});
