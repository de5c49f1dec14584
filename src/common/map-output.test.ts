import { describe, expect, it } from 'vitest';
import { decodeMapOutputIndex, encodeMapOutputIndex, mapOutputBase } from './map-output.js';

describe('map output index', () => {
  it('round-trips offsets and pins the layout', () => {
    const buf = encodeMapOutputIndex([0, 10, 10, 35]);
    expect(buf.subarray(0, 20).toString('hex')).toBe(
      '534c4d49' + '00000001' + '00000003' + '0000000000000023',
    );
    expect(buf.length).toBe(20 + 4 * 8 + 4);
    expect(decodeMapOutputIndex(buf)).toEqual([0, 10, 10, 35]);
  });

  it.each([
    ['a flipped offset byte', (b: Buffer) => void (b[30]! ^= 1), /CRC/],
    ['a wrong magic', (b: Buffer) => void b.writeUInt32BE(1, 0), /magic/],
    ['a truncated file', (b: Buffer) => b.subarray(0, 30), /truncated|need/],
  ])('refuses %s', (_name, damage, message) => {
    const buf = encodeMapOutputIndex([0, 5, 9]);
    const damaged = damage(buf) ?? buf;
    expect(() => decodeMapOutputIndex(damaged)).toThrow(message);
  });

  it('refuses decreasing offsets when encoding', () => {
    expect(() => encodeMapOutputIndex([0, 5, 3])).toThrow(/offsets\[2\]/);
  });

  it('names files by ids under the directory', () => {
    expect(mapOutputBase('/ess', { appId: 'a', shuffleId: 2, mapId: 3, attemptId: 1 })).toBe(
      '/ess/a/2/3-1',
    );
  });
});
