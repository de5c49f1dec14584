// The `.index` file of a committed partition (docs/architecture.md#on-disk-layout-and-index-format): golden bytes, round trips,
// every corruption refused with IndexFormatError, and the write in place.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import {
  chunkLengths,
  decodeIndex,
  encodeIndex,
  IndexFormatError,
  readIndexFile,
  writeIndexFile,
  type PartitionIndex,
} from './index-file.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
/** Hex from an annotated dump: the first word of each line is hex, the rest a comment. */
const dump = (s: string) =>
  hex(
    s
      .trim()
      .split('\n')
      .map((line) => line.trim().split(/\s+/)[0])
      .join(''),
  );

/** Recomputes the trailing checksum so a test can forge a well-checksummed bad index. */
function resealed(buf: Buffer): Buffer {
  const out = Buffer.from(buf);
  out.writeUInt32BE(crc32(out.subarray(0, out.length - 4)), out.length - 4);
  return out;
}

const SMALL: PartitionIndex = { fileLength: 10_000, fileCrc32: 0xdeadbeef, chunkStarts: [0, 4096] };
// Written by hand from the grammar at the top of index-file.ts.
const SMALL_BYTES = dump(`
  534c4931                 magic 'SLI1'
  00000001                 version 1
  0000000000002710         fileLength 10000
  deadbeef                 fileCrc32
  00000002                 chunkCount 2
  0000000000000000         chunkStart[0] = 0
  0000000000001000         chunkStart[1] = 4096
  38f43530                 crc32 of the 40 bytes above
`);

describe('index encoding', () => {
  it('encodes a small index to the golden bytes and decodes them back', () => {
    expect(SMALL_BYTES.length).toBe(44);
    expect(encodeIndex(SMALL).toString('hex')).toBe(SMALL_BYTES.toString('hex'));
    expect(decodeIndex(SMALL_BYTES)).toEqual(SMALL);
    expect(chunkLengths(decodeIndex(SMALL_BYTES))).toEqual([4096, 10_000 - 4096]);
  });

  it('encodes the index of an empty file (no chunks) to the golden bytes', () => {
    const empty = { fileLength: 0, fileCrc32: 0, chunkStarts: [] };
    const bytes = hex('534c4931 00000001 0000000000000000 00000000 00000000 073203eb');
    expect(encodeIndex(empty).toString('hex')).toBe(bytes.toString('hex'));
    expect(decodeIndex(bytes)).toEqual(empty);
  });

  it.each<[string, PartitionIndex]>([
    ['one chunk', { fileLength: 1, fileCrc32: 1, chunkStarts: [0] }],
    ['crc with the top bit set', { fileLength: 77, fileCrc32: 0xffffffff, chunkStarts: [0, 76] }],
    [
      'many chunks',
      {
        fileLength: 1000 * 8 * 1024 ** 2 + 5,
        fileCrc32: 0x12345678,
        chunkStarts: Array.from({ length: 1000 }, (_, i) => i * 8 * 1024 ** 2 + (i > 0 ? 3 : 0)),
      },
    ],
    [
      'a file over 4 GiB (u64 offsets)',
      { fileLength: 2 ** 33 + 10, fileCrc32: 42, chunkStarts: [0, 2 ** 32 + 7, 2 ** 33] },
    ],
  ])('round-trips %s', (_name, index) => {
    const bytes = encodeIndex(index);
    expect(bytes.length).toBe(24 + 8 * index.chunkStarts.length + 4);
    expect(decodeIndex(bytes)).toEqual(index);
    expect(encodeIndex(decodeIndex(bytes)).equals(bytes)).toBe(true);
  });
});

