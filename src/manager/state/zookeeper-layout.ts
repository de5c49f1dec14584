// The znodes of the ZooKeeper state store and their contents (docs/architecture.md#zookeeper-layout):
//
//   <root>                                  {"layout":1}
//     apps/<appId>                          an AppRecord
//     shuffles/<appId>/<shuffleId>          a shuffle's header: its fields, its generation, its chunk numbers
//     groups/<appId>/<shuffleId>.<gen>/<k>  chunk k of that generation: groups k*100 .. k*100+99
//     tombstones/<appId>/app                the app's tombstone
//     tombstones/<appId>/<shuffleId>        a shuffle's tombstone
//
// Every value is UTF-8 JSON. Ids need no escaping: app ids are [A-Za-z0-9._-] and never "." or
// ".." (src/common/ids.ts), shuffle ids and generations are decimal, so "app" and
// "<shuffleId>.<gen>" cannot collide with anything else. Values are validated when read: a
// znode that does not parse is reported with its path, never half-loaded.
import { StateStoreError } from '../../common/errors.js';
import { parseAppId, parseShuffleId } from '../../common/ids.js';
import type { AppId, ShuffleId } from '../../common/ids.js';
import type { AppRecord, GroupRecord, ShuffleRecord, TombstoneRecord, WorkerRef } from './store.js';

export const LAYOUT_VERSION = 1;
/**
 * Groups per chunk znode. A group is ~300 bytes of JSON (two WorkerRefs), so a chunk is ~30 KB
 * and putGroup rewrites that much; 100 000 partitions at 100 per group are 10 chunks.
 */
export const GROUPS_PER_CHUNK = 100;
/**
 * What one multi may carry. ZooKeeper refuses a request larger than jute.maxbuffer (1 MiB less
 * one byte by default), a multi included; the estimate below is deliberately generous, and
 * this leaves another quarter for what it misses.
 */
export const MAX_MULTI_BYTES = 768 * 1024;

export const APP_TOMBSTONE = 'app';

export class Layout {
  readonly root: string;
  readonly apps: string;
  readonly shuffles: string;
  readonly groups: string;
  readonly tombstones: string;

  constructor(root: string) {
    if (!/^(\/[^/\s]+)+$/.test(root)) {
      throw new StateStoreError(`ZooKeeper root "${root}" must be an absolute znode path`);
    }
    this.root = root;
    this.apps = `${root}/apps`;
    this.shuffles = `${root}/shuffles`;
    this.groups = `${root}/groups`;
    this.tombstones = `${root}/tombstones`;
  }

  app(appId: AppId): string {
    return `${this.apps}/${appId}`;
  }
  shuffleDir(appId: AppId): string {
    return `${this.shuffles}/${appId}`;
  }
  shuffle(appId: AppId, shuffleId: ShuffleId): string {
    return `${this.shuffles}/${appId}/${shuffleId}`;
  }
  groupDir(appId: AppId): string {
    return `${this.groups}/${appId}`;
  }
  generation(appId: AppId, shuffleId: ShuffleId, gen: number): string {
    return `${this.groups}/${appId}/${generationName(shuffleId, gen)}`;
  }
  chunk(appId: AppId, shuffleId: ShuffleId, gen: number, k: number): string {
    return `${this.generation(appId, shuffleId, gen)}/${k}`;
  }
  tombstoneDir(appId: AppId): string {
    return `${this.tombstones}/${appId}`;
  }
  tombstone(appId: AppId, shuffleId: ShuffleId | null): string {
    return `${this.tombstones}/${appId}/${shuffleId === null ? APP_TOMBSTONE : shuffleId}`;
  }
}

export function generationName(shuffleId: ShuffleId, gen: number): string {
  return `${shuffleId}.${gen}`;
}

