// Partitioners (docs/client.md): which partition a record's key goes to. Hash for joins and
// aggregations, range for sorts (terasort): partition i holds keys in [bounds[i-1], bounds[i]).
import { InvalidArgumentError } from '../common/errors.js';

export interface Partitioner {
  readonly numPartitions: number;
  partition(key: Buffer): number;
}

/** MurmurHash3 x86_32 of the key, modulo the partition count. Stable across processes. */
export class HashPartitioner implements Partitioner {
  readonly numPartitions: number;
  constructor(numPartitions: number) {
    if (!Number.isInteger(numPartitions) || numPartitions < 1)
      throw new InvalidArgumentError(
        'numPartitions',
        `must be a positive integer, got ${numPartitions}`,
      );
    this.numPartitions = numPartitions;
  }
  partition(key: Buffer): number {
    return murmur3(key) % this.numPartitions;
  }
}

/** Keys ordered by Buffer.compare (unsigned bytes); `bounds` are the upper bounds, exclusive. */
export class RangePartitioner implements Partitioner {
  readonly numPartitions: number;
  readonly #bounds: readonly Buffer[];
  readonly #prefixes: Float64Array;
  constructor(bounds: readonly Buffer[]) {
    for (let i = 1; i < bounds.length; i++)
      if (Buffer.compare(bounds[i - 1]!, bounds[i]!) > 0)
        throw new InvalidArgumentError(`bounds[${i}]`, 'bounds must be in ascending order');
    this.#bounds = bounds.map((b) => Buffer.from(b));
    this.#prefixes = Float64Array.from(this.#bounds, prefixOf);
    this.numPartitions = bounds.length + 1;
  }

  /** Bounds at the quantiles of a sample of keys (what terasort's sampler does). */
  static fromSample(sample: readonly Buffer[], numPartitions: number): RangePartitioner {
    if (!Number.isInteger(numPartitions) || numPartitions < 1)
      throw new InvalidArgumentError(
        'numPartitions',
        `must be a positive integer, got ${numPartitions}`,
      );
    if (sample.length === 0 && numPartitions > 1)
      throw new InvalidArgumentError('sample', 'is empty');
    const sorted = [...sample].sort(Buffer.compare);
    const bounds: Buffer[] = [];
    for (let i = 1; i < numPartitions; i++)
      bounds.push(sorted[Math.floor((i * sorted.length) / numPartitions)]!);
    return new RangePartitioner(bounds);
  }

  get bounds(): readonly Buffer[] {
    return this.#bounds;
  }

  partition(key: Buffer): number {
    // Compare 48-bit prefixes as numbers first; only equal prefixes need Buffer.compare (a
    // native call per step would dominate a terasort's map loop).
    const prefix = prefixOf(key);
    let lo = 0;
    let hi = this.#bounds.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const p = this.#prefixes[mid]!;
      const cmp = prefix !== p ? prefix - p : Buffer.compare(key, this.#bounds[mid]!);
      if (cmp >= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** The first 6 bytes as an unsigned number, zero-padded: ordered like the keys themselves. */
function prefixOf(key: Buffer): number {
  if (key.length >= 6) return key.readUIntBE(0, 6);
  let n = 0;
  for (let i = 0; i < 6; i++) n = n * 256 + (i < key.length ? key[i]! : 0);
  return n;
}

function murmur3(key: Buffer, seed = 0): number {
  let h = seed >>> 0;
  const n = key.length;
  const blocks = n & ~3;
  for (let i = 0; i < blocks; i += 4) {
    let k = key[i]! | (key[i + 1]! << 8) | (key[i + 2]! << 16) | (key[i + 3]! << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const rest = n & 3;
  if (rest > 0) {
    let k = 0;
    if (rest === 3) k ^= key[blocks + 2]! << 16;
    if (rest >= 2) k ^= key[blocks + 1]! << 8;
    k ^= key[blocks]!;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
  }
  h ^= n;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
