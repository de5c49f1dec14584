// The SQLite StateStore, the embedded default (docs/architecture.md#cluster-manager: "SQLite (`better-sqlite3`, the
// embedded default, survives a manager restart)"). The manager answers an RPC only after the
// write's promise resolves, so every write must be on disk by then:
// - journal_mode = WAL: a commit is one append to the WAL instead of rewriting pages, and a
//   process killed mid-write (kill -9) leaves the last committed state readable.
// - synchronous = FULL: the WAL is fsynced at every commit. WAL's usual NORMAL only fsyncs at
//   checkpoints, so a power loss could drop commits the manager already acknowledged.
// better-sqlite3 is synchronous, so when a method's promise resolves the commit (and its fsync)
// has returned. Multi-row changes (a shuffle with its groups, an app with its shuffles) are
// one transaction each, so a crash never leaves half a shuffle behind. A delete and the
// tombstone that records it are one transaction too: there is never a deleted app without its
// tombstone, nor a tombstone for an app that is still there.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { NotFoundError, SluiceError, StateStoreError } from '../../common/errors.js';
import { shuffleKey } from '../../common/ids.js';
import type { AppId, ShuffleId } from '../../common/ids.js';
import {
  appToRow,
  groupToRow,
  migrate,
  rowToApp,
  rowToGroup,
  rowToShuffle,
  rowToTombstone,
  shuffleToRow,
  tombstoneToRow,
} from './sqlite-schema.js';
import type { AppRow, GroupRow, ShuffleRow, TombstoneRow } from './sqlite-schema.js';
import type {
  AppRecord,
  GroupRecord,
  ShuffleRecord,
  StateSnapshot,
  StateStore,
  TombstoneRecord,
} from './store.js';
import { checkTombstoneKey } from './tombstone-check.js';

/** SQLite result codes meaning "this file is not (or no longer) a usable database". */
const NOT_A_DATABASE_CODES = new Set(['SQLITE_NOTADB', 'SQLITE_CORRUPT']);

interface ShuffleKeyParams {
  app_id: string;
  shuffle_id: number;
}

