// The shuffles of an S3 storage, rebuilt from one listing of its prefix (S3Storage.list(), a
// restarted worker's reload): keys are grouped by <appId>/<shuffleId>, every index object is
// read and decoded, and a file is served only when its data object's size is the index's
// fileLength. Anything else under the prefix (the probe's objects, foreign keys) is ignored.
import type { SluiceError } from '../../../common/errors.js';
import { mapLimit } from '../../../common/flow/map-limit.js';
import { isAppId } from '../../../common/ids.js';
import type { Logger } from '../../../common/obs/logger.js';
import { decodeIndex } from '../index-file.js';
import { COMMITTED_MARKER, DATA_SUFFIX, INDEX_SUFFIX, parseIndexName } from '../layout.js';
import type { StoredFile, StoredShuffle } from '../storage.js';

export interface S3Object {
  readonly key: string;
  readonly size: number;
}

export interface ListContext {
  /** The storage's prefix with its trailing slash, or ''. */
  readonly root: string;
  /** The s3:// URL of a key. */
  readonly location: (key: string) => string;
  readonly readIndex: (key: string) => Promise<Buffer>;
  readonly logger: Logger;
  /** The storage's name, for logs. */
  readonly name: string;
}

/** Index objects read at once: a worker may hold 100 000 partitions. */
const INDEX_READS_IN_FLIGHT = 16;

interface ShuffleObjects {
  readonly appId: string;
  readonly shuffleId: number;
  /** File name in the shuffle directory -> object size. */
  readonly sizes: Map<string, number>;
}

export async function listShuffles(
  objects: readonly S3Object[],
  ctx: ListContext,
): Promise<StoredShuffle[]> {
  const shuffles = groupByShuffle(objects, ctx.root);
  const found: StoredShuffle[] = [];
  for (const s of shuffles.values()) {
    const names = [...s.sizes.keys()].filter((name) => parseIndexName(name) !== undefined);
    const checked = await mapLimit(names, INDEX_READS_IN_FLIGHT, (name) => checkFile(s, name, ctx));
    const files = checked.filter((f): f is StoredFile => f !== undefined);
    found.push({
      appId: s.appId,
      shuffleId: s.shuffleId,
      committed: s.sizes.has(COMMITTED_MARKER),
      files,
      skipped: checked.length - files.length,
    });
  }
  return found;
}

function groupByShuffle(objects: readonly S3Object[], root: string): Map<string, ShuffleObjects> {
  const shuffles = new Map<string, ShuffleObjects>();
  for (const { key, size } of objects) {
    if (!key.startsWith(root)) continue;
    const parts = key.slice(root.length).split('/');
    if (parts.length !== 3) continue;
    const [appId, shuffleName, name] = parts as [string, string, string];
    if (!/^\d{1,10}$/.test(shuffleName) || !isAppId(appId)) continue;
    const id = `${appId}/${shuffleName}`;
    let s = shuffles.get(id);
    if (s === undefined) {
      s = { appId, shuffleId: Number(shuffleName), sizes: new Map() };
      shuffles.set(id, s);
    }
    s.sizes.set(name, size);
  }
  return shuffles;
}

/** The file of index object `name` when it checks out; undefined (and a warning) otherwise. */
async function checkFile(
  s: ShuffleObjects,
  name: string,
  ctx: ListContext,
): Promise<StoredFile | undefined> {
  const key = { appId: s.appId, shuffleId: s.shuffleId, ...parseIndexName(name)! };
  const base = name.slice(0, -INDEX_SUFFIX.length);
  const dir = `${ctx.root}${s.appId}/${s.shuffleId}/`;
  let bytes: Buffer;
  try {
    bytes = await ctx.readIndex(`${dir}${name}`);
  } catch (err) {
    // Deleted since the listing: nothing to serve. Any other failure fails the listing: a
    // file skipped because S3 was briefly unavailable would be lost to the reload.
    if ((err as SluiceError).code === 'SLUICE_ERR_NOT_FOUND') return undefined;
    throw err;
  }
  try {
    const index = decodeIndex(bytes);
    const size = s.sizes.get(base + DATA_SUFFIX);
    if (size !== index.fileLength) {
      throw new Error(
        size === undefined
          ? 'its data object is missing'
          : `its data object is ${size} bytes, its index says ${index.fileLength}`,
      );
    }
    return { ...key, location: ctx.location(`${dir}${base}${DATA_SUFFIX}`), index };
  } catch (err) {
    ctx.logger.warn(
      { err, storage: ctx.name, appId: s.appId, shuffleId: s.shuffleId, file: name },
      'not serving a committed file that does not check out',
    );
    return undefined;
  }
}
