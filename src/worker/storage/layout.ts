// Where partition files live (docs/architecture.md#on-disk-layout-and-index-format):
//   <dir>/<appId>/<shuffleId>/<partition>-<epoch>.data   the partition's blocks, in push order
//   <dir>/<appId>/<shuffleId>/<partition>-<epoch>.index  written at commit (index-file.ts)
// App ids are checked here too ([A-Za-z0-9._-], never . or ..; parseAppId), whatever checked
// them before, so a joined path can never leave <dir>: a deletion order naming "../.." must not
// become an rm -rf outside the data directory.
import { join } from 'node:path';
import { parseAppId, parseShuffleId, shuffleKey } from '../../common/ids.js';

export interface PartitionFileKey {
  readonly appId: string;
  readonly shuffleId: number;
  readonly partition: number;
  readonly epoch: number;
}

export const DATA_SUFFIX = '.data';
export const INDEX_SUFFIX = '.index';
/** Written in a shuffle directory before the first ack for the shuffle on that storage. */
export const ACCEPTED_MARKER = 'ACCEPTED';
/** Written in a shuffle directory once a commit has finished on that storage. */
export const COMMITTED_MARKER = 'COMMITTED';

export function appDir(dir: string, appId: string): string {
  return join(dir, parseAppId(appId));
}

export function shuffleDir(dir: string, appId: string, shuffleId: number): string {
  return join(dir, parseAppId(appId), String(parseShuffleId(shuffleId)));
}

export function fileBase(k: PartitionFileKey): string {
  return `${k.partition}-${k.epoch}`;
}

export function dataPath(dir: string, k: PartitionFileKey): string {
  return join(shuffleDir(dir, k.appId, k.shuffleId), fileBase(k) + DATA_SUFFIX);
}

export function indexPath(dir: string, k: PartitionFileKey): string {
  return join(shuffleDir(dir, k.appId, k.shuffleId), fileBase(k) + INDEX_SUFFIX);
}

/** Parses "<partition>-<epoch>.index"; undefined for anything else. */
export function parseIndexName(name: string): { partition: number; epoch: number } | undefined {
  const m = /^(\d{1,10})-(\d{1,10})\.index$/.exec(name);
  if (!m) return undefined;
  return { partition: Number(m[1]), epoch: Number(m[2]) };
}

/** A stable key for maps: "<app>/<shuffle>/<partition>-<epoch>", under its shuffle's shuffleKey. */
export function fileKey(k: PartitionFileKey): string {
  return `${shuffleKey(k.appId, k.shuffleId)}/${fileBase(k)}`;
}
