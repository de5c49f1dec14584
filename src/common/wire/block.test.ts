import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors.js';
import {
  BLOCK_HEADER_BYTES,
  BlockCodec,
  type BlockMeta,
  encodeBlockHeader,
  iterateBlocks,
  parseBlockHeader,
  readBlock,
  validateBlockParts,
  validateBlocks,
  verifyBlock,
  writeBlock,
  encodeBlockHeaderInto,
} from './block.js';
import { CorruptBlockError } from './wire-error.js';

const bytes = (hex: string): Buffer => Buffer.from(hex.replace(/\s+/g, ''), 'hex');
const META: BlockMeta = {
  mapId: 1,
  attemptId: 2,
  batchId: 3,
  rawLength: 9,
  codec: BlockCodec.NONE,
};
// 'SLB1' | mapId 1 | attemptId 2 | batchId 3 | rawLength 9 | storedLength 9 | codec 0 |
// reserved | crc32 over header bytes 4..27 then '123456789' = 0x1186f58f (computed with
// Python's zlib.crc32, independently of this code) | '123456789'
const BLOCK_HEX = `534c4231 00000001 00000002 00000003 00000009 00000009 00 000000 1186f58f
  313233343536373839`;

function corrupt(run: () => unknown): CorruptBlockError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(CorruptBlockError);
    return err as CorruptBlockError;
  }
  throw new Error('expected a CorruptBlockError');
}

function blockOf(batchId: number, text: string): Buffer {
  const stored = Buffer.from(text);
  return Buffer.concat(writeBlock({ ...META, batchId, rawLength: stored.length }, stored));
}