/** "<shuffleId>.<gen>" back to numbers; undefined for anything else. */
export function parseGenerationName(
  name: string,
): { shuffleId: ShuffleId; gen: number } | undefined {
  const m = /^(\d{1,10})\.(\d{1,15})$/.exec(name);
  if (!m) return undefined;
  const shuffleId = Number(m[1]);
  if (shuffleId > 0x7fff_ffff) return undefined;
  return { shuffleId: shuffleId as ShuffleId, gen: Number(m[2]) };
}

/** The shuffle header: everything of a ShuffleRecord but its groups, plus where they are. */
export interface ShuffleHeader {
  readonly numMappers: number;
  readonly numPartitions: number;
  readonly replicate: boolean;
  readonly maxPartitionsPerGroup: number;
  readonly createdAtMs: number;
  /** The generation whose chunks hold the groups (groups/<appId>/<shuffleId>.<gen>). */
  readonly gen: number;
  /** Chunk numbers present in that generation, ascending. */
  readonly chunks: readonly number[];
}

export const encode = (value: unknown): Buffer => Buffer.from(JSON.stringify(value), 'utf8');

export function chunkOf(groupId: number): number {
  return Math.floor(groupId / GROUPS_PER_CHUNK);
}

/** The groups sorted by groupId and cut into chunks by chunkOf(groupId). */
export function splitIntoChunks(groups: readonly GroupRecord[]): Map<number, GroupRecord[]> {
  const sorted = [...groups].sort((a, b) => a.groupId - b.groupId);
  const chunks = new Map<number, GroupRecord[]>();
  for (const g of sorted) {
    const k = chunkOf(g.groupId);
    let list = chunks.get(k);
    if (list === undefined) chunks.set(k, (list = []));
    list.push(g);
  }
  return chunks;
}

export function headerOf(shuffle: ShuffleRecord, gen: number, chunks: readonly number[]) {
  const header: ShuffleHeader = {
    numMappers: shuffle.numMappers,
    numPartitions: shuffle.numPartitions,
    replicate: shuffle.replicate,
    maxPartitionsPerGroup: shuffle.maxPartitionsPerGroup,
    createdAtMs: shuffle.createdAtMs,
    gen,
    chunks,
  };
  return header;
}

// ---- reading: every value is checked, so a damaged znode is an error naming it -------------

class Reader {
  constructor(
    readonly path: string,
    readonly value: Record<string, unknown>,
  ) {}

  static parse(path: string, data: Buffer | undefined): Reader {
    let value: unknown;
    try {
      value = JSON.parse((data ?? Buffer.alloc(0)).toString('utf8'));
    } catch (err) {
      throw corrupt(path, 'is not JSON', err);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw corrupt(path, 'is not a JSON object');
    }
    return new Reader(path, value as Record<string, unknown>);
  }

  int(field: string): number {
    const v = this.value[field];
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
      throw corrupt(this.path, `field ${field} is not an integer`);
    }
    return v;
  }
  str(field: string): string {
    const v = this.value[field];
    if (typeof v !== 'string') throw corrupt(this.path, `field ${field} is not a string`);
    return v;
  }
  bool(field: string): boolean {
    const v = this.value[field];
    if (typeof v !== 'boolean') throw corrupt(this.path, `field ${field} is not a boolean`);
    return v;
  }
  sub(field: string): Reader {
    const v = this.value[field];
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      throw corrupt(this.path, `field ${field} is not an object`);
    }
    return new Reader(this.path, v as Record<string, unknown>);
  }
}

export function corrupt(path: string, what: string, cause?: unknown): StateStoreError {
  return new StateStoreError(`ZooKeeper state znode ${path} ${what}; fix or delete it`, {
    cause,
    context: { path },
  });
}

export function decodeApp(path: string, appId: AppId, data: Buffer | undefined): AppRecord {
  const r = Reader.parse(path, data);
  return {
    appId,
    priority: r.int('priority'),
    name: r.str('name'),
    user: r.str('user'),
    registeredAtMs: r.int('registeredAtMs'),
    // Absent in apps written before registration tokens existed.
    registration: typeof r.value['registration'] === 'string' ? r.str('registration') : '',
  };
}

