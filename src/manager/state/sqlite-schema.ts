// Schema of the SQLite state store (docs/architecture.md#cluster-manager) and the mapping between its rows and the
// records of store.ts. The schema version lives in SQLite's `user_version` header field: a new
// file is 0, and each migration moves it up by one inside the same transaction as its DDL, so a
// crash mid-migration leaves the previous version intact. Migrations are append-only: a file
// written by an older Sluice is brought forward on open; a file from a newer one is refused
// rather than misread.
import type Database from 'better-sqlite3';
import { StateStoreError } from '../../common/errors.js';
import type { AppId, ShuffleId } from '../../common/ids.js';
import type { AppRecord, GroupRecord, ShuffleRecord, TombstoneRecord, WorkerRef } from './store.js';

interface Migration {
  readonly version: number;
  readonly sql: string;
}

// STRICT tables make SQLite reject a value of the wrong type instead of storing it silently.
// No foreign keys: putShuffle does not require the app row (the registry orders those writes),
// and deletes cascade explicitly in one transaction. The primary keys double as the indexes
// for the per-app and per-shuffle deletes (leftmost-prefix lookups).
// Tombstones: shuffle_id is NOT NULL with APP_TOMBSTONE (-1) standing for the whole app
// (TombstoneRecord.shuffleId null), because SQLite treats NULLs as distinct in a key and would
// let one app collect several app tombstones. -1 also sorts the app's own tombstone first, as
// load() promises. Nothing had been released when tombstones were added, so they are part of
// v1 rather than a v2 migration.
const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE apps (
        app_id TEXT NOT NULL PRIMARY KEY,
        priority INTEGER NOT NULL,
        name TEXT NOT NULL,
        user TEXT NOT NULL,
        registered_at_ms INTEGER NOT NULL
      ) STRICT;
      CREATE TABLE shuffles (
        app_id TEXT NOT NULL,
        shuffle_id INTEGER NOT NULL,
        num_mappers INTEGER NOT NULL,
        num_partitions INTEGER NOT NULL,
        replicate INTEGER NOT NULL CHECK (replicate IN (0, 1)),
        max_partitions_per_group INTEGER NOT NULL,
        created_at_ms INTEGER NOT NULL,
        PRIMARY KEY (app_id, shuffle_id)
      ) STRICT;
      CREATE TABLE groups (
        app_id TEXT NOT NULL,
        shuffle_id INTEGER NOT NULL,
        group_id INTEGER NOT NULL,
        start_partition INTEGER NOT NULL,
        end_partition INTEGER NOT NULL,
        epoch INTEGER NOT NULL,
        primary_json TEXT NOT NULL,
        replica_json TEXT,
        PRIMARY KEY (app_id, shuffle_id, group_id)
      ) STRICT;
      CREATE TABLE tombstones (
        app_id TEXT NOT NULL,
        shuffle_id INTEGER NOT NULL CHECK (shuffle_id >= -1),
        reason TEXT NOT NULL CHECK (reason IN ('expired', 'unregistered', 'released')),
        deleted_at_ms INTEGER NOT NULL,
        PRIMARY KEY (app_id, shuffle_id)
      ) STRICT;
      CREATE INDEX tombstones_by_deleted_at ON tombstones (deleted_at_ms);
    `,
  },
  {
    version: 2,
    sql: `ALTER TABLE apps ADD COLUMN registration TEXT NOT NULL DEFAULT '';`,
  },
];

/** The version this build writes; equals the last migration's. */
export const SCHEMA_VERSION = MIGRATIONS.reduce((m, x) => Math.max(m, x.version), -Infinity);

/** Brings the file up to SCHEMA_VERSION; refuses a file written by a newer schema. */
export function migrate(db: Database.Database, path: string): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new StateStoreError(
      `state store ${path} has schema version ${current}, newer than this build's ` +
        `${SCHEMA_VERSION}: run the Sluice version that wrote it`,
      { context: { path, schemaVersion: current } },
    );
  }
  for (const migration of MIGRATIONS) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      // A pragma cannot take a bound parameter; the version is a number from the table above.
      db.pragma(`user_version = ${migration.version}`);
    }).immediate();
  }
}

