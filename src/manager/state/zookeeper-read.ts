// Reading the ZooKeeper state store back (docs/architecture.md#zookeeper-layout): the whole
// snapshot for load(), and the listings its garbage collection needs. Reads run many at a time
// (READ_CONCURRENCY) because load() reads one znode per app, shuffle header, chunk and
// tombstone; each is a round trip.
import { mapLimit as mapLimitBy } from '../../common/flow/map-limit.js';
import { parseAppId, parseShuffleId } from '../../common/ids.js';
import type { AppId, ShuffleId } from '../../common/ids.js';
import type { AppRecord, ShuffleRecord, StateSnapshot, TombstoneRecord } from './store.js';
import { compareTombstones } from './tombstone-check.js';
import type { Op, ZkConnection } from './zookeeper-connection.js';
import {
  corrupt,
  decodeApp,
  decodeChunk,
  decodeHeader,
  decodeTombstone,
  parseGenerationName,
  type Layout,
} from './zookeeper-layout.js';

/** Reads in flight at once (bounds the client's queue and the server's work). */
const READ_CONCURRENCY = 64;

const compareStrings = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** `fn` over `items`, READ_CONCURRENCY at a time; results in the order of `items`. */
export function mapLimit<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  return mapLimitBy(items, READ_CONCURRENCY, fn);
}

export interface ReadState {
  readonly snapshot: StateSnapshot;
  /** Paths of the generations the loaded headers name; every other one is garbage. */
  readonly referenced: ReadonlySet<string>;
}

/** Everything stored, in load()'s order. Not atomic: the caller keeps writers out meanwhile. */
export async function readState(conn: ZkConnection, L: Layout): Promise<ReadState> {
  const appNames = (await conn.getChildren(L.apps)) ?? [];
  const apps = (
    await mapLimit(appNames, async (name) => {
      const path = `${L.apps}/${name}`;
      const read = await conn.getData(path);
      return read && decodeApp(path, appIdOf(path, name), read.data);
    })
  ).filter((a): a is AppRecord => a !== undefined);
  apps.sort((a, b) => compareStrings(a.appId, b.appId));
  const { shuffles, referenced } = await readShuffles(conn, L);
  const tombstones = await readTombstones(conn, L);
  return { snapshot: { apps, shuffles, tombstones }, referenced };
}

async function readShuffles(conn: ZkConnection, L: Layout) {
  const appNames = (await conn.getChildren(L.shuffles)) ?? [];
  const keys = (
    await mapLimit(appNames, async (name) => {
      const appId = appIdOf(`${L.shuffles}/${name}`, name);
      const ids = (await conn.getChildren(L.shuffleDir(appId))) ?? [];
      return ids.map((id) => [appId, shuffleIdOf(`${L.shuffleDir(appId)}/${id}`, id)] as const);
    })
  ).flat();
  const loaded = await mapLimit(keys, ([appId, shuffleId]) =>
    readShuffle(conn, L, appId, shuffleId),
  );
  const shuffles = loaded.filter((s): s is ShuffleRecord & { gen: number } => s !== undefined);
  const referenced = new Set(shuffles.map((s) => L.generation(s.appId, s.shuffleId, s.gen)));
  const records = shuffles.map(({ gen: _gen, ...s }) => s as ShuffleRecord);
  records.sort((a, b) => compareStrings(a.appId, b.appId) || a.shuffleId - b.shuffleId);
  return { shuffles: records, referenced };
}

async function readShuffle(
  conn: ZkConnection,
  L: Layout,
  appId: AppId,
  shuffleId: ShuffleId,
): Promise<(ShuffleRecord & { gen: number }) | undefined> {
  const headerPath = L.shuffle(appId, shuffleId);
  const read = await conn.getData(headerPath);
  if (read === undefined) return undefined;
  const h = decodeHeader(headerPath, read.data);
  const chunks = await mapLimit(h.chunks, async (k) => {
    const path = L.chunk(appId, shuffleId, h.gen, k);
    const chunk = await conn.getData(path);
    if (chunk === undefined) throw corrupt(path, 'is missing but its shuffle header names it');
    return decodeChunk(path, chunk.data);
  });
  const groups = chunks.flat().sort((a, b) => a.groupId - b.groupId);
  const { numMappers, numPartitions, replicate, maxPartitionsPerGroup, createdAtMs } = h;
  const record = { appId, shuffleId, numMappers, numPartitions, replicate };
  return { ...record, maxPartitionsPerGroup, createdAtMs, groups, gen: h.gen };
}

async function readTombstones(conn: ZkConnection, L: Layout): Promise<TombstoneRecord[]> {
  const appNames = (await conn.getChildren(L.tombstones)) ?? [];
  const perApp = await mapLimit(appNames, async (appId) => {
    const dir = `${L.tombstones}/${appId}`;
    const names = (await conn.getChildren(dir)) ?? [];
    return mapLimit(names, async (name) => {
      const read = await conn.getData(`${dir}/${name}`);
      return read && decodeTombstone(`${dir}/${name}`, appId, name, read.data);
    });
  });
  return perApp
    .flat()
    .filter((t): t is TombstoneRecord => t !== undefined)
    .sort(compareTombstones);
}

/** Generations of `shuffleId` listed in `groupDir` (the children of groups/<appId>). */
export function generationsOf(
  groupDir: readonly string[] | undefined,
  shuffleId: ShuffleId,
): number[] {
  const gens: number[] = [];
  for (const name of groupDir ?? []) {
    const g = parseGenerationName(name);
    if (g !== undefined && g.shuffleId === shuffleId) gens.push(g.gen);
  }
  return gens;
}

/** Deletes of a znode and everything under it (children before parents); [] if absent. */
export async function subtreeDeletes(conn: ZkConnection, path: string): Promise<Op[]> {
  const children = await conn.getChildren(path);
  if (children === undefined) return [];
  const below = await mapLimit(children, (c) => subtreeDeletes(conn, `${path}/${c}`));
  return [...below.flat(), { type: 'delete', path }];
}

function appIdOf(path: string, name: string): AppId {
  try {
    return parseAppId(name);
  } catch (err) {
    throw corrupt(path, 'is not named after a valid app id', err);
  }
}

function shuffleIdOf(path: string, name: string): ShuffleId {
  try {
    if (!/^\d+$/.test(name)) throw new Error('not a decimal number');
    return parseShuffleId(Number(name));
  } catch (err) {
    throw corrupt(path, 'is not named after a valid shuffle id', err);
  }
}
