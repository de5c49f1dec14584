// Pages of GetClusterState: bounded, in order (workers, apps, shuffles), continuing after the
// last entry returned even when entries come and go between pages, and a page token that is
// not one is refused.
import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../common/errors.js';
import type { AppView } from '../lifecycle/app-registry.js';
import type { WorkerView } from '../registry/worker-registry.js';
import type { GroupRecord, ShuffleRecord } from '../state/store.js';
import { clusterStatePage, decodeToken, encodeToken } from './cluster-state-page.js';

const worker = (id: string) => ({ ref: { workerId: id } }) as WorkerView;
const app = (id: string) => ({ appId: id }) as AppView;
const shuffle = (appId: string, shuffleId: number, groups = 1) =>
  ({ appId, shuffleId, groups: new Array<GroupRecord>(groups) }) as unknown as ShuffleRecord;

function ids(p: ReturnType<typeof clusterStatePage>): string[] {
  return [
    ...p.workers.map((w) => `w:${w.ref.workerId}`),
    ...p.apps.map((a) => `a:${a.appId}`),
    ...p.shuffles.map((s) => `s:${s.appId}/${s.shuffleId}`),
  ];
}

function walk(source: Parameters<typeof clusterStatePage>[0], pageSize: number, max = 1_000) {
  const seen: string[][] = [];
  let pageToken = '';
  do {
    const p = clusterStatePage(source, { pageSize, pageToken, includeGroups: false }, max);
    seen.push(ids(p));
    pageToken = p.nextPageToken;
  } while (pageToken !== '');
  return seen;
}

describe('clusterStatePage', () => {
  const source = {
    workers: [worker('w2'), worker('w1')],
    apps: [app('b'), app('a')],
    // Numeric order of shuffle ids, not text order (10 after 9).
    shuffles: [shuffle('a', 10), shuffle('a', 9), shuffle('b', 0)],
  };

  it('walks workers, apps then shuffles in id order, pageSize entries at a time', () => {
    expect(walk(source, 3)).toEqual([
      ['w:w1', 'w:w2', 'a:a'],
      ['a:b', 's:a/9', 's:a/10'],
      ['s:b/0'],
    ]);
    expect(walk(source, 0).flat()).toHaveLength(7);
    expect(walk(source, 7)).toHaveLength(1);
  });

  it('bounds the page by the maximum whatever the request asks', () => {
    const many = { workers: [], apps: [], shuffles: [] as ShuffleRecord[] };
    for (let i = 0; i < 2_500; i++) many.shuffles.push(shuffle('a', i));
    const pages = walk(many, 1_000_000, 1_000);
    expect(pages.map((p) => p.length)).toEqual([1_000, 1_000, 500]);
    expect(new Set(pages.flat()).size).toBe(2_500);
  });

  it('with groups, a shuffle costs its groups; a larger one still gets a page of its own', () => {
    const big = {
      workers: [],
      apps: [],
      shuffles: [shuffle('a', 0, 3), shuffle('a', 1, 50), shuffle('a', 2, 2)],
    };
    const sizes: number[] = [];
    let pageToken = '';
    do {
      const p = clusterStatePage(big, { pageSize: 10, pageToken, includeGroups: true }, 1_000);
      sizes.push(p.shuffles.length);
      pageToken = p.nextPageToken;
    } while (pageToken);
    expect(sizes).toEqual([1, 1, 1]);
  });

  it('continues after the last entry returned when entries come and go between pages', () => {
    const live = { workers: [], apps: [app('a'), app('c'), app('e')], shuffles: [] };
    const first = clusterStatePage(live, { pageSize: 2, pageToken: '', includeGroups: false }, 10);
    expect(ids(first)).toEqual(['a:a', 'a:c']);
    // 'c' is removed and 'b' (behind the cursor) and 'd' (ahead) are added.
    const changed = { ...live, apps: [app('a'), app('b'), app('d'), app('e')] };
    const next = clusterStatePage(
      changed,
      { pageSize: 2, pageToken: first.nextPageToken, includeGroups: false },
      10,
    );
    expect(ids(next)).toEqual(['a:d', 'a:e']);
    expect(next.nextPageToken).toBe('');
  });

  it('round-trips its tokens and refuses anything else with INVALID_ARGUMENT', () => {
    for (const key of [
      ['w', 'w-1', 0],
      ['a', 'app.x', 0],
      ['s', 'app', 2_147_483_647],
    ] as const)
      expect(decodeToken(encodeToken(key))).toEqual(key);
    for (const bad of ['x', 'w:', 'a:../..', 's:app', 's:app/x', 's:app/1e3', 'z:a'])
      expect(() => decodeToken(bad)).toThrow(
        expect.objectContaining({ code: 'SLUICE_ERR_INVALID_ARGUMENT', field: 'page_token' }),
      );
    expect(() => decodeToken('s:/1')).toThrow(SluiceError);
  });
});
