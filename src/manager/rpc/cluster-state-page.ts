// One page of GetClusterState (proto/sluice/v1/manager.proto): workers, then apps, then
// shuffles, each in id order, at most `page_size` entries (bounded by
// manager.maxClusterStatePageSize). The page token names the last entry returned and the next
// page continues after it, so an entry added or removed between two calls never shows twice
// and never shifts the rest. Without pages one answer held every app and shuffle of the
// cluster: an app allocating without bound made every caller's answer (the agent's poll, the
// workers' priority lookups) grow with it (docs/operations.md#limits-against-hostile-or-buggy-clients).
import { InvalidArgumentError } from '../../common/errors.js';
import { parseAppId, parseShuffleId, parseWorkerId } from '../../common/ids.js';
import type { AppView } from '../lifecycle/app-registry.js';
import type { WorkerView } from '../registry/worker-registry.js';
import type { ShuffleRecord } from '../state/store.js';

export interface PageRequest {
  readonly pageSize: number;
  readonly pageToken: string;
  readonly includeGroups: boolean;
}

export interface StatePage {
  readonly workers: WorkerView[];
  readonly apps: AppView[];
  readonly shuffles: ShuffleRecord[];
  readonly nextPageToken: string;
}

type Kind = 'w' | 'a' | 's';
const KINDS: readonly Kind[] = ['w', 'a', 's'];
/** An entry's place in the page order: its kind, then its id (and shuffle id). */
type Key = readonly [kind: Kind, id: string, shuffleId: number];

const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function compare(a: Key, b: Key): number {
  return KINDS.indexOf(a[0]) - KINDS.indexOf(b[0]) || byCodeUnit(a[1], b[1]) || a[2] - b[2];
}

export function encodeToken([kind, id, shuffleId]: Key): string {
  return kind === 's' ? `s:${id}/${shuffleId}` : `${kind}:${id}`;
}

export function decodeToken(token: string): Key | undefined {
  if (token === '') return undefined;
  const kind = token.slice(0, 2);
  const rest = token.slice(2);
  if (kind === 'w:') return ['w', parseWorkerId(rest, 'page_token'), 0];
  if (kind === 'a:') return ['a', parseAppId(rest, 'page_token'), 0];
  const at = rest.lastIndexOf('/');
  if (kind === 's:' && at > 0 && /^\d{1,10}$/.test(rest.slice(at + 1)))
    return [
      's',
      parseAppId(rest.slice(0, at), 'page_token'),
      parseShuffleId(Number(rest.slice(at + 1)), 'page_token'),
    ];
  throw new InvalidArgumentError(
    'page_token',
    'is not a next_page_token of GetClusterState (start again with an empty one)',
  );
}

/**
 * The page after `req.pageToken` of the three lists (in any order; sorted here). With groups,
 * a shuffle costs as many entries as it has groups, so a page's size stays bounded in bytes
 * too; a page always takes at least one entry, so every walk ends.
 */
export function clusterStatePage(
  source: {
    readonly workers: readonly WorkerView[];
    readonly apps: readonly AppView[];
    readonly shuffles: readonly ShuffleRecord[];
  },
  req: PageRequest,
  maxPageSize: number,
): StatePage {
  const size = req.pageSize === 0 || req.pageSize > maxPageSize ? maxPageSize : req.pageSize;
  const after = decodeToken(req.pageToken);
  const entries: [Key, number, () => void][] = [];
  const page = {
    workers: [] as WorkerView[],
    apps: [] as AppView[],
    shuffles: [] as ShuffleRecord[],
  };
  for (const w of source.workers)
    entries.push([['w', w.ref.workerId, 0], 1, () => page.workers.push(w)]);
  for (const a of source.apps) entries.push([['a', a.appId, 0], 1, () => page.apps.push(a)]);
  for (const s of source.shuffles) {
    const cost = req.includeGroups ? Math.max(1, s.groups.length) : 1;
    entries.push([['s', s.appId, s.shuffleId], cost, () => page.shuffles.push(s)]);
  }
  const rest = entries
    .filter(([key]) => after === undefined || compare(key, after) > 0)
    .sort((x, y) => compare(x[0], y[0]));
  let budget = size;
  let taken = 0;
  for (const [, cost, take] of rest) {
    if (taken > 0 && cost > budget) break;
    take();
    taken++;
    budget -= cost;
  }
  const nextPageToken = taken < rest.length ? encodeToken(rest[taken - 1]![0]) : '';
  return { ...page, nextPageToken };
}
