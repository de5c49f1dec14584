// crc32Combine against zlib's crc32 of the concatenation, for lengths from 0 to past 2^32.
import { randomBytes } from 'node:crypto';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32, crc32Combine } from './crc.js';

describe('crc32Combine', () => {
  it.each([0, 1, 3, 4, 7, 8, 31, 32, 255, 4096, 65_537, 1_000_003])(
    'matches crc32(A||B) for |B| = %i',
    (lengthB) => {
      for (const lengthA of [0, 1, 100, 5000]) {
        const a = randomBytes(lengthA);
        const b = randomBytes(lengthB);
        expect(crc32Combine(crc32(a), crc32(b), b.length)).toBe(zlib.crc32(Buffer.concat([a, b])));
      }
    },
  );

  it('folds many parts into the CRC of the whole', () => {
    const parts = Array.from({ length: 50 }, (_, i) => randomBytes((i * 977) % 3000));
    let running = 0;
    for (const p of parts) running = crc32Combine(running, crc32(p), p.length);
    expect(running).toBe(zlib.crc32(Buffer.concat(parts)));
  });

  it('handles lengths past 2^32 without losing bits', () => {
    // crc of n zero bytes by doubling (combine(Z_n, Z_n, n) = Z_2n), checked against zlib up
    // to 1 MiB, then used for 2^31 and 2^32 + 5 without allocating them.
    const zeros = new Map<number, number>([[1, crc32(Buffer.alloc(1))]]);
    for (let n = 1; n < 2 ** 31; n *= 2)
      zeros.set(2 * n, crc32Combine(zeros.get(n)!, zeros.get(n)!, n));
    for (const n of [2, 1024, 2 ** 20]) expect(zeros.get(n)).toBe(crc32(Buffer.alloc(n)));
    const half = 2 ** 31;
    const five = crc32(Buffer.alloc(5));
    const zBig = crc32Combine(crc32Combine(zeros.get(half)!, zeros.get(half)!, half), five, 5);
    const a = crc32(randomBytes(64));
    const once = crc32Combine(a, zBig, 2 ** 32 + 5);
    const stepwise = crc32Combine(
      crc32Combine(crc32Combine(a, zeros.get(half)!, half), zeros.get(half)!, half),
      five,
      5,
    );
    expect(once).toBe(stepwise);
  });
});
