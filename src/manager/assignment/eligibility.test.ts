// Who may receive groups, and why nobody can (docs/architecture.md#allocation-policies).
import { describe, it, expect } from 'vitest';
import { NoWorkersError } from '../../common/errors.js';
import { eligibleWorkers, formatBytes, rotate } from './eligibility.js';
import { POLICIES } from './index.js';
import type { AllocationRequest, WorkerCandidate } from './types.js';

const GiB = 1024 ** 3;

function worker(id: string, freeDiskBytes = 100 * GiB): WorkerCandidate {
  return {
    id,
    host: `host-${id}`,
    rack: '',
    freeDiskBytes,
    memoryUsedBytes: 0,
    memoryBudgetBytes: GiB,
    pushBytesPerSec: 0,
    fetchBytesPerSec: 0,
  };
}

function request(over: Partial<AllocationRequest> = {}): AllocationRequest {
  return {
    numPartitions: 10,
    maxPartitionsPerGroup: 1,
    replicate: false,
    minFreeDiskBytes: 0,
    cursor: 0,
    ...over,
  };
}

const ids = (workers: readonly WorkerCandidate[]): string[] => workers.map((w) => w.id);

describe('rotate', () => {
  it.each([
    { cursor: 0, want: 'abc' },
    { cursor: 1, want: 'bca' },
    { cursor: 5, want: 'cab' },
    { cursor: -1, want: 'cab' },
    { cursor: Number.NaN, want: 'abc' },
  ])('cursor $cursor → $want', ({ cursor, want }) => {
    expect(rotate(['a', 'b', 'c'], cursor).join('')).toBe(want);
  });

  it('returns nothing for nothing', () => {
    expect(rotate([], 3)).toEqual([]);
  });
});

describe('formatBytes', () => {
  it.each([
    { bytes: 0, want: '0 B' },
    { bytes: 512, want: '512 B' },
    { bytes: 1536, want: '1.5 KiB' },
    { bytes: GiB, want: '1 GiB' },
    { bytes: 10 * 1024 * GiB, want: '10 TiB' },
  ])('$bytes → $want', ({ bytes, want }) => {
    expect(formatBytes(bytes)).toBe(want);
  });
});

describe('eligibleWorkers', () => {
  it('sorts by id, then rotates by the cursor', () => {
    const workers = [worker('c'), worker('a'), worker('b')];
    expect(ids(eligibleWorkers(workers, request()))).toEqual(['a', 'b', 'c']);
    expect(ids(eligibleWorkers(workers, request({ cursor: 1 })))).toEqual(['b', 'c', 'a']);
  });

  it.each([
    { case: 'excluded', req: request({ exclude: new Set(['b']) }), want: ['a', 'c'] },
    { case: 'no free disk', req: request(), want: ['a', 'c'], diskB: 0 },
    { case: 'below the minimum', req: request({ minFreeDiskBytes: GiB }), want: ['a', 'c'] },
  ])('leaves out a worker that is $case', ({ req, want, diskB }) => {
    const workers = [worker('a'), worker('b', diskB ?? GiB - 1), worker('c')];
    expect(ids(eligibleWorkers(workers, req))).toEqual(want);
  });

  it.each([
    {
      case: 'no workers at all',
      workers: [],
      req: request(),
      message: 'no healthy workers are registered (0 considered, 0 excluded)',
    },
    {
      case: 'every disk full',
      workers: [worker('a', 0), worker('b', 0), worker('c', 0)],
      req: request(),
      message: 'no worker has free disk (3 considered, 0 excluded)',
    },
    {
      case: 'disks under the minimum, one excluded',
      workers: [worker('a', GiB - 1), worker('b', 5), worker('c')],
      req: request({ minFreeDiskBytes: GiB, exclude: new Set(['c']) }),
      message: 'no worker has free disk ≥ 1 GiB (3 considered, 1 excluded)',
    },
    {
      case: 'every worker excluded',
      workers: [worker('a'), worker('b')],
      req: request({ exclude: new Set(['a', 'b']) }),
      message: 'every worker is excluded (2 considered, 2 excluded)',
    },
    {
      case: 'replication with one eligible worker',
      workers: [worker('a'), worker('b', 0), worker('c')],
      req: request({ replicate: true, exclude: new Set(['c']) }),
      message:
        'replication needs two workers but only 1 is eligible ' +
        '(3 considered, 1 excluded, 1 without free disk)',
    },
  ])('throws NoWorkersError when $case', ({ workers, req, message }) => {
    for (const place of [
      (): unknown => eligibleWorkers(workers, req),
      ...policyCalls(workers, req),
    ]) {
      expect(place).toThrow(NoWorkersError);
      expect(place).toThrow(
        expect.objectContaining({ code: 'SLUICE_ERR_NO_WORKERS', retriable: true, message }),
      );
    }
  });

  it('puts the counts in the error context for logs', () => {
    const workers = [worker('a', 0), worker('b')];
    const req = request({ exclude: new Set(['b']) });
    expect(() => eligibleWorkers(workers, req)).toThrow(
      expect.objectContaining({
        context: { considered: 2, excluded: 1, withoutDisk: 1, eligible: 0 },
      }),
    );
  });
});

/** Both policies must fail the same way as eligibleWorkers itself. */
function policyCalls(
  workers: readonly WorkerCandidate[],
  req: AllocationRequest,
): (() => unknown)[] {
  return Object.values(POLICIES).map((policy) => () => policy(workers, req));
}
