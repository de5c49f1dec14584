import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SluiceError } from '../common/errors.js';
import { HashPartitioner, RangePartitioner } from './partitioner.js';

describe('HashPartitioner', () => {
  // MurmurHash3 x86_32, seed 0: the published reference values (SMHasher / Wikipedia). With
  // 2^32 partitions the modulo is a no-op, so partition() is the raw hash.
  it.each([
    { key: '', hash: 0x0000_0000 },
    { key: 'abc', hash: 0xb3dd_93fa },
    { key: 'test', hash: 0xba6b_d213 },
    { key: 'hello', hash: 0x248b_fa47 },
    { key: 'The quick brown fox jumps over the lazy dog', hash: 0x2e4f_f723 },
  ])('murmur3("$key") = $hash', ({ key, hash }) => {
    expect(new HashPartitioner(2 ** 32).partition(Buffer.from(key))).toBe(hash);
  });

  it('hashes four zero bytes to the reference value', () => {
    expect(new HashPartitioner(2 ** 32).partition(Buffer.alloc(4))).toBe(0x2362_f9de);
  });

  it.each([
    { n: 7, key: 'hello', p: 0x248b_fa47 % 7 },
    { n: 400, key: 'The quick brown fox jumps over the lazy dog', p: 0x2e4f_f723 % 400 },
  ])('is stable: $key into $n partitions -> $p', ({ n, key, p }) => {
    expect(new HashPartitioner(n).partition(Buffer.from(key))).toBe(p);
  });

  it('puts every key in range and spreads 100k random keys roughly uniformly', () => {
    const n = 16;
    const h = new HashPartitioner(n);
    const counts = new Array<number>(n).fill(0);
    const keys = 100_000;
    for (let i = 0; i < keys; i++) {
      const p = h.partition(randomBytes(1 + (i % 24)));
      if (!(Number.isInteger(p) && p >= 0 && p < n)) throw new Error(`partition ${p} out of range`);
      counts[p]!++;
    }
    const expected = keys / n; // 6250, σ ≈ 77: ±8 % is more than 6σ
    for (const c of counts) expect(Math.abs(c - expected)).toBeLessThan(expected * 0.08);
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects %s partitions, naming numPartitions', (n) => {
    expect(() => new HashPartitioner(n)).toThrow(/^numPartitions: /);
  });
});

describe('RangePartitioner', () => {
  it('fromSample: every key of partition i sorts before every key of partition i+1', () => {
    const sample = Array.from({ length: 2000 }, () => randomBytes(8));
    const r = RangePartitioner.fromSample(sample, 10);
    expect(r.numPartitions).toBe(10);
    const parts = Array.from({ length: 10 }, () => [] as Buffer[]);
    for (let i = 0; i < 20_000; i++) {
      const k = randomBytes(1 + (i % 10));
      parts[r.partition(k)]!.push(k);
    }
    const nonEmpty = parts.filter((ks) => ks.length > 0).map((ks) => ks.sort(Buffer.compare));
    expect(nonEmpty.length).toBe(10);
    for (let i = 1; i < nonEmpty.length; i++)
      expect(Buffer.compare(nonEmpty[i - 1]!.at(-1)!, nonEmpty[i]![0]!)).toBe(-1);
  });

  it('fromSample bounds are the sample quantiles, in order', () => {
    const sample = Array.from({ length: 100 }, (_, i) => Buffer.from([99 - i]));
    const r = RangePartitioner.fromSample(sample, 4);
    expect(r.bounds.map((b) => b[0])).toEqual([25, 50, 75]);
    // upper bounds are exclusive
    expect([0, 24, 25, 49, 50, 75, 99, 255].map((k) => r.partition(Buffer.from([k])))).toEqual([
      0, 0, 1, 1, 2, 3, 3, 3,
    ]);
  });

  it.each([
    { name: 'empty key', key: Buffer.alloc(0), p: 0 },
    { name: 'equal to the first bound', key: Buffer.from('m'), p: 1 },
    { name: 'a prefix of a bound sorts before it', key: Buffer.from('t'), p: 1 },
    { name: 'past the last bound', key: Buffer.from('zz'), p: 2 },
  ])('partition: $name', ({ key, p }) => {
    expect(new RangePartitioner([Buffer.from('m'), Buffer.from('tt')]).partition(key)).toBe(p);
  });

  it('one partition needs no sample', () => {
    const r = RangePartitioner.fromSample([], 1);
    expect(r.numPartitions).toBe(1);
    expect(r.partition(Buffer.from('anything'))).toBe(0);
  });

  it.each([
    {
      name: 'bounds out of order',
      run: () => new RangePartitioner([Buffer.from('b'), Buffer.from('c'), Buffer.from('a')]),
      message: /^bounds\[2\]: bounds must be in ascending order/,
    },
    {
      name: 'an empty sample',
      run: () => RangePartitioner.fromSample([], 3),
      message: /^sample: is empty/,
    },
    {
      name: 'zero partitions',
      run: () => RangePartitioner.fromSample([Buffer.from('a')], 0),
      message: /^numPartitions: /,
    },
  ])('rejects $name', ({ run, message }) => {
    expect(run).toThrow(SluiceError);
    expect(run).toThrow(message);
  });

  it('copies its bounds (a caller reusing the buffer cannot move them)', () => {
    const bound = Buffer.from('m');
    const r = new RangePartitioner([bound]);
    bound[0] = 'a'.charCodeAt(0);
    expect(r.partition(Buffer.from('c'))).toBe(0);
  });
});