describe('block format', () => {
  it('writes golden bytes and passes the stored bytes through', () => {
    const stored = Buffer.from('123456789');
    const parts = writeBlock(META, stored);
    expect(parts[1]).toBe(stored);
    expect(Buffer.concat(parts)).toEqual(bytes(BLOCK_HEX));
    expect(BLOCK_HEADER_BYTES).toBe(32);
  });

  it('encodes an lz4 header with explicit fields as golden bytes', () => {
    const header = {
      mapId: 10,
      attemptId: 0,
      batchId: 0xffff_ffff,
      rawLength: 1000,
      storedLength: 20,
      codec: BlockCodec.LZ4,
      crc32: 0xdeadbeef,
    };
    const hex = '534c4231 0000000a 00000000 ffffffff 000003e8 00000014 01 000000 deadbeef';
    expect(encodeBlockHeader(header)).toEqual(bytes(hex));
    expect(parseBlockHeader(bytes(hex))).toEqual(header);
  });

  it('reads back what it wrote, at any offset', () => {
    const buf = Buffer.concat([Buffer.from('pad'), bytes(BLOCK_HEX)]);
    const block = readBlock(buf, 3, 100);
    expect(block.offset).toBe(103);
    expect(block.header).toEqual({ ...META, storedLength: 9, crc32: 0x1186f58f });
    expect(block.stored.toString()).toBe('123456789');
    expect(block.stored.buffer).toBe(buf.buffer);
  });

  it('walks concatenated blocks and totals them', () => {
    const buf = Buffer.concat([blockOf(0, 'alpha'), blockOf(1, ''), blockOf(2, 'gamma ray')]);
    const blocks = [...iterateBlocks(buf)];
    expect(blocks.map((b) => [b.offset, b.header.batchId, b.stored.toString()])).toEqual([
      [0, 0, 'alpha'],
      [37, 1, ''],
      [69, 2, 'gamma ray'],
    ]);
    // crc32 is the CRC of the whole buffer, built from the per-block CRCs (checked against zlib).
    expect(validateBlocks(buf)).toEqual({
      blocks: 3,
      rawBytes: 14,
      storedBytes: 14,
      crc32: zlibCrc32(buf),
    });
    expect(validateBlocks(Buffer.alloc(0))).toEqual({
      blocks: 0,
      rawBytes: 0,
      storedBytes: 0,
      crc32: 0,
    });
  });

  it('validates blocks held in parts split anywhere, as validateBlocks does on one buffer', () => {
    const buf = Buffer.concat([blockOf(0, 'alpha'), blockOf(1, ''), blockOf(2, 'gamma ray')]);
    const whole = validateBlocks(buf);
    const splits = (b: Buffer, at: number[]) =>
      [0, ...at, b.length].slice(1).map((end, i, ends) => b.subarray(i ? ends[i - 1] : 0, end));
    for (let i = 0; i <= buf.length; i++) {
      for (const j of [i, Math.min(buf.length, i + 1), Math.min(buf.length, i + 33)]) {
        expect(validateBlockParts(splits(buf, [i, j]), 7)).toEqual(whole);
      }
    }
    // A flipped stored byte in a block that straddles two parts: same error, same offset.
    const bad = Buffer.from(buf);
    bad[69 + BLOCK_HEADER_BYTES + 4]! ^= 0x01;
    for (const at of [40, 69 + 10, 69 + BLOCK_HEADER_BYTES + 2]) {
      const err = corrupt(() => validateBlockParts(splits(bad, [at]), 100));
      expect(err.reason).toBe('CRC_MISMATCH');
      expect(err.offset).toBe(169);
    }
    const truncated = corrupt(() => validateBlockParts(splits(buf.subarray(0, 80), [50])));
    expect(truncated.reason).toBe('TRUNCATED');
    expect(truncated.offset).toBe(69);
  });

  it('yields the good blocks, then throws at the first bad one with its offset', () => {
    const good = blockOf(0, 'alpha');
    const bad = blockOf(1, 'beta');
    bad[BLOCK_HEADER_BYTES + 1]! ^= 0x40;
    const buf = Buffer.concat([good, bad, blockOf(2, 'never reached')]);
    const seen: string[] = [];
    const err = corrupt(() => {
      for (const b of iterateBlocks(buf, 1000)) seen.push(b.stored.toString());
    });
    expect(seen).toEqual(['alpha']);
    expect(err.reason).toBe('CRC_MISMATCH');
    expect(err.status).toBe('CRC_MISMATCH');
    expect(err.retriable).toBe(true);
    expect(err.offset).toBe(1000 + good.length);
  });

  it('reports bad magic, unknown codec, inconsistent lengths and truncation as malformed', () => {
    const block = bytes(BLOCK_HEX);
    const cases: [(b: Buffer) => Buffer, string][] = [
      [(b) => (b.writeUInt32BE(0x534c4232, 0), b), 'BAD_MAGIC'],
      [(b) => (b.writeUInt8(2, 24), b), 'BAD_CODEC'],
      [(b) => (b.writeUInt32BE(8, 16), b), 'BAD_LENGTH'],
      // LZ4 claiming more than 255x its stored bytes: refused before any allocation.
      [
        (b) => (b.writeUInt8(1, 24), b.writeUInt32BE(b.readUInt32BE(20) * 255 + 1, 16), b),
        'BAD_LENGTH',
      ],
      [(b) => b.subarray(0, BLOCK_HEADER_BYTES - 1), 'TRUNCATED'],
      [(b) => b.subarray(0, b.length - 1), 'TRUNCATED'],
      [(b) => Buffer.concat([b, Buffer.alloc(5)]), 'TRUNCATED'],
    ];
    for (const [mutate, reason] of cases) {
      const err = corrupt(() => validateBlocks(mutate(Buffer.from(block))));
      expect(err.reason).toBe(reason);
      expect(err.status).toBe('MALFORMED_FRAME');
    }
  });

  it('never returns wrong stored bytes after any single-bit flip', () => {
    const text = 'some stored bytes';
    const block = blockOf(0, text);
    const undetected = new Set<number>();
    for (let bit = 0; bit < block.length * 8; bit++) {
      const copy = Buffer.from(block);
      copy[bit >> 3]! ^= 1 << (bit & 7);
      try {
        const blocks = [...iterateBlocks(copy)];
        expect(blocks.map((b) => b.stored.toString())).toEqual([text]);
        undetected.add(bit >> 3);
      } catch (err) {
        expect(err).toBeInstanceOf(CorruptBlockError);
      }
    }
    // The CRC covers the header fields too (block.ts), so no single-bit flip anywhere in the
    // block goes unnoticed: not in the stored bytes, and not in mapId/attemptId/batchId,
    // whose damage would make readers keep or drop the wrong blocks.
    expect([...undetected]).toEqual([]);
  });

  it('verifyBlock checks the stored length and the CRC', () => {
    const header = parseBlockHeader(bytes(BLOCK_HEX));
    expect(() => verifyBlock(header, Buffer.from('123456789'))).not.toThrow();
    expect(corrupt(() => verifyBlock(header, Buffer.from('12345678'))).reason).toBe('TRUNCATED');
    expect(corrupt(() => verifyBlock(header, Buffer.from('123456780'))).reason).toBe(
      'CRC_MISMATCH',
    );
  });

  it('refuses to write headers the format cannot carry', () => {
    expect(() => writeBlock({ ...META, rawLength: 3 }, Buffer.from('12'))).toThrow(
      InvalidArgumentError,
    );
    expect(() => writeBlock({ ...META, mapId: -1 }, Buffer.from('123456789'))).toThrow(
      InvalidArgumentError,
    );
    expect(() => writeBlock({ ...META, codec: 7 as 0 }, Buffer.from('123456789'))).toThrow(
      InvalidArgumentError,
    );
  });
});

describe('encodeBlockHeaderInto', () => {
  const header = {
    mapId: 7,
    attemptId: 1,
    batchId: 0xffff_ffff,
    rawLength: 100,
    storedLength: 60,
    codec: BlockCodec.LZ4,
    crc32: 0x1234_5678,
  } as const;

  it('writes the bytes encodeBlockHeader returns, at the offset, and nothing around them', () => {
    const out = Buffer.alloc(BLOCK_HEADER_BYTES + 10, 0xaa);
    encodeBlockHeaderInto(header, out, 5);
    expect(out.subarray(5, 5 + BLOCK_HEADER_BYTES)).toEqual(encodeBlockHeader(header));
    expect([...out.subarray(0, 5), ...out.subarray(5 + BLOCK_HEADER_BYTES)]).toEqual(
      Array(10).fill(0xaa),
    );
    // The reserved bytes are zeroed even over old contents.
    expect([...out.subarray(5 + 25, 5 + 28)]).toEqual([0, 0, 0]);
  });

  it('refuses a header that does not fit, and bad fields, as encodeBlockHeader does', () => {
    expect(() => encodeBlockHeaderInto(header, Buffer.alloc(40), 9)).toThrow(RangeError);
    expect(() => encodeBlockHeaderInto({ ...header, mapId: -1 }, Buffer.alloc(32), 0)).toThrow(
      InvalidArgumentError,
    );
  });
});