/** Every statement, prepared once when the store opens (they are reused for its lifetime). */
function prepareStatements(db: Database.Database) {
  return {
    upsertApp: db.prepare<AppRow>(
      `INSERT INTO apps (app_id, priority, name, user, registered_at_ms, registration)
       VALUES (@app_id, @priority, @name, @user, @registered_at_ms, @registration)
       ON CONFLICT (app_id) DO UPDATE SET priority = excluded.priority, name = excluded.name,
         user = excluded.user, registered_at_ms = excluded.registered_at_ms,
         registration = excluded.registration`,
    ),
    upsertShuffle: db.prepare<ShuffleRow>(
      `INSERT INTO shuffles (app_id, shuffle_id, num_mappers, num_partitions, replicate,
         max_partitions_per_group, created_at_ms)
       VALUES (@app_id, @shuffle_id, @num_mappers, @num_partitions, @replicate,
         @max_partitions_per_group, @created_at_ms)
       ON CONFLICT (app_id, shuffle_id) DO UPDATE SET num_mappers = excluded.num_mappers,
         num_partitions = excluded.num_partitions, replicate = excluded.replicate,
         max_partitions_per_group = excluded.max_partitions_per_group,
         created_at_ms = excluded.created_at_ms`,
    ),
    insertGroup: db.prepare<GroupRow>(
      `INSERT INTO groups (app_id, shuffle_id, group_id, start_partition, end_partition, epoch,
         primary_json, replica_json)
       VALUES (@app_id, @shuffle_id, @group_id, @start_partition, @end_partition, @epoch,
         @primary_json, @replica_json)`,
    ),
    updateGroup: db.prepare<GroupRow>(
      `UPDATE groups SET start_partition = @start_partition, end_partition = @end_partition,
         epoch = @epoch, primary_json = @primary_json, replica_json = @replica_json
       WHERE app_id = @app_id AND shuffle_id = @shuffle_id AND group_id = @group_id`,
    ),
    shuffleExists: db
      .prepare<ShuffleKeyParams, number>(
        'SELECT 1 FROM shuffles WHERE app_id = @app_id AND shuffle_id = @shuffle_id',
      )
      .pluck(),
    deleteApp: db.prepare<[string]>('DELETE FROM apps WHERE app_id = ?'),
    deleteAppShuffles: db.prepare<[string]>('DELETE FROM shuffles WHERE app_id = ?'),
    deleteAppGroups: db.prepare<[string]>('DELETE FROM groups WHERE app_id = ?'),
    deleteShuffle: db.prepare<ShuffleKeyParams>(
      'DELETE FROM shuffles WHERE app_id = @app_id AND shuffle_id = @shuffle_id',
    ),
    deleteShuffleGroups: db.prepare<ShuffleKeyParams>(
      'DELETE FROM groups WHERE app_id = @app_id AND shuffle_id = @shuffle_id',
    ),
    upsertTombstone: db.prepare<TombstoneRow>(
      `INSERT INTO tombstones (app_id, shuffle_id, reason, deleted_at_ms)
       VALUES (@app_id, @shuffle_id, @reason, @deleted_at_ms)
       ON CONFLICT (app_id, shuffle_id) DO UPDATE SET reason = excluded.reason,
         deleted_at_ms = excluded.deleted_at_ms`,
    ),
    // Every tombstone of the app, its own included: deleteApp writes the new one right after.
    deleteAppTombstones: db.prepare<[string]>('DELETE FROM tombstones WHERE app_id = ?'),
    // Uses the deleted_at_ms index.
    pruneTombstones: db.prepare<[number]>('DELETE FROM tombstones WHERE deleted_at_ms < ?'),
    // ORDER BY is the load() contract; the primary keys make these index scans, not sorts.
    allApps: db.prepare<[], AppRow>('SELECT * FROM apps ORDER BY app_id'),
    allShuffles: db.prepare<[], ShuffleRow>('SELECT * FROM shuffles ORDER BY app_id, shuffle_id'),
    allGroups: db.prepare<[], GroupRow>(
      'SELECT * FROM groups ORDER BY app_id, shuffle_id, group_id',
    ),
    // APP_TOMBSTONE (-1) sorts first within an app: null first, as load() promises.
    allTombstones: db.prepare<[], TombstoneRow>(
      'SELECT * FROM tombstones ORDER BY app_id, shuffle_id',
    ),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

/** Turns anything thrown by SQLite (or the file system) into a StateStoreError naming the file. */
function wrapError(path: string, what: string, err: unknown): SluiceError {
  if (err instanceof SluiceError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const detail = err instanceof Error ? err.message : String(err);
  const context = { path, operation: what, ...(typeof code === 'string' ? { code } : {}) };
  if (typeof code === 'string' && NOT_A_DATABASE_CODES.has(code)) {
    return new StateStoreError(
      `state store ${path} is not a SQLite database or is corrupt (${code}: ${detail}); ` +
        'restore it from a backup or move it away to start empty',
      { cause: err, context },
    );
  }
  const shown = typeof code === 'string' ? `${code}: ${detail}` : detail;
  return new StateStoreError(`state store ${path}: ${what} failed: ${shown}`, {
    cause: err,
    context,
  });
}

export class SqliteStateStore implements StateStore {
  readonly kind = 'sqlite';
  readonly path: string;
  #db: Database.Database | null;
  readonly #stmts: Statements;
  readonly #putShuffleTx: (shuffle: ShuffleRecord) => void;
  readonly #deleteAppTx: (appId: AppId, tombstone: TombstoneRecord) => void;
  readonly #deleteShuffleTx: (key: ShuffleKeyParams, tombstone: TombstoneRecord) => void;
  readonly #loadTx: () => StateSnapshot;

  /**
   * Opens (creating it and its directory if missing) and migrates the database at `path`.
   * Throws StateStoreError if the file cannot be opened, is not a SQLite database, or was
   * written by a newer schema.
   */
  static open(path: string): SqliteStateStore {
    let db: Database.Database | undefined;
    try {
      mkdirSync(dirname(path), { recursive: true });
      db = new Database(path);
      // Opening is lazy: a garbage file is only detected by the first statement, here.
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      migrate(db, path);
      return new SqliteStateStore(db, path);
    } catch (err) {
      db?.close();
      throw wrapError(path, 'open', err);
    }
  }

  private constructor(db: Database.Database, path: string) {
    this.path = path;
    this.#db = db;
    const s = prepareStatements(db);
    this.#stmts = s;
    // Write transactions are IMMEDIATE: they take the write lock up front instead of
    // upgrading from a read lock, which could fail with SQLITE_BUSY halfway through.
    this.#putShuffleTx = db.transaction((shuffle: ShuffleRecord) => {
      const key = { app_id: shuffle.appId, shuffle_id: shuffle.shuffleId };
      s.deleteShuffleGroups.run(key);
      s.upsertShuffle.run(shuffleToRow(shuffle));
      for (const group of shuffle.groups) {
        s.insertGroup.run(groupToRow(shuffle.appId, shuffle.shuffleId, group));
      }
    }).immediate;
    this.#deleteAppTx = db.transaction((appId: AppId, tombstone: TombstoneRecord) => {
      s.deleteAppTombstones.run(appId);
      s.upsertTombstone.run(tombstoneToRow(tombstone));
      s.deleteAppGroups.run(appId);
      s.deleteAppShuffles.run(appId);
      s.deleteApp.run(appId);
    }).immediate;
    this.#deleteShuffleTx = db.transaction((key: ShuffleKeyParams, tombstone: TombstoneRecord) => {
      s.upsertTombstone.run(tombstoneToRow(tombstone));
      s.deleteShuffleGroups.run(key);
      s.deleteShuffle.run(key);
    }).immediate;
    // A read transaction so the SELECTs see one snapshot.
    this.#loadTx = db.transaction(() => this.#readAll()).deferred;
  }

  async load(): Promise<StateSnapshot> {
    return this.#guard('load', () => this.#loadTx());
  }

  async putApp(app: AppRecord): Promise<void> {
    this.#guard('putApp', () => this.#stmts.upsertApp.run(appToRow(app)));
  }

  async deleteApp(appId: AppId, tombstone: TombstoneRecord): Promise<void> {
    this.#guard('deleteApp', () => {
      checkTombstoneKey(appId, null, tombstone);
      this.#deleteAppTx(appId, tombstone);
    });
  }

  async putShuffle(shuffle: ShuffleRecord): Promise<void> {
    this.#guard('putShuffle', () => this.#putShuffleTx(shuffle));
  }

  async putGroup(appId: AppId, shuffleId: ShuffleId, group: GroupRecord): Promise<void> {
    this.#guard('putGroup', () => {
      // One UPDATE is atomic on its own; the lookup below only picks the error message.
      const { changes } = this.#stmts.updateGroup.run(groupToRow(appId, shuffleId, group));
      if (changes > 0) return;
      const key = shuffleKey(appId, shuffleId);
      const context = { appId, shuffleId, groupId: group.groupId };
      if (this.#stmts.shuffleExists.get({ app_id: appId, shuffle_id: shuffleId }) === undefined) {
        throw new NotFoundError(`shuffle ${key} is not in the state store`, { context });
      }
      throw new NotFoundError(
        `group ${group.groupId} of shuffle ${key} is not in the state store`,
        {
          context,
        },
      );
    });
  }

  async deleteShuffle(
    appId: AppId,
    shuffleId: ShuffleId,
    tombstone: TombstoneRecord,
  ): Promise<void> {
    this.#guard('deleteShuffle', () => {
      checkTombstoneKey(appId, shuffleId, tombstone);
      this.#deleteShuffleTx({ app_id: appId, shuffle_id: shuffleId }, tombstone);
    });
  }

  async pruneTombstones(beforeMs: number): Promise<number> {
    // One DELETE is atomic on its own, like putGroup's UPDATE.
    return this.#guard('pruneTombstones', () => this.#stmts.pruneTombstones.run(beforeMs).changes);
  }

  async close(): Promise<void> {
    const db = this.#db;
    if (db === null) return;
    // Marked closed first: even if close() fails, the handle must not be used again.
    this.#db = null;
    try {
      db.close();
    } catch (err) {
      throw wrapError(this.path, 'close', err);
    }
  }

  /** Runs one operation on an open store, wrapping SQLite failures (docs/architecture.md#cluster-manager, errors.ts). */
  #guard<T>(what: string, fn: () => T): T {
    if (this.#db === null) {
      throw new StateStoreError('state store is closed', { context: { path: this.path } });
    }
    try {
      return fn();
    } catch (err) {
      throw wrapError(this.path, what, err);
    }
  }

  #readAll(): StateSnapshot {
    const apps = this.#stmts.allApps.all().map(rowToApp);
    const groupsByShuffle = new Map<string, GroupRecord[]>();
    for (const row of this.#stmts.allGroups.iterate()) {
      const key = shuffleKey(row.app_id as AppId, row.shuffle_id as ShuffleId);
      let groups = groupsByShuffle.get(key);
      if (groups === undefined) groupsByShuffle.set(key, (groups = []));
      groups.push(rowToGroup(row));
    }
    const shuffles = this.#stmts.allShuffles.all().map((row) => {
      const key = shuffleKey(row.app_id as AppId, row.shuffle_id as ShuffleId);
      return rowToShuffle(row, groupsByShuffle.get(key) ?? []);
    });
    const tombstones = this.#stmts.allTombstones.all().map(rowToTombstone);
    return { apps, shuffles, tombstones };
  }
}