export function decodeHeader(path: string, data: Buffer | undefined): ShuffleHeader {
  const r = Reader.parse(path, data);
  const chunks = r.value['chunks'];
  if (!Array.isArray(chunks) || !chunks.every((k) => Number.isSafeInteger(k) && k >= 0)) {
    throw corrupt(path, 'field chunks is not a list of chunk numbers');
  }
  return {
    numMappers: r.int('numMappers'),
    numPartitions: r.int('numPartitions'),
    replicate: r.bool('replicate'),
    maxPartitionsPerGroup: r.int('maxPartitionsPerGroup'),
    createdAtMs: r.int('createdAtMs'),
    gen: r.int('gen'),
    chunks: chunks as number[],
  };
}

function decodeWorker(r: Reader): WorkerRef {
  return {
    workerId: r.str('workerId'),
    host: r.str('host'),
    rack: r.str('rack'),
    controlPort: r.int('controlPort'),
    dataPort: r.int('dataPort'),
    httpPort: r.int('httpPort'),
  };
}

export function decodeChunk(path: string, data: Buffer | undefined): GroupRecord[] {
  let value: unknown;
  try {
    value = JSON.parse((data ?? Buffer.alloc(0)).toString('utf8'));
  } catch (err) {
    throw corrupt(path, 'is not JSON', err);
  }
  if (!Array.isArray(value)) throw corrupt(path, 'is not a JSON list of groups');
  return value.map((item: unknown) => {
    if (typeof item !== 'object' || item === null) throw corrupt(path, 'holds a non-object group');
    const r = new Reader(path, item as Record<string, unknown>);
    const replica = r.value['replica'];
    return {
      groupId: r.int('groupId'),
      startPartition: r.int('startPartition'),
      endPartition: r.int('endPartition'),
      epoch: r.int('epoch'),
      primary: decodeWorker(r.sub('primary')),
      replica: replica === null ? null : decodeWorker(r.sub('replica')),
    };
  });
}

const REASONS = new Set<TombstoneRecord['reason']>(['expired', 'unregistered', 'released']);

export function decodeTombstone(
  path: string,
  appId: string,
  name: string,
  data: Buffer | undefined,
): TombstoneRecord {
  const r = Reader.parse(path, data);
  const reason = r.str('reason') as TombstoneRecord['reason'];
  if (!REASONS.has(reason)) throw corrupt(path, `has an unknown reason "${reason}"`);
  let shuffleId: ShuffleId | null = null;
  try {
    if (name !== APP_TOMBSTONE) shuffleId = parseShuffleId(Number(name));
    return { appId: parseAppId(appId), shuffleId, reason, deletedAtMs: r.int('deletedAtMs') };
  } catch (err) {
    throw corrupt(path, 'is not named after a valid app or shuffle id', err);
  }
}

export function encodeApp(app: AppRecord): Buffer {
  const { priority, name, user, registeredAtMs, registration } = app;
  return encode({ priority, name, user, registeredAtMs, registration });
}

export function encodeTombstone(t: TombstoneRecord): Buffer {
  return encode({ reason: t.reason, deletedAtMs: t.deletedAtMs });
}

export function encodeChunk(groups: readonly GroupRecord[]): Buffer {
  // Field by field, so a caller's extra properties never reach ZooKeeper.
  const worker = (w: WorkerRef) => ({
    workerId: w.workerId,
    host: w.host,
    rack: w.rack,
    controlPort: w.controlPort,
    dataPort: w.dataPort,
    httpPort: w.httpPort,
  });
  return encode(
    groups.map((g) => ({
      groupId: g.groupId,
      startPartition: g.startPartition,
      endPartition: g.endPartition,
      epoch: g.epoch,
      primary: worker(g.primary),
      replica: g.replica === null ? null : worker(g.replica),
    })),
  );
}
