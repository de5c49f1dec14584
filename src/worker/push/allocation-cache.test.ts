// AllocationCache: which pushes a worker accepts, with a scripted manager lookup.
import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../common/errors.js';
import { AllocationCache, type GroupView } from './allocation-cache.js';

function lookupOf(script: (readonly GroupView[] | undefined | Error)[]) {
  const calls: string[] = [];
  let i = 0;
  const lookup = async (appId: string, shuffleId: number) => {
    calls.push(`${appId}/${shuffleId}`);
    const next = script[Math.min(i++, script.length - 1)];
    if (next instanceof Error) throw next;
    return next;
  };
  return { lookup, calls };
}

const g = (
  groupId: number,
  epoch: number,
  workerIds: string[],
  start = groupId * 10,
): GroupView => ({
  groupId,
  startPartition: start,
  endPartition: start + 10,
  epoch,
  workerIds,
});

describe('AllocationCache', () => {
  it('accepts groups allocated to this worker, refuses others, and asks the manager once', async () => {
    const { lookup, calls } = lookupOf([[g(0, 0, ['me', 'other']), g(1, 0, ['x', 'y'])]]);
    const cache = new AllocationCache('me', lookup);
    const results = await Promise.all([
      cache.check('app', 1, 0, 0, [0, 9]),
      cache.check('app', 1, 0, 0, [3]),
      cache.check('app', 1, 1, 0, [10]),
      cache.check('app', 1, 0, 0, [10]),
      cache.check('app', 1, 7, 0, [70]),
    ]);
    expect(results).toEqual(['OK', 'OK', 'UNKNOWN_SHUFFLE', 'UNKNOWN_SHUFFLE', 'UNKNOWN_SHUFFLE']);
    expect(calls).toEqual(['app/1']);
  });

  it('refreshes on a newer epoch and keeps accepting the epoch it served before', async () => {
    const { lookup, calls } = lookupOf([
      [g(0, 0, ['me', 'b'])],
      [g(0, 1, ['c', 'me'])],
      [g(0, 2, ['c', 'd'])],
    ]);
    const cache = new AllocationCache('me', lookup);
    expect(await cache.check('app', 1, 0, 0, [1])).toBe('OK');
    expect(await cache.check('app', 1, 0, 1, [1])).toBe('OK');
    expect(await cache.check('app', 1, 0, 2, [1])).toBe('UNKNOWN_SHUFFLE');
    expect(await cache.check('app', 1, 0, 0, [1])).toBe('OK');
    expect(calls).toHaveLength(3);
  });

  it('answers STALE_EPOCH for an old epoch this worker never served', async () => {
    const { lookup } = lookupOf([[g(0, 3, ['me', 'b'])]]);
    const cache = new AllocationCache('me', lookup);
    expect(await cache.check('app', 1, 0, 3, [0])).toBe('OK');
    expect(await cache.check('app', 1, 0, 2, [0])).toBe('STALE_EPOCH');
  });

  it('caches "not allocated" briefly and forgets deleted shuffles', async () => {
    let now = 0;
    const { lookup, calls } = lookupOf([undefined, undefined, [g(0, 0, ['me'])]]);
    const cache = new AllocationCache('me', lookup, () => now);
    expect(await cache.check('gone', 0, 0, 0, [0])).toBe('UNKNOWN_SHUFFLE');
    expect(await cache.check('gone', 0, 0, 0, [0])).toBe('UNKNOWN_SHUFFLE');
    expect(calls).toHaveLength(1);
    now += 1_500;
    expect(await cache.check('gone', 0, 0, 0, [0])).toBe('UNKNOWN_SHUFFLE');
    now += 1_500;
    expect(await cache.check('gone', 0, 0, 0, [0])).toBe('OK');
    cache.forget('gone');
    expect(await cache.check('gone', 0, 0, 0, [0])).toBe('OK');
    expect(calls).toHaveLength(4);
  });

  it('keeps what it knew when the manager is unreachable, and reports it when it knew nothing', async () => {
    const down = new SluiceError('SLUICE_ERR_UNAVAILABLE', 'manager down');
    const { lookup } = lookupOf([[g(0, 0, ['me'])], down]);
    const cache = new AllocationCache('me', lookup);
    expect(await cache.check('app', 1, 0, 0, [0])).toBe('OK');
    // A newer epoch it cannot check: retriable UNAVAILABLE, not a verdict.
    expect(await cache.check('app', 1, 0, 1, [0])).toBe('UNAVAILABLE');
    expect(await cache.check('app', 1, 0, 0, [0])).toBe('OK');
    const fresh = new AllocationCache('me', lookupOf([down]).lookup);
    expect(await fresh.check('app', 1, 0, 0, [0])).toBe('UNAVAILABLE');
  });
});
