import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RangePartitioner } from '../../client/index.js';
import { addToChecksum, checkPartition, TerasortValidator } from './terasort-validator.js';

const partitioner = new RangePartitioner([
  Buffer.from('40'.repeat(10), 'hex'),
  Buffer.from('80'.repeat(10), 'hex'),
]);

function records(n: number): Buffer[] {
  return Array.from({ length: n }, () => randomBytes(100));
}

/**
 * `viaChecks`: as with executors, each partition is checked where it is read (checkPartition)
 * and only its check, through JSON like the IPC channel, reaches the validator.
 */
function run(rs: Buffer[], mutate?: (byPartition: Buffer[][]) => void, viaChecks = false) {
  const checksum = rs.reduce((sum, r) => addToChecksum(sum, r), 0);
  const byPartition: Buffer[][] = [[], [], []];
  for (const r of rs) byPartition[partitioner.partition(r.subarray(0, 10))]!.push(Buffer.from(r));
  mutate?.(byPartition);
  const v = new TerasortValidator(partitioner, 100);
  const sorted = byPartition.map((p, i) => {
    if (!viaChecks) return v.sortAndCheck(i, p);
    const { sorted, check } = checkPartition(partitioner, 100, i, p);
    v.add(JSON.parse(JSON.stringify(check)) as typeof check);
    return sorted;
  });
  return { sorted, problems: v.finish(rs.length, checksum).problems };
}

describe('TerasortValidator', () => {
  it('accepts correctly partitioned records and returns each partition sorted by key', () => {
    const { sorted, problems } = run(records(3000));
    expect(problems).toEqual([]);
    for (const p of sorted)
      for (let i = 1; i < p.length; i++)
        expect(
          Buffer.compare(p[i - 1]!.subarray(0, 10), p[i]!.subarray(0, 10)),
        ).toBeLessThanOrEqual(0);
  });

  it.each([
    ['a lost record', (ps: Buffer[][]) => void ps[1]!.pop(), /read 2999 records/],
    ['a duplicated record', (ps: Buffer[][]) => void ps[0]!.push(ps[0]![0]!), /read 3001 records/],
    ['a flipped value byte', (ps: Buffer[][]) => void (ps[2]![0]![50]! ^= 1), /checksum/],
    [
      'a record in the wrong partition',
      (ps: Buffer[][]) => void ps[0]!.push(ps[2]!.pop()!),
      /holds key .* of partition 2/,
    ],
    [
      'a short record',
      (ps: Buffer[][]) => void (ps[1]![0] = ps[1]![0]!.subarray(0, 99)),
      /record of 99 bytes/,
    ],
  ])('reports %s', (_name, mutate, message) => {
    const { problems } = run(records(3000), mutate);
    expect(problems.join('\n')).toMatch(message);
    // The same problem is found when partitions are checked in executors.
    const checked = run(records(3000), mutate, true);
    expect(checked.problems.join('\n')).toMatch(message);
  });

  it('accepts correct partitions checked apart (in executors) and finds the same global order problem', () => {
    expect(run(records(3000), undefined, true).problems).toEqual([]);
    // The records of partitions 0 and 2 swapped: partition 0 now ends after partition 1 begins.
    const swapped = run(records(3000), (ps) => ps.reverse(), true).problems.join('\n');
    expect(swapped).toMatch(/ends after partition/);
  });
});
