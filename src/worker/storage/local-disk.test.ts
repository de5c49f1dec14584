// LocalDisk's aligned buffers for writes: a full-size buffer, or units of 64 KiB and 4 KiB
// for partial writes, pooled and carved from slabs. Counted through a NativeOps wrapper: the
// pure-JS fallback's aligned buffers are WebAssembly memories, of which only ~13,000 can be
// live at once, so how many allocations a write costs is what matters.
// Then LocalDisk as a Storage on a temp dir: writes padded to 4 KiB (buffered files too) and
// truncated at commit with the index written, abort, the markers, list() after a restart,
// deletion, reads of committed bytes, and the fault file that fails everything with EIO.
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { loadNative, native, type NativeOps } from '../../common/native.js';
import { encodeIndex, readIndexFile, type PartitionIndex } from './index-file.js';
import {
  ACCEPTED_MARKER,
  COMMITTED_MARKER,
  dataPath,
  indexPath,
  shuffleDir,
  type PartitionFileKey,
} from './layout.js';
import { ALIGNMENT, LocalDisk, type LocalDiskOptions } from './local-disk.js';
import { OpenFiles } from './open-files.js';
import type { WritableFile } from './storage.js';

const KiB = 1024;

describe('LocalDisk.takeBuffers', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  function disk(bufferBytes: number, ops: NativeOps = native()) {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-disk-'));
    dirs.push(dir);
    const sizes: number[] = [];
    const counted: NativeOps = {
      ...ops,
      alignedBuffer: (size, alignment) => {
        sizes.push(size);
        return ops.alignedBuffer(size, alignment);
      },
    };
    const d = new LocalDisk({
      dir,
      writesInFlight: 4,
      directIo: true,
      bufferBytes,
      native: counted,
    });
    return { disk: d, sizes };
  }

  it.each([
    [4 * KiB * KiB, 4 * KiB * KiB, [4 * KiB * KiB]],
    [4 * KiB * KiB, 1, [4 * KiB]],
    [4 * KiB * KiB, 200 * KiB + 1, [64 * KiB, 64 * KiB, 64 * KiB, 4 * KiB, 4 * KiB, 4 * KiB]],
    [64 * KiB, 60 * KiB, Array(15).fill(4 * KiB)],
    [64 * KiB, 61 * KiB, [64 * KiB]],
    [ALIGNMENT, 100, [ALIGNMENT]],
  ])('bufferBytes %i, a write of %i bytes: buffers %j, aligned', (bufferBytes, bytes, expected) => {
    const { disk: d } = disk(bufferBytes);
    const bufs = d.buffers.take(bytes);
    expect(bufs.map((b) => b.length)).toEqual(expected);
    for (const b of bufs) expect(b.byteOffset % ALIGNMENT).toBe(0); // slabs start aligned
    d.buffers.give(bufs);
  });

  it.each([
    ['native addon', () => native()],
    ['pure-JS fallback', () => loadNative({ disable: true })],
  ])('units come from slabs and are reused (%s)', (_name, ops) => {
    const { disk: d, sizes } = disk(4 * KiB * KiB, ops());
    // 400 partial writes of 3 x 64 KiB + 3 x 4 KiB in flight at once: 2400 buffers.
    const held = Array.from({ length: 400 }, () => d.buffers.take(204 * KiB));
    expect(held.flat().length).toBe(2400);
    // 1200 units of 64 KiB at 16 a slab, 1200 of 4 KiB at 64 a slab: 94 allocations.
    expect(sizes.length).toBe(1200 / 16 + Math.ceil(1200 / 64));
    for (const bufs of held) d.buffers.give(bufs);
    sizes.length = 0;
    for (let i = 0; i < 100; i++) d.buffers.give(d.buffers.take(204 * KiB));
    expect(sizes).toEqual([]);
  });

  it('with bufferBytes of 64 KiB, a partial write reuses the full-size pool', () => {
    const { disk: d, sizes } = disk(64 * KiB);
    for (let i = 0; i < 100; i++) d.buffers.give(d.buffers.take(62 * KiB));
    expect(sizes).toEqual([64 * KiB]);
  });
});

