import { describe, it, expect } from 'vitest';
import { splitIntoGroups } from './split.js';

const sizes = (n: number, max: number): number[] =>
  splitIntoGroups(n, max).map((r) => r.endPartition - r.startPartition);

describe('splitIntoGroups', () => {
  it.each([
    { n: 250, max: 100, want: [84, 83, 83] },
    { n: 1, max: 100, want: [1] },
    { n: 1, max: 1, want: [1] },
    { n: 100, max: 100, want: [100] },
    { n: 101, max: 100, want: [51, 50] },
    { n: 7, max: 3, want: [3, 2, 2] },
    { n: 10, max: 4, want: [4, 3, 3] },
    { n: 0, max: 100, want: [] },
  ])('$n partitions with max $max → sizes $want', ({ n, max, want }) => {
    expect(sizes(n, max)).toEqual(want);
  });

  it.each([
    { n: 10_000, max: 100, groups: 100, size: 100 },
    { n: 10_000, max: 1, groups: 10_000, size: 1 },
  ])('$n partitions with max $max → $groups groups of $size', ({ n, max, groups, size }) => {
    const got = sizes(n, max);
    expect(got).toHaveLength(groups);
    expect(new Set(got)).toEqual(new Set([size]));
  });

  it('covers [0, n) with contiguous, even ranges no larger than the maximum', () => {
    const bad: string[] = [];
    for (let n = 1; n <= 300; n++) {
      for (let max = 1; max <= 20; max++) {
        const ranges = splitIntoGroups(n, max);
        const lengths = ranges.map((r) => r.endPartition - r.startPartition);
        const contiguous = ranges.every(
          (r, i) => r.startPartition === (i === 0 ? 0 : ranges[i - 1]!.endPartition),
        );
        if (
          ranges.length !== Math.ceil(n / max) ||
          !contiguous ||
          ranges.at(-1)!.endPartition !== n ||
          Math.max(...lengths) > max ||
          Math.max(...lengths) - Math.min(...lengths) > 1
        ) {
          bad.push(`${n}/${max}`);
        }
      }
    }
    expect(bad).toEqual([]);
  });

  it('numbers groups from firstGroupId while partitions still start at 0', () => {
    expect(splitIntoGroups(5, 2, 7)).toEqual([
      { groupId: 7, startPartition: 0, endPartition: 2 },
      { groupId: 8, startPartition: 2, endPartition: 4 },
      { groupId: 9, startPartition: 4, endPartition: 5 },
    ]);
  });

  it.each([
    { n: 10, max: 0, field: 'maxPartitionsPerGroup' },
    { n: 10, max: 1.5, field: 'maxPartitionsPerGroup' },
    { n: -1, max: 10, field: 'numPartitions' },
    { n: Number.NaN, max: 10, field: 'numPartitions' },
  ])('rejects n=$n max=$max naming $field', ({ n, max, field }) => {
    expect(() => splitIntoGroups(n, max)).toThrow(
      expect.objectContaining({ code: 'SLUICE_ERR_INVALID_ARGUMENT', field }),
    );
  });
});
