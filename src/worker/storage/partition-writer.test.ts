// PartitionWriter on a real LocalDisk in a temp dir (docs/architecture.md#flush-and-commit): slices of every
// awkward size, flushed in every mode, must land on disk byte for byte, with the index the
// commit writes (length, CRC, chunk starts on slice boundaries), on both the native addon and
// the pure-JS fallback, with O_DIRECT and buffered writes, and with all memory returned.
// finish() commits the file through its storage (index written); discard() removes a file
// that was not committed and leaves one that was.
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { loadNative, native, type NativeOps } from '../../common/native.js';
import type { WireStatusName } from '../../common/status-codes.js';
import { MemoryManager } from '../memory/memory-manager.js';
import { decodeIndex, encodeIndex, readIndexFile } from './index-file.js';
import { dataPath, indexPath, type PartitionFileKey } from './layout.js';
import { ALIGNMENT, LocalDisk } from './local-disk.js';
import type { AppendResult } from './partition-store.js';
import { PartitionWriter } from './partition-writer.js';
import { SMALL_PIECE_BYTES, WriteBuffers } from './write-buffers.js';
import { storeFixture } from './store-fixture.js';

const BUFFER_BYTES = 4 * ALIGNMENT; // 16 KiB: several writes per file, one slice larger
const CHUNK_BYTES = 20_000;
const KEY: PartitionFileKey = { appId: 'app-w', shuffleId: 1, partition: 7, epoch: 0 };

/**
 * Sizes that are not multiples of 4096, tiny ones, exact multiples, and more than a buffer.
 * No empty slice: the wire refuses them (messages.ts sliceProblem), see the test below.
 */
const SIZES = [
  1, 7, 4095, 4096, 4097, 100, 16_384, 50_000, 3, 12_345, 8192, 65_553, 2, 30_000, 4093, 1, 20_000,
  16_383, 16_385, 5, 9000,
];
/** The flush after each append; undefined: none (data waits for a later flush). */
const FLUSHES: ('full' | 'aligned' | undefined)[] = [
  'full',
  undefined,
  'aligned',
  'full',
  'aligned',
  undefined,
];

const NATIVES: [string, () => NativeOps][] = [
  ['native addon (native())', () => native()],
  ['pure-JS fallback', () => loadNative({ disable: true })],
];

/** The fault-injection file (LocalDiskOptions.faultFile): EIO while it exists. */
const FAULT_FILE = 'FAIL_IO';

/** The push handler's answer to an append (statusOf in push-handler.ts), worker.epochRotateBytes 1 GiB. */
function statusOf(result: AppendResult): WireStatusName {
  if (typeof result !== 'string') return result.length >= 1024 ** 3 ? 'SOFT_SPLIT' : 'OK';
  const statuses = {
    deleted: 'UNKNOWN_SHUFFLE',
    lost: 'HARD_SPLIT',
    committing: 'STAGE_ENDED',
    'no-storage': 'FAILED',
    'write-failed': 'FAILED',
  } as const;
  return statuses[result];
}

