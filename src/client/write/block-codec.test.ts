import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BlockCodec, CorruptBlockError, readBlock } from '../../common/wire/index.js';
import { encodeRecords } from '../records.js';
import { BlockEncoder, decodeBlockContents } from './block-codec.js';

const META = { mapId: 7, attemptId: 2, batchId: 41 };
const compressible = (n: number) => Buffer.alloc(n, 'shuffle data shuffle data ');

/** The block as it lies in a worker's file: header then stored bytes. */
const onDisk = (b: { header: Buffer; stored: Buffer }) => Buffer.concat([b.header, b.stored]);

describe('BlockEncoder', () => {
  it.each([
    { name: 'compressible records', raw: encodeRecords([compressible(10_000), Buffer.alloc(0)]) },
    { name: '1 MiB of repeated bytes', raw: compressible(1024 * 1024) },
    { name: 'a few bytes', raw: Buffer.from('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa') },
  ])('lz4 round trip: $name', ({ raw }) => {
    const b = new BlockEncoder('lz4').encode(META, raw);
    expect(b.aliased).toBe(false);
    const block = readBlock(onDisk(b)); // verifies structure and CRC
    expect(block.header).toMatchObject({
      ...META,
      codec: BlockCodec.LZ4,
      rawLength: raw.length,
      storedLength: b.stored.length,
      crc32: b.crc32,
    });
    expect(b.stored.length).toBeLessThan(raw.length);
    expect(decodeBlockContents(block.header, block.stored).equals(raw)).toBe(true);
  });

  it('the stored bytes of a compressed block survive the next encode (scratch is copied)', () => {
    const enc = new BlockEncoder('lz4');
    const first = enc.encode(META, compressible(5000));
    const copy = Buffer.from(first.stored);
    enc.encode({ ...META, batchId: 42 }, Buffer.alloc(5000, 'x'));
    expect(first.stored.equals(copy)).toBe(true);
  });

  it.each([
    { name: 'random bytes under lz4', compression: 'lz4' as const, raw: randomBytes(64 * 1024) },
    { name: 'one random byte under lz4', compression: 'lz4' as const, raw: randomBytes(1) },
    {
      name: 'compressible bytes under none',
      compression: 'none' as const,
      raw: compressible(4096),
    },
    { name: 'an empty block under lz4', compression: 'lz4' as const, raw: Buffer.alloc(0) },
  ])('stored as is with codec NONE and aliased: $name', ({ compression, raw }) => {
    const b = new BlockEncoder(compression).encode(META, raw);
    expect(b.aliased).toBe(true);
    expect(b.stored).toBe(raw);
    expect(b.header.length + b.stored.length).toBe(raw.length + 32);
    const block = readBlock(onDisk(b));
    expect(block.header.codec).toBe(BlockCodec.NONE);
    expect(block.header.rawLength).toBe(raw.length);
    expect(decodeBlockContents(block.header, block.stored).equals(raw)).toBe(true);
  });

  it.each([
    { name: 'a stored byte', at: (len: number) => len - 1 },
    { name: 'the batchId in the header', at: () => 15 },
    { name: 'the header CRC', at: () => 30 },
  ])('readBlock rejects the block when $name is flipped', ({ at }) => {
    const bytes = onDisk(new BlockEncoder('lz4').encode(META, compressible(3000)));
    bytes[at(bytes.length)]! ^= 0x01;
    expect(() => readBlock(bytes)).toThrow(CorruptBlockError);
    expect(() => readBlock(bytes)).toThrow(/CRC/);
  });
});

describe('BlockEncoder.encodeInto', () => {
  it.each([
    {
      name: 'compressible bytes under lz4',
      compression: 'lz4' as const,
      raw: compressible(50_000),
    },
    { name: 'random bytes under lz4', compression: 'lz4' as const, raw: randomBytes(10_000) },
    { name: 'random bytes under none', compression: 'none' as const, raw: randomBytes(10_000) },
    { name: 'an empty block under lz4', compression: 'lz4' as const, raw: Buffer.alloc(0) },
    { name: 'an empty block under none', compression: 'none' as const, raw: Buffer.alloc(0) },
  ])(
    'writes the same block as encode(), at an offset, within bound: $name',
    ({ compression, raw }) => {
      const enc = new BlockEncoder(compression);
      const at = 13;
      const out = Buffer.alloc(at + enc.bound(raw.length) + 7, 0xee);
      const b = enc.encodeInto(META, raw, out, at);
      const length = b.header.length + b.stored.length;
      expect(length).toBeLessThanOrEqual(enc.bound(raw.length));
      // Views of out, back to back where asked; the bytes around them untouched.
      expect(b.header.buffer).toBe(out.buffer);
      expect(b.stored.byteOffset).toBe(b.header.byteOffset + 32);
      expect(out.subarray(0, at).every((x) => x === 0xee)).toBe(true);
      // Up to bound() bytes are scratch (a failed lz4 attempt), nothing past them.
      expect(out.subarray(at + enc.bound(raw.length)).every((x) => x === 0xee)).toBe(true);
      const bytes = out.subarray(at, at + length);
      expect(bytes.equals(onDisk(enc.encode(META, raw)))).toBe(true);
      const block = readBlock(bytes); // verifies structure and CRC
      expect(block.header.crc32).toBe(b.crc32);
      expect(decodeBlockContents(block.header, block.stored).equals(raw)).toBe(true);
    },
  );

  it('the block no longer depends on raw once written (raw memory can be reused)', () => {
    const enc = new BlockEncoder('none');
    const raw = Buffer.from(randomBytes(4096));
    const expected = Buffer.from(raw);
    const out = Buffer.alloc(enc.bound(raw.length));
    const b = enc.encodeInto(META, raw, out, 0);
    raw.fill(0);
    expect(b.stored.equals(expected)).toBe(true);
    expect(() => readBlock(out)).not.toThrow();
  });
});

describe('decodeBlockContents', () => {
  it('rejects lz4 data that decodes to a different length than the header says', () => {
    const b = new BlockEncoder('lz4').encode(META, compressible(3000));
    const header = readBlock(onDisk(b)).header;
    expect(() => decodeBlockContents({ ...header, rawLength: 2999 }, b.stored)).toThrow(
      /^block: lz4 data decodes to/,
    );
  });
});
