// RangePartitioner compares 48-bit key prefixes as numbers before falling back to
// Buffer.compare; it must place every key exactly where a plain binary search would.
import { randomBytes, randomInt } from 'node:crypto';
import { expect, it } from 'vitest';
import { RangePartitioner } from './partitioner.js';

function naive(bounds: readonly Buffer[], key: Buffer): number {
  let p = 0;
  while (p < bounds.length && Buffer.compare(key, bounds[p]!) >= 0) p++;
  return p;
}

it('places keys of any length exactly where Buffer.compare order says, ties and short keys included', () => {
  // Short keys and keys sharing 6-byte prefixes with the bounds exercise the fallback.
  const shared = randomBytes(6);
  const key = () => {
    const k = randomBytes(randomInt(0, 12));
    if (k.length >= 6 && randomInt(2) === 0) shared.copy(k);
    return k;
  };
  const bounds = Array.from({ length: 31 }, key).sort(Buffer.compare);
  const partitioner = new RangePartitioner(bounds);
  for (let i = 0; i < 20_000; i++) {
    const k = key();
    expect(partitioner.partition(k)).toBe(naive(bounds, k));
  }
  for (const b of bounds) expect(partitioner.partition(b)).toBe(naive(bounds, b));
});