describe('PartitionWriter', () => {
  const dirs: string[] = [];
  const writers: PartitionWriter[] = [];
  afterEach(async () => {
    // Writes still in flight after a failed assertion would recreate files in removed dirs.
    await Promise.all(writers.splice(0).map((w) => w.discard()));
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const tempDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'sluice-pw-'));
    dirs.push(d);
    return d;
  };

  function setup(
    ops: NativeOps,
    directIo: boolean,
    extra: {
      throttleBytesPerSec?: number;
      bufferBytes?: number;
      /** The data file is a symlink to /dev/full: every write fails with ENOSPC. */
      devFull?: boolean;
    } = {},
  ) {
    const dir = tempDir();
    const written: number[] = [];
    const writeErrors: Error[] = [];
    const disk = new LocalDisk({
      dir,
      writesInFlight: 3,
      directIo,
      bufferBytes: extra.bufferBytes ?? BUFFER_BYTES,
      native: ops,
      throttleBytesPerSec: extra.throttleBytesPerSec,
      faultFile: FAULT_FILE,
      onWrite: (bytes) => written.push(bytes),
    });
    if (extra.devFull) {
      // LocalDisk opens <dir>/<app>/<shuffle>/<partition>-<epoch>.data with O_CREAT|O_TRUNC,
      // which follows the symlink (O_DIRECT refused on the device: buffered instead).
      mkdirSync(dirname(dataPath(dir, KEY)), { recursive: true });
      symlinkSync('/dev/full', dataPath(dir, KEY));
    }
    const memory = new MemoryManager(64 * 1024 ** 2);
    const writer = new PartitionWriter({
      key: KEY,
      storage: disk,
      memory,
      chunkBytes: CHUNK_BYTES,
      onWriteError: (err) => writeErrors.push(err),
    });
    writers.push(writer);
    return { dir, disk, memory, writer, written, writeErrors };
  }

  /** Appends every slice with the FLUSHES pattern, checking what each flush leaves behind. */
  function appendAll(
    writer: PartitionWriter,
    memory: MemoryManager,
    slices: readonly Buffer[],
  ): void {
    slices.forEach((slice, i) => {
      writer.append(slice);
      const mode = FLUSHES[i % FLUSHES.length];
      if (mode) writer.flush(mode);
      // What is buffered is accounted (in-flight write buffers come on top of it).
      expect(memory.usedBytes).toBeGreaterThanOrEqual(writer.bufferedBytes);
      if (mode === 'full') expect(writer.bufferedBytes).toBeLessThan(BUFFER_BYTES);
      if (mode === 'aligned') expect(writer.bufferedBytes).toBeLessThan(ALIGNMENT);
    });
  }

  /** Commits the file: it holds the slices byte for byte, its CRC too, and memory is back. */
  async function finishAndCheck(
    writer: PartitionWriter,
    memory: MemoryManager,
    dir: string,
    slices: readonly Buffer[],
  ): Promise<void> {
    const all = Buffer.concat(slices);
    const index = await writer.finish(false);
    expect(readFileSync(dataPath(dir, KEY)).equals(all)).toBe(true);
    expect(index.fileCrc32).toBe(crc32(all));
    // The commit wrote the index next to the data file.
    expect(await readIndexFile(indexPath(dir, KEY))).toEqual(index);
    expect(memory.usedBytes).toBe(0);
  }

  /**
   * The chunk starts the writer must produce: on slice boundaries; no chunk past chunkBytes
   * unless it is one slice that alone is larger; and no chunk that could have taken the next
   * slice without passing chunkBytes (chunks are as full as the slices allow).
   */
  function checkChunks(chunkStarts: readonly number[], slices: readonly Buffer[], total: number) {
    const boundaries = new Set<number>();
    const sliceAt = new Map<number, number>();
    let at = 0;
    for (const s of slices.filter((x) => x.length > 0)) {
      boundaries.add(at);
      sliceAt.set(at, s.length);
      at += s.length;
    }
    expect(chunkStarts[0]).toBe(0);
    for (const start of chunkStarts) expect(boundaries.has(start), `start ${start}`).toBe(true);
    const ends = [...chunkStarts.slice(1), total];
    chunkStarts.forEach((start, i) => {
      const length = ends[i]! - start;
      if (length > CHUNK_BYTES) expect(sliceAt.get(start)).toBe(length);
      if (i < chunkStarts.length - 1)
        expect(length + sliceAt.get(ends[i]!)!).toBeGreaterThan(CHUNK_BYTES);
      expect(length).toBeGreaterThan(0);
    });
  }

  // Regression: a small slice held as a view kept its whole push frame alive while only the
  // slice was accounted (300 pushes of 1 MiB + 132 B held 301 MiB, accounted 0.05 MiB). And
  // received frames are pooled slabs, reused once the push is handled: nothing may be held as
  // a view, large slices included.
  it('copies every slice at append: the received bytes may be reused at once', async () => {
    const { writer, memory, dir } = setup(native(), true);
    const frame = randomBytes(200 * 1024);
    const small = frame.subarray(100, 232); // 132 bytes of a 200 KiB frame
    const large = frame.subarray(1000); // most of the frame
    const expected = Buffer.concat([small, large]);
    writer.append(small);
    writer.append(large);
    expect(memory.usedBytes).toBe(small.length + large.length);
    frame.fill(0xee); // what a reused receive slab does
    const index = await writer.finish(false);
    const file = readFileSync(dataPath(dir, KEY));
    expect(index.fileLength).toBe(expected.length);
    expect(file.equals(expected)).toBe(true);
    expect(memory.usedBytes).toBe(0);
  });

  // Regression: every partition with staged bytes held a 16 KiB piece, outside the budget: a
  // worker holding 667 000 small partition files of a 10^6-partition shuffle, 10.9 GB.
  it("stages a partition's first few hundred bytes in a 512-byte piece, then in 16 KiB ones", () => {
    const buffers = new WriteBuffers({ bufferBytes: 64 * 1024, keep: 4, native: native() });
    const small = buffers.takePiece('small');
    expect(small.length).toBe(SMALL_PIECE_BYTES);
    // Carved from one slab: the next small pieces share its memory, and come back for reuse.
    const next = buffers.takePiece('small');
    expect(next.buffer).toBe(small.buffer);
    buffers.givePiece(next);
    expect(buffers.takePiece('small')).toBe(next);
    expect(buffers.takePiece().length).toBe(16 * 1024);

    const { writer } = setup(native(), true);
    const taken: number[] = [];
    const take = writer.storage.buffers.takePiece.bind(writer.storage.buffers);
    writer.storage.buffers.takePiece = (size) => {
      const piece = take(size);
      taken.push(piece.length);
      return piece;
    };
    writer.append(randomBytes(40));
    writer.append(randomBytes(500)); // fills the small piece, then a full one
    expect(taken).toEqual([SMALL_PIECE_BYTES, 16 * 1024]);
  });

  it('stages many small slices across pieces, between views, byte for byte', async () => {
    const { writer, memory, dir } = setup(native(), true);
    const slices: Buffer[] = [];
    for (let i = 0; i < 200; i++) {
      // Small views of big buffers (staged) and whole buffers (held), interleaved.
      const big = randomBytes(i % 7 === 0 ? 5000 : 100_000);
      slices.push(i % 7 === 0 ? big : big.subarray(7, 7 + 1 + ((i * 997) % 9000)));
    }
    slices.forEach((slice, i) => {
      writer.append(slice);
      if (i % 13 === 0) writer.flush(i % 2 ? 'aligned' : 'full');
    });
    await finishAndCheck(writer, memory, dir, slices);
  });

  // The steady state copies each byte once: into a staging piece at append. Full pieces are
  // then written as they are (writev), with no aligned buffer taken and no second copy; the
  // bytes stay accounted until their write is done.
  it.each([true, false])(
    'writes full staging pieces as they are, byte for byte (O_DIRECT %s)',
    async (directIo) => {
      const { writer, memory, dir, disk } = setup(native(), directIo, {
        bufferBytes: 256 * 1024,
      });
      let taken = 0;
      const take = disk.buffers.take.bind(disk.buffers);
      disk.buffers.take = (bytes?: number) => {
        taken++;
        return take(bytes);
      };
      // A first slice that fits a 512-byte piece: once full it moves into a full piece, so
      // every later piece starts 4 KiB-aligned (it used to push them all onto the copying way).
      const slices = [randomBytes(100)];
      writer.append(slices[0]!);
      for (let i = 0; i < 40; i++) {
        const slice = randomBytes(1 + ((i * 7919) % 70_000));
        slices.push(slice);
        writer.append(slice);
        writer.flush(i % 9 === 8 ? 'aligned' : 'full');
        expect(memory.usedBytes).toBeGreaterThanOrEqual(writer.bufferedBytes);
      }
      expect(taken).toBe(0);
      await finishAndCheck(writer, memory, dir, slices);
    },
  );

  // Partial writes are made of 64 KiB and 4 KiB units written together with pwritev: the
  // final padding lands in whichever unit holds it, and a flush never takes more memory than
  // the bytes it moves out (rounded up to 4 KiB).
  it.each([true, false])(
    'partial writes of 64 KiB and 4 KiB units land byte for byte (O_DIRECT %s)',
    async (directIo) => {
      const { writer, memory, dir, written } = setup(native(), directIo, {
        bufferBytes: 1024 * 1024,
      });
      const slices: Buffer[] = [];
      for (let i = 0; i < 60; i++) {
        const slice = randomBytes(1 + ((i * 104_729) % 300_000));
        slices.push(slice);
        writer.append(slice);
        const before = memory.usedBytes;
        const mode = i % 5 === 4 ? 'full' : 'aligned';
        writer.flush(mode);
        expect(memory.usedBytes).toBeLessThanOrEqual(before);
        expect(writer.bufferedBytes).toBeLessThan(mode === 'full' ? 1024 * 1024 : ALIGNMENT);
      }
      await finishAndCheck(writer, memory, dir, slices);
      // Writes of both unit sizes happened: longer than one 64 KiB unit, and not whole units.
      expect(written.some((n) => n > 64 * 1024 && n % (64 * 1024) !== 0)).toBe(true);
    },
  );

  it('takes a slice as the parts it arrived in: same file, CRC and chunks as whole slices', async () => {
    const slices = SIZES.map((n) => randomBytes(n));
    const all = Buffer.concat(slices);
    const results = [];
    for (const asParts of [false, true]) {
      const { writer, memory, dir } = setup(native(), true);
      slices.forEach((slice, i) => {
        // Parts of uneven sizes, as socket chunks cut a push; every other slice brings its CRC.
        const parts = [
          slice.subarray(0, i),
          slice.subarray(i, 2 * i + 1),
          slice.subarray(2 * i + 1),
        ];
        const crc = i % 2 === 0 ? crc32(slice) : undefined;
        writer.append(asParts ? parts : slice, crc);
        const mode = FLUSHES[i % FLUSHES.length];
        if (mode) writer.flush(mode);
      });
      const index = await writer.finish(false);
      expect(readFileSync(dataPath(dir, KEY)).equals(all)).toBe(true);
      expect(memory.usedBytes).toBe(0);
      results.push(index);
    }
    expect(results[1]).toEqual(results[0]);
    expect(results[1]!.fileCrc32).toBe(crc32(all));
  });

  describe.each(NATIVES)('with the %s', (_name, ops) => {
    it.each([true, false])(
      'writes every slice byte for byte with directIo=%s, returning all memory',
      async (directIo) => {
        const { writer, memory, dir, written } = setup(ops(), directIo);
        const slices = SIZES.map((n) => randomBytes(n));
        const all = Buffer.concat(slices);
        appendAll(writer, memory, slices);
        expect(writer.length).toBe(all.length);

        const index = await writer.finish(true);

        const onDisk = readFileSync(dataPath(dir, KEY));
        expect(onDisk.length).toBe(all.length);
        expect(onDisk.equals(all)).toBe(true);
        expect(index.fileLength).toBe(all.length);
        expect(index.fileCrc32).toBe(crc32(all));
        expect(await readIndexFile(indexPath(dir, KEY))).toEqual(index);
        checkChunks(index.chunkStarts, slices, all.length);
        expect(index.chunkStarts.length).toBeGreaterThan(5);
        // Every write is whole 4 KiB blocks (O_DIRECT's rule; the last one padded).
        for (const n of written) expect(n % ALIGNMENT).toBe(0);
        expect(written.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(all.length);
        expect(writer.bufferedBytes).toBe(0);
        expect(memory.usedBytes).toBe(0);
      },
    );

    it.each([true, false])(
      'keeps the same bytes when the disk is throttled (directIo=%s)',
      async (directIo) => {
        const rate = 4 * 1024 ** 2;
        const { writer, memory, dir, written } = setup(ops(), directIo, {
          throttleBytesPerSec: rate,
        });
        const slices = SIZES.map((n) => randomBytes(n));
        const all = Buffer.concat(slices);
        const started = performance.now();
        appendAll(writer, memory, slices);
        const index = await writer.finish(false);
        const elapsedMs = performance.now() - started;

        expect(readFileSync(dataPath(dir, KEY)).equals(all)).toBe(true);
        expect(index.fileCrc32).toBe(crc32(all));
        checkChunks(index.chunkStarts, slices, all.length);
        // The throttle really applied: every written byte waited for its share of the rate.
        const writtenBytes = written.reduce((a, b) => a + b, 0);
        expect(elapsedMs).toBeGreaterThanOrEqual((writtenBytes / rate) * 1000 * 0.9);
        expect(memory.usedBytes).toBe(0);
      },
    );

    it('writes an empty file (no appends) with an empty index', async () => {
      const { writer, memory, dir } = setup(ops(), true);
      const index = await writer.finish(true);
      expect(index).toEqual({ fileLength: 0, fileCrc32: 0, chunkStarts: [] });
      expect(readFileSync(dataPath(dir, KEY)).length).toBe(0);
      expect(await readIndexFile(indexPath(dir, KEY))).toEqual(index);
      expect(memory.usedBytes).toBe(0);
    });

    it('writes a file smaller than one block (padded write, then truncated)', async () => {
      const { writer, memory, dir } = setup(ops(), true);
      const slice = randomBytes(123);
      writer.append(slice);
      writer.flush('aligned'); // below one block: nothing to write yet, kept as the tail
      expect(writer.bufferedBytes).toBe(123);
      const index = await writer.finish(true);
      expect(readFileSync(dataPath(dir, KEY)).equals(slice)).toBe(true);
      expect(index).toEqual({ fileLength: 123, fileCrc32: crc32(slice), chunkStarts: [0] });
      expect(memory.usedBytes).toBe(0);
    });

    // An empty Buffer from randomBytes(0) (or any Buffer without a backing store) reset the
    // running CRC: Node's zlib.crc32(data, value) returns 0 for a NULL data pointer. And an
    // empty append right at a chunk boundary started a chunk at fileLength, an index that
    // decodeIndex refuses. The wire never sends empty slices, but append() takes any Buffer.
    it('ignores an empty append (length, CRC and a valid index unchanged)', async () => {
      const { writer, memory, dir } = setup(ops(), true);
      const a = randomBytes(CHUNK_BYTES);
      const b = randomBytes(CHUNK_BYTES);
      writer.append(a);
      writer.append(randomBytes(0));
      writer.append(b);
      writer.append(randomBytes(0)); // at a chunk boundary and last: a chunk at fileLength
      const index = await writer.finish(false);
      const all = Buffer.concat([a, b]);
      expect(readFileSync(dataPath(dir, KEY)).equals(all)).toBe(true);
      expect(index.fileLength).toBe(all.length);
      expect(index.fileCrc32).toBe(crc32(all));
      for (const start of index.chunkStarts) expect(start).toBeLessThan(index.fileLength);
      expect(decodeIndex(encodeIndex(index))).toEqual(index);
      expect(memory.usedBytes).toBe(0);
    });

    // flush('final') is public. Called before the last append, it wrote the unaligned tail
    // padded with zeros and moved the write position past the padding, so every later byte
    // landed up to 4 KiB too far (zeros in between) and finish()'s truncate cut off the end.
    // Either outcome is sound: later appends refused, or accepted and written in place.
    it.each([true, false])(
      'never corrupts the file when flush("final") comes before the last append (directIo=%s)',
      async (directIo) => {
        const { writer, memory, dir } = setup(ops(), directIo);
        const slices = [randomBytes(5000), randomBytes(3000), randomBytes(20_000)];
        const accepted: Buffer[] = [];
        for (const slice of slices) {
          try {
            writer.append(slice);
          } catch {
            break; // refused after the final flush: also correct
          }
          accepted.push(slice);
          writer.flush('final');
        }
        expect(accepted.length).toBeGreaterThanOrEqual(1);
        const index = await writer.finish(false);
        const all = Buffer.concat(accepted);
        expect(index.fileLength).toBe(all.length);
        expect(index.fileCrc32).toBe(crc32(all));
        expect(readFileSync(dataPath(dir, KEY)).equals(all)).toBe(true);
        expect(memory.usedBytes).toBe(0);
      },
    );
  });

  describe('commit and discard', () => {
    it('names its storage and file; location() is the data path once the file exists', async () => {
      const { writer, dir, disk } = setup(native(), true);
      expect(writer.storage).toBe(disk);
      expect(writer.where).toContain(dir);
      expect(writer.where).toContain(`${KEY.partition}-${KEY.epoch}`);
      expect(await writer.location()).toBeUndefined(); // nothing written: no file yet
      writer.append(randomBytes(5000));
      await writer.finish(false);
      expect(await writer.location()).toBe(dataPath(dir, KEY));
    });

    it('discard() removes a file that was not committed and returns the memory', async () => {
      const { writer, memory, dir } = setup(native(), true);
      writer.append(randomBytes(BUFFER_BYTES + 100)); // one full buffer is written...
      writer.flush('full');
      expect(writer.bufferedBytes).toBe(100); // ...the rest stays buffered
      await writer.discard();
      expect(existsSync(dataPath(dir, KEY))).toBe(false);
      expect(existsSync(indexPath(dir, KEY))).toBe(false);
      expect(writer.bufferedBytes).toBe(0);
      expect(memory.usedBytes).toBe(0);
      expect(() => writer.append(randomBytes(10))).toThrow(/already committed/);
    });

    it('discard() after finish() leaves the committed file and its index', async () => {
      const { writer, memory, dir } = setup(native(), true);
      const slice = randomBytes(BUFFER_BYTES + 100);
      writer.append(slice);
      const index = await writer.finish(true);
      await writer.discard();
      expect(readFileSync(dataPath(dir, KEY)).equals(slice)).toBe(true);
      expect(await readIndexFile(indexPath(dir, KEY))).toEqual(index);
      expect(memory.usedBytes).toBe(0);
    });
  });

  describe('write errors', () => {
    it('a failing disk (ENOSPC on /dev/full) sets error, finish() rejects and memory returns to 0', async () => {
      const { writer, memory, dir, writeErrors } = setup(native(), false, { devFull: true });
      writer.append(randomBytes(BUFFER_BYTES + 100)); // one whole buffer: a write starts
      writer.flush('full');
      // finish() waits for every write: the ENOSPC surfaces there.
      await expect(writer.finish(false)).rejects.toMatchObject({ code: 'ENOSPC' });
      expect(writer.error).toMatchObject({ code: 'ENOSPC' });
      // The storage's health hears of it once (onWriteError).
      expect(writeErrors).toEqual([writer.error]);
      expect(writer.bufferedBytes).toBe(0);
      expect(memory.usedBytes).toBe(0);
      expect(existsSync(indexPath(dir, KEY))).toBe(false);
      await writer.discard();
      expect(memory.usedBytes).toBe(0);
      // The uncommitted file (here the symlink) is gone; /dev/full is not touched.
      expect(() => lstatSync(dataPath(dir, KEY))).toThrow(/ENOENT/);
      expect(statSync('/dev/full').isCharacterDevice()).toBe(true);
    });

    it('appends after a failed write are dropped on the next flush, not leaked', async () => {
      const { writer, memory } = setup(loadNative({ disable: true }), true, { devFull: true });
      writer.append(randomBytes(BUFFER_BYTES));
      writer.flush('full');
      await expect(writer.finish(false)).rejects.toThrow();
      expect(writer.error).toBeDefined();
      expect(memory.usedBytes).toBe(0);
    });

    it('a disk that starts failing (fault file) fails the next write with EIO; memory returns to 0', async () => {
      const { writer, memory, dir, written, writeErrors } = setup(native(), true);
      writer.append(randomBytes(BUFFER_BYTES));
      writer.flush('full');
      await expect.poll(() => written.length).toBe(1);
      expect(statSync(dataPath(dir, KEY)).size).toBe(BUFFER_BYTES); // written before the fault
      writeFileSync(join(dir, FAULT_FILE), '');
      for (let i = 0; i < 3; i++) {
        writer.append(randomBytes(BUFFER_BYTES));
        writer.flush('full');
      }
      await expect(writer.finish(false)).rejects.toMatchObject({ code: 'EIO' });
      expect(writer.error).toMatchObject({ code: 'EIO' });
      expect(writeErrors).toHaveLength(1); // the first failed write, not every one
      expect(memory.usedBytes).toBe(0);
      await writer.discard();
      expect(existsSync(dataPath(dir, KEY))).toBe(false);
      expect(memory.usedBytes).toBe(0);
    });

    it('a commit that fails (EIO after the last write) rejects; discard() then removes the file', async () => {
      const { writer, memory, dir, written } = setup(native(), true);
      writer.append(randomBytes(2 * BUFFER_BYTES));
      writer.flush('full'); // everything written: the final flush has nothing left
      await expect.poll(() => written.length).toBe(2);
      writeFileSync(join(dir, FAULT_FILE), '');
      await expect(writer.finish(true)).rejects.toMatchObject({ code: 'EIO' });
      expect(writer.error).toBeUndefined(); // every write succeeded: the commit failed
      expect(existsSync(indexPath(dir, KEY))).toBe(false);
      expect(memory.usedBytes).toBe(0);
      await writer.discard();
      expect(existsSync(dataPath(dir, KEY))).toBe(false);
    });

    /** A store on one disk whose data dir cannot be created: it sits under a regular file. */
    function unwritableStore() {
      const root = tempDir();
      const file = join(root, 'not-a-dir');
      writeFileSync(file, 'x');
      const memory = new MemoryManager(64 * 1024 ** 2);
      const disk = new LocalDisk({
        dir: join(file, 'disk'),
        writesInFlight: 2,
        directIo: true,
        bufferBytes: BUFFER_BYTES,
        native: native(),
      });
      const { store, health } = storeFixture({
        storages: [disk],
        memory,
        chunkBytes: CHUNK_BYTES,
        fsyncOnCommit: false,
      });
      /** One push as the push handler answers it: accept the shuffle, then append. */
      const push = async (slice: Buffer): Promise<WireStatusName> => {
        const accepting = store.accept(KEY.appId, KEY.shuffleId);
        if (accepting) {
          try {
            await accepting;
          } catch {
            return 'FAILED'; // the whole push
          }
        }
        return statusOf(store.append(KEY, slice));
      };
      return { root, disk, health, memory, store, push };
    }

    it('a data dir that cannot be created (under a regular file) refuses the pushes with FAILED', async () => {
      const { root, disk, health, memory, store, push } = unwritableStore();
      // The ACCEPTED trace is written before the first ack (a restarted worker needs it); when
      // no storage can record it, nothing is accepted: no ack for data that has nowhere to go.
      await expect(store.accept(KEY.appId, KEY.shuffleId)).rejects.toMatchObject({
        code: 'SLUICE_ERR_WORKER_STORAGE',
      });
      expect(health.state(disk)).toBe('failing'); // the error counts against the disk
      expect(await push(randomBytes(BUFFER_BYTES * 2 + 10))).toBe('FAILED');
      expect(await push(randomBytes(100_000))).toBe('FAILED');
      // An append that skips accept() is refused too.
      expect(statusOf(store.append(KEY, randomBytes(100)))).toBe('FAILED');
      expect([...store.writers()]).toEqual([]);
      // Nothing is committed: no file served, nothing on disk.
      await store.commit(KEY.appId, KEY.shuffleId).catch(() => undefined);
      expect(store.committedFile(KEY)).toBeUndefined();
      expect(readdirSync(root)).toEqual(['not-a-dir']);
      expect(memory.usedBytes).toBe(0);
    });

    // Nothing was acknowledged, so the commit has nothing to lose: it answers no files (the
    // driver relies on the replica, which acked the pushes), and writes no marker anywhere.
    it('a data dir that cannot be created commits nothing and claims nothing', async () => {
      const { store, push } = unwritableStore();
      expect(await push(randomBytes(100_000))).toBe('FAILED');
      await expect(store.commit(KEY.appId, KEY.shuffleId)).resolves.toEqual({
        files: [],
        failed: [],
      });
      expect(store.committedFile(KEY)).toBeUndefined();
    });
  });
});