describe('index corruption', () => {
  const good = encodeIndex({ fileLength: 20_000, fileCrc32: 7, chunkStarts: [0, 8192, 16_384] });
  const forge = (index: PartitionIndex) => encodeIndex(index); // encodeIndex does not validate

  it.each<[string, Buffer, RegExp]>([
    ['an empty buffer', Buffer.alloc(0), /shorter than its header/],
    ['a buffer cut inside the header', good.subarray(0, 27), /shorter than its header/],
    ['a buffer cut inside the chunk table', good.subarray(0, good.length - 5), /does not match/],
    ['a buffer with a trailing byte', Buffer.concat([good, Buffer.alloc(1)]), /does not match/],
    [
      'a chunk count far larger than the buffer',
      resealed(Buffer.concat([good.subarray(0, 20), hex('ffffffff'), good.subarray(24)])),
      /does not match/,
    ],
    ['a wrong magic', resealed(Buffer.concat([hex('534c4932'), good.subarray(4)])), /magic/],
    [
      'an unsupported version',
      resealed(Buffer.concat([good.subarray(0, 4), hex('00000002'), good.subarray(8)])),
      /version 2/,
    ],
    [
      'a flipped bit in a chunk start',
      (() => {
        const b = Buffer.from(good);
        b[24 + 8 + 7]! ^= 0x01;
        return b;
      })(),
      /checksum/,
    ],
    [
      'a flipped bit in the file length',
      (() => {
        const b = Buffer.from(good);
        b[15]! ^= 0x80;
        return b;
      })(),
      /checksum/,
    ],
    [
      'a flipped bit in the checksum itself',
      (() => {
        const b = Buffer.from(good);
        b[b.length - 1]! ^= 0x10;
        return b;
      })(),
      /checksum/,
    ],
    [
      'chunk starts out of order',
      forge({ fileLength: 20_000, fileCrc32: 7, chunkStarts: [0, 16_384, 8192] }),
      /chunk 2/,
    ],
    [
      'two chunks starting at the same offset',
      forge({ fileLength: 20_000, fileCrc32: 7, chunkStarts: [0, 8192, 8192] }),
      /chunk 2/,
    ],
    [
      'a chunk starting at the end of the file',
      forge({ fileLength: 20_000, fileCrc32: 7, chunkStarts: [0, 20_000] }),
      /chunk 1/,
    ],
    [
      'a chunk starting past the file',
      forge({ fileLength: 20_000, fileCrc32: 7, chunkStarts: [0, 30_000] }),
      /chunk 1/,
    ],
    [
      'a first chunk not at 0',
      forge({ fileLength: 20_000, fileCrc32: 7, chunkStarts: [100, 8192] }),
      /chunk 0/,
    ],
    [
      'an empty file with a chunk',
      forge({ fileLength: 0, fileCrc32: 0, chunkStarts: [0] }),
      /chunk 0/,
    ],
    [
      'a non-empty file without chunks',
      forge({ fileLength: 20_000, fileCrc32: 7, chunkStarts: [] }),
      /do not cover/,
    ],
  ])('refuses %s with IndexFormatError', (_name, bytes, message) => {
    let err: unknown;
    try {
      decodeIndex(bytes);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IndexFormatError);
    expect((err as Error).name).toBe('IndexFormatError');
    expect((err as Error).message).toMatch(message);
  });
});

describe('writeIndexFile', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const tempDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'sluice-index-'));
    dirs.push(d);
    return d;
  };

  it.each([true, false])(
    'writes a readable index and leaves no temp file (fsync %s)',
    async (fsync) => {
      const dir = tempDir();
      const path = join(dir, '3-0.index');
      await writeIndexFile(path, SMALL, fsync);
      expect(readdirSync(dir)).toEqual(['3-0.index']);
      expect(readFileSync(path).equals(SMALL_BYTES)).toBe(true);
      expect(await readIndexFile(path)).toEqual(SMALL);
    },
  );

  it('replaces a longer index left by a crashed commit whole (no tail of it remains)', async () => {
    const dir = tempDir();
    const path = join(dir, '0-0.index');
    const big: PartitionIndex = {
      fileLength: 64 * 4096,
      fileCrc32: 1,
      chunkStarts: Array.from({ length: 64 }, (_, i) => i * 4096),
    };
    await writeIndexFile(path, big, false);
    await writeIndexFile(path, SMALL, true);
    expect(readFileSync(path).equals(SMALL_BYTES)).toBe(true);
    expect(await readIndexFile(path)).toEqual(SMALL);
    expect(readdirSync(dir)).toEqual(['0-0.index']);
  });

  it('a torn index (a crash in the middle of its write) fails its checksum', async () => {
    const dir = tempDir();
    const path = join(dir, '1-2.index');
    writeFileSync(path, SMALL_BYTES.subarray(0, SMALL_BYTES.length - 3));
    await expect(readIndexFile(path)).rejects.toBeInstanceOf(IndexFormatError);
  });

  it('fails with the file system error when the path cannot be written', async () => {
    const dir = tempDir();
    const path = join(dir, '5-0.index');
    mkdirSync(path); // a directory in the way: open(2) refuses with EISDIR
    await expect(writeIndexFile(path, SMALL, true)).rejects.toMatchObject({ code: 'EISDIR' });
  });

  it('refuses a corrupt index file on read with IndexFormatError', async () => {
    const dir = tempDir();
    const path = join(dir, '0-0.index');
    const bytes = Buffer.from(SMALL_BYTES);
    bytes[30]! ^= 0xff;
    writeFileSync(path, bytes);
    await expect(readIndexFile(path)).rejects.toBeInstanceOf(IndexFormatError);
  });
});