export interface AppRow {
  app_id: string;
  priority: number;
  name: string;
  user: string;
  registered_at_ms: number;
  registration: string;
}

export interface ShuffleRow {
  app_id: string;
  shuffle_id: number;
  num_mappers: number;
  num_partitions: number;
  replicate: number;
  max_partitions_per_group: number;
  created_at_ms: number;
}

export interface GroupRow {
  app_id: string;
  shuffle_id: number;
  group_id: number;
  start_partition: number;
  end_partition: number;
  epoch: number;
  primary_json: string;
  replica_json: string | null;
}

export interface TombstoneRow {
  app_id: string;
  /** APP_TOMBSTONE for the whole app. */
  shuffle_id: number;
  reason: string;
  deleted_at_ms: number;
}

/** tombstones.shuffle_id of an app's own tombstone; shuffle ids are never negative (ids.ts). */
export const APP_TOMBSTONE = -1;

export function appToRow(app: AppRecord): AppRow {
  return {
    app_id: app.appId,
    priority: app.priority,
    name: app.name,
    user: app.user,
    registered_at_ms: app.registeredAtMs,
    registration: app.registration,
  };
}

export function rowToApp(row: AppRow): AppRecord {
  return {
    appId: row.app_id as AppId,
    priority: row.priority,
    name: row.name,
    user: row.user,
    registeredAtMs: row.registered_at_ms,
    registration: row.registration,
  };
}

export function shuffleToRow(shuffle: ShuffleRecord): ShuffleRow {
  return {
    app_id: shuffle.appId,
    shuffle_id: shuffle.shuffleId,
    num_mappers: shuffle.numMappers,
    num_partitions: shuffle.numPartitions,
    // better-sqlite3 binds no booleans: SQLite has none.
    replicate: shuffle.replicate ? 1 : 0,
    max_partitions_per_group: shuffle.maxPartitionsPerGroup,
    created_at_ms: shuffle.createdAtMs,
  };
}

export function rowToShuffle(row: ShuffleRow, groups: readonly GroupRecord[]): ShuffleRecord {
  return {
    appId: row.app_id as AppId,
    shuffleId: row.shuffle_id as ShuffleId,
    numMappers: row.num_mappers,
    numPartitions: row.num_partitions,
    replicate: row.replicate === 1,
    maxPartitionsPerGroup: row.max_partitions_per_group,
    createdAtMs: row.created_at_ms,
    groups,
  };
}

export function groupToRow(appId: AppId, shuffleId: ShuffleId, group: GroupRecord): GroupRow {
  return {
    app_id: appId,
    shuffle_id: shuffleId,
    group_id: group.groupId,
    start_partition: group.startPartition,
    end_partition: group.endPartition,
    epoch: group.epoch,
    primary_json: JSON.stringify(group.primary),
    replica_json: group.replica === null ? null : JSON.stringify(group.replica),
  };
}

export function rowToGroup(row: GroupRow): GroupRecord {
  return {
    groupId: row.group_id,
    startPartition: row.start_partition,
    endPartition: row.end_partition,
    epoch: row.epoch,
    primary: JSON.parse(row.primary_json) as WorkerRef,
    replica: row.replica_json === null ? null : (JSON.parse(row.replica_json) as WorkerRef),
  };
}

export function tombstoneToRow(tombstone: TombstoneRecord): TombstoneRow {
  return {
    app_id: tombstone.appId,
    shuffle_id: tombstone.shuffleId ?? APP_TOMBSTONE,
    reason: tombstone.reason,
    deleted_at_ms: tombstone.deletedAtMs,
  };
}

export function rowToTombstone(row: TombstoneRow): TombstoneRecord {
  return {
    appId: row.app_id as AppId,
    shuffleId: row.shuffle_id === APP_TOMBSTONE ? null : (row.shuffle_id as ShuffleId),
    // The CHECK constraint admits only the three reasons.
    reason: row.reason as TombstoneRecord['reason'],
    deletedAtMs: row.deleted_at_ms,
  };
}
