// crc32Combine against zlib's crc32 of the concatenation, for lengths from 0 to past 2^32.
import { randomBytes } from 'node:crypto';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { loadAddon } from '../native.js';
import { crc32, crc32Combine, crc32Implementation } from './crc.js';

describe('crc32', () => {
  it('is zlib.crc32, over slices at any offset and length, continuing from any value', () => {
    const data = randomBytes(300_000);
    for (let i = 0; i < 2000; i++) {
      const start = (i * 7919) % 5000;
      const length = i < 100 ? i : (i * 104_729) % 290_000;
      const view = data.subarray(start, start + length);
      const previous = (i * 2_654_435_761) >>> 0;
      expect(crc32(view, previous)).toBe(zlib.crc32(view, previous));
    }
    expect(crc32(new Uint8Array(data.buffer, data.byteOffset + 3, 1000))).toBe(
      zlib.crc32(data.subarray(3, 1003)),
    );
  });

  it('runs through ISA-L where the system has it, and always in CI', () => {
    const addon = loadAddon().addon;
    if (process.env.CI === 'true') expect(crc32Implementation).toBe('isa-l');
    expect(crc32Implementation).toBe(addon?.crc32 ? 'isa-l' : 'zlib');
    if (!addon?.crc32) return;
    // The addon refuses what is not bytes rather than reading it as memory.
    expect(() => addon.crc32!(new Uint16Array(4) as unknown as Uint8Array, 0)).toThrow(TypeError);
    expect(() => addon.crc32!('abc' as unknown as Uint8Array, 0)).toThrow(TypeError);
    expect(addon.crc32(Buffer.alloc(0), 0x1234_5678)).toBe(0x1234_5678);
  });
});

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

  it('gives the right answer from its cache of shifts, across slot collisions', () => {
    // These lengths all fall in one slot of the cache ((n ^ n >>> 10) & 1023 = 18), so each
    // evicts the one before; repeated, they hit.
    const lengths = [10_264, 10_264, 18, 1043, 2064, 10_264 + 2 ** 20, 1043, 10_264];
    const a = randomBytes(100);
    for (const n of lengths) {
      const b = randomBytes(n);
      expect(crc32Combine(crc32(a), crc32(b), n)).toBe(zlib.crc32(Buffer.concat([a, b])));
    }
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