describe('LocalDisk as a storage', () => {
  const dirs: string[] = [];
  const open: WritableFile[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((f) => f.abort()));
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  const FAULT_FILE = 'FAIL_IO';
  const KEY: PartitionFileKey = { appId: 'app-d', shuffleId: 3, partition: 5, epoch: 1 };

  function makeDisk(opts: Partial<LocalDiskOptions> = {}) {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-disk-'));
    dirs.push(dir);
    const written: number[] = [];
    const disk = new LocalDisk({
      dir,
      writesInFlight: 2,
      directIo: true,
      bufferBytes: 16 * KiB,
      native: native(),
      faultFile: FAULT_FILE,
      onWrite: (bytes) => written.push(bytes),
      ...opts,
    });
    return { dir, disk, written };
  }

  async function create(disk: LocalDisk, key = KEY): Promise<WritableFile> {
    const file = await disk.create(key);
    open.push(file);
    return file;
  }

  /** Writes `data` through the disk's buffers: whole buffers, then the rest (padded). */
  async function writeAll(disk: LocalDisk, file: WritableFile, data: Buffer): Promise<void> {
    for (let at = 0; at < data.length; at += disk.bufferBytes) {
      const length = Math.min(disk.bufferBytes, data.length - at);
      const bufs = disk.buffers.take(length);
      let copied = 0;
      for (const b of bufs) copied += data.copy(b, 0, at + copied, at + length);
      try {
        await file.write(bufs, length, at);
      } finally {
        disk.buffers.give(bufs);
      }
    }
  }

  const indexOf = (data: Buffer): PartitionIndex => ({
    fileLength: data.length,
    fileCrc32: crc32(data),
    chunkStarts: data.length > 0 ? [0] : [],
  });

  it.each([true, false])(
    'pads every write to 4 KiB and truncates at commit, writing the index (directIo=%s)',
    async (directIo) => {
      const { dir, disk, written } = makeDisk({ directIo });
      const data = randomBytes(2 * 16 * KiB + 123);
      const file = await create(disk);
      expect(file.location).toBe(dataPath(dir, KEY));
      await writeAll(disk, file, data);
      // Whole blocks on disk until the commit: the last write's padding is zeros.
      expect(written).toEqual([16 * KiB, 16 * KiB, ALIGNMENT]);
      const padded = readFileSync(file.location);
      expect(padded.length).toBe(2 * 16 * KiB + ALIGNMENT);
      expect(padded.subarray(data.length).every((b) => b === 0)).toBe(true);
      expect(existsSync(indexPath(dir, KEY))).toBe(false);
      await file.commit(indexOf(data), true);
      expect(readFileSync(file.location).equals(data)).toBe(true);
      expect(await readIndexFile(indexPath(dir, KEY))).toEqual(indexOf(data));
      expect(disk.queuedBytes).toBe(0);
      expect(disk.oldestOperationMs()).toBe(0);
    },
  );

  it.each([true, false])(
    'keeps at most maxOpenFiles idle files open: others close and reopen at their next write (directIo=%s)',
    async (directIo) => {
      const openFiles = new OpenFiles(2);
      const { dir, disk } = makeDisk({ directIo, openFiles });
      const keys = Array.from({ length: 6 }, (_, i) => ({ ...KEY, partition: i }));
      const data = keys.map(() => randomBytes(3 * 16 * KiB + 777));
      const files = await Promise.all(keys.map((k) => create(disk, k)));
      expect(openFiles.count).toBeLessThanOrEqual(2);
      const fds = () => readdirSync('/proc/self/fd').length;
      const before = fds();
      // Interleaved: every file's next piece after every other file's, so each write finds
      // its descriptor closed by the budget.
      for (let at = 0; at < data[0]!.length; at += disk.bufferBytes)
        for (const [i, file] of files.entries()) {
          const length = Math.min(disk.bufferBytes, data[i]!.length - at);
          const bufs = disk.buffers.take(length);
          let copied = 0;
          for (const b of bufs) copied += data[i]!.copy(b, 0, at + copied, at + length);
          try {
            await file.write(bufs, length, at);
          } finally {
            disk.buffers.give(bufs);
          }
          expect(openFiles.count).toBeLessThanOrEqual(2);
          expect(fds()).toBeLessThanOrEqual(before + 2);
        }
      expect(openFiles.reopened).toBeGreaterThan(10);
      for (const [i, file] of files.entries()) await file.commit(indexOf(data[i]!), true);
      expect(openFiles.count).toBe(0);
      for (const [i, k] of keys.entries()) {
        expect(readFileSync(dataPath(dir, k)).equals(data[i]!)).toBe(true);
        expect(await readIndexFile(indexPath(dir, k))).toEqual(indexOf(data[i]!));
      }
    },
  );

  it('abort() deletes an uncommitted file, and is idempotent', async () => {
    const { disk } = makeDisk();
    const file = await create(disk);
    await writeAll(disk, file, randomBytes(20_000));
    await file.abort();
    expect(existsSync(file.location)).toBe(false);
    await file.abort();
  });

  it('reads back committed bytes; a read past the end is CORRUPT_FILE', async () => {
    const { disk } = makeDisk();
    const data = randomBytes(50_000);
    const file = await create(disk);
    await writeAll(disk, file, data);
    await file.commit(indexOf(data), false);
    const input = await disk.openRead({ ...KEY, location: file.location, index: indexOf(data) });
    try {
      const { body, release } = await input.read(1000, 30_000);
      expect(body.equals(data.subarray(1000, 31_000))).toBe(true);
      release();
      await expect(input.read(40_000, 20_000)).rejects.toMatchObject({ status: 'CORRUPT_FILE' });
    } finally {
      await input.close();
    }
  });

  it('list() reports each shuffle with its COMMITTED marker and the files that check out', async () => {
    const { dir, disk } = makeDisk();
    const data = randomBytes(10_000);
    await disk.markAccepted(KEY.appId, KEY.shuffleId);
    const file = await create(disk);
    await writeAll(disk, file, data);
    await file.commit(indexOf(data), true);
    await disk.markCommitted(KEY.appId, KEY.shuffleId);
    // Shuffle 4: accepted only (a commit that never happened), with an index whose data
    // file is missing.
    await disk.markAccepted(KEY.appId, 4);
    const missing = { ...KEY, shuffleId: 4 };
    writeFileSync(indexPath(dir, missing), encodeIndex(indexOf(data)));
    for (const m of [ACCEPTED_MARKER, COMMITTED_MARKER])
      expect(existsSync(join(shuffleDir(dir, KEY.appId, KEY.shuffleId), m))).toBe(true);

    const found = (await disk.list()).sort((a, b) => a.shuffleId - b.shuffleId);
    expect(found).toEqual([
      {
        appId: KEY.appId,
        shuffleId: 3,
        committed: true,
        files: [{ ...KEY, location: dataPath(dir, KEY), index: indexOf(data) }],
        skipped: 0,
      },
      { appId: KEY.appId, shuffleId: 4, committed: false, files: [], skipped: 1 },
    ]);
  });

  it('deleteShuffle and deleteApp remove the directories and return their bytes', async () => {
    const { dir, disk } = makeDisk();
    const data = randomBytes(10_000);
    for (const shuffleId of [3, 4]) {
      const file = await create(disk, { ...KEY, shuffleId });
      await writeAll(disk, file, data);
      await file.commit(indexOf(data), false);
    }
    const indexBytes = statSync(indexPath(dir, KEY)).size;
    expect(await disk.deleteShuffle(KEY.appId, 3)).toBe(data.length + indexBytes);
    expect(existsSync(shuffleDir(dir, KEY.appId, 3))).toBe(false);
    expect(await disk.deleteShuffle(KEY.appId, 3)).toBe(0);
    expect(await disk.deleteApp(KEY.appId)).toBe(data.length + indexBytes);
    expect(existsSync(join(dir, KEY.appId))).toBe(false);
  });

  it('counts a write in progress in queuedBytes and oldestOperationMs', async () => {
    const { disk } = makeDisk({ throttleBytesPerSec: 64 * KiB });
    const file = await create(disk);
    const writing = writeAll(disk, file, randomBytes(16 * KiB)); // ~250 ms at the throttle
    expect(disk.queuedBytes).toBe(16 * KiB);
    await expect.poll(() => disk.oldestOperationMs()).toBeGreaterThan(0);
    await writing;
    expect(disk.queuedBytes).toBe(0);
    expect(disk.oldestOperationMs()).toBe(0);
  });

  it('fails every operation with EIO while the fault file exists, and works again after', async () => {
    const { dir, disk } = makeDisk();
    const data = randomBytes(20_000);
    const before = await create(disk); // opened before the fault
    writeFileSync(join(dir, FAULT_FILE), '');
    const eio = { code: 'EIO' };
    await expect(disk.markAccepted(KEY.appId, KEY.shuffleId)).rejects.toMatchObject(eio);
    await expect(disk.markCommitted(KEY.appId, KEY.shuffleId)).rejects.toMatchObject(eio);
    await expect(disk.create({ ...KEY, partition: 6 })).rejects.toMatchObject(eio);
    await expect(disk.probe()).rejects.toMatchObject(eio);
    await expect(writeAll(disk, before, data)).rejects.toMatchObject(eio);
    await expect(before.commit(indexOf(data), false)).rejects.toMatchObject(eio);
    // The failed write gave back its slot and its queued bytes.
    expect(disk.queuedBytes).toBe(0);
    expect(disk.oldestOperationMs()).toBe(0);
    expect(existsSync(join(dir, '.sluice-probe'))).toBe(false);

    rmSync(join(dir, FAULT_FILE));
    await disk.probe();
    await disk.markAccepted(KEY.appId, KEY.shuffleId);
    // More writes at once than there are slots: none was lost to the failures.
    await Promise.all(
      [6, 7, 8].map(async (partition) =>
        writeAll(disk, await create(disk, { ...KEY, partition }), data),
      ),
    );
    await writeAll(disk, before, data);
    await before.commit(indexOf(data), false);
    expect(readFileSync(before.location).equals(data)).toBe(true);
    await disk.markCommitted(KEY.appId, KEY.shuffleId);
  });
});

describe('LocalDisk confines every path to its directory', () => {
  it('refuses app ids that would leave it, deleting nothing; lists past names that are not app ids', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sluice-confine-'));
    try {
      const dir = join(root, 'disk');
      const outside = join(root, 'precious');
      mkdirSync(join(dir, 'lost+found'), { recursive: true });
      mkdirSync(outside);
      writeFileSync(join(outside, 'keep'), 'x');
      const disk = new LocalDisk({
        dir,
        writesInFlight: 1,
        directIo: false,
        bufferBytes: 64 * KiB,
        native: native(),
      });
      for (const appId of ['..', '../precious', '.', '', 'a/b'])
        await expect(disk.deleteApp(appId)).rejects.toMatchObject({
          code: 'SLUICE_ERR_INVALID_ARGUMENT',
        });
      await expect(disk.deleteShuffle('../precious', 1)).rejects.toMatchObject({
        code: 'SLUICE_ERR_INVALID_ARGUMENT',
      });
      expect(readFileSync(join(outside, 'keep'), 'utf8')).toBe('x');
      expect(await disk.list()).toEqual([]); // lost+found is skipped, not an error
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
