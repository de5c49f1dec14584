// The commit of files none of whose bytes reached the disk before it (LocalDisk.commitWhole):
// written whole, many to a native call, on real disks in temp dirs, through the addon and the
// pure-JS fallback. Every byte and index checks out, the memory they held is released, the
// open-file budget holds, a file that cannot be written fails alone and leaves nothing
// behind, and a shuffle directory removed under the worker is made again.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { loadNative, type NativeOps } from '../../common/native.js';
import { MemoryManager } from '../memory/memory-manager.js';
import { readIndexFile } from './index-file.js';
import { COMMITTED_MARKER, dataPath, indexPath, shuffleDir } from './layout.js';
import { LocalDisk } from './local-disk.js';
import { OpenFiles, type Reopenable } from './open-files.js';
import { type PartitionStore } from './partition-store.js';
import { storeFixture } from './store-fixture.js';

const BUFFER_BYTES = 64 * 1024;
const APP = 'app-w';
const key = (partition: number) => ({ appId: APP, shuffleId: 1, partition, epoch: 0 });

/** An open-file budget that remembers the most files it ever had open at once. */
class CountingOpenFiles extends OpenFiles {
  most = 0;
  override opened(file: Reopenable): void {
    super.opened(file);
    this.most = Math.max(this.most, this.count);
  }
}

const PATHS = [
  { name: 'addon', ops: () => loadNative() },
  { name: 'js fallback', ops: () => loadNative({ disable: true }) },
];

describe.each(PATHS)('commit of files held whole in memory ($name)', ({ ops }) => {
  const roots: string[] = [];
  const stores: PartitionStore[] = [];
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
    for (const d of roots.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  function makeStore() {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-whole-'));
    roots.push(dir);
    const base: NativeOps = ops();
    const batches: number[] = [];
    // The native ops as the disk sees them, counting the files of each commitFiles call.
    const counted: NativeOps = {
      ...base,
      commitFiles: (files, direct, sync) => {
        batches.push(files.length);
        return base.commitFiles(files, direct, sync);
      },
    };
    const openFiles = new CountingOpenFiles(2);
    const disk = new LocalDisk({
      dir,
      writesInFlight: 4,
      directIo: true,
      bufferBytes: BUFFER_BYTES,
      native: counted,
      openFiles,
    });
    const memory = new MemoryManager(256 * 1024 ** 2);
    const { store, health } = storeFixture({
      storages: [disk],
      memory,
      chunkBytes: 8192,
      fsyncOnCommit: true,
    });
    stores.push(store);
    return { dir, disk, memory, health, store, batches, openFiles };
  }

  /** Appends `slices` to each partition; returns every partition's bytes. */
  async function fill(store: PartitionStore, slices: Map<number, Buffer[]>) {
    await store.accept(APP, 1);
    for (const [p, list] of slices)
      for (const s of list) expect(typeof store.append(key(p), s)).toBe('object');
    return new Map([...slices].map(([p, list]) => [p, Buffer.concat(list)]));
  }

  it('writes small files 64 to a call within the open-file budget, a large one as before', async () => {
    const { dir, memory, store, batches, openFiles } = makeStore();
    const slices = new Map<number, Buffer[]>();
    // 200 small partitions (one or several slices, some past a staging piece), an empty
    // one, and one past a buffer, written before the commit.
    for (let p = 0; p < 200; p++)
      slices.set(p, [randomBytes(1 + ((p * 37) % 3000)), ...(p % 3 ? [] : [randomBytes(700)])]);
    slices.set(200, [Buffer.alloc(0)]);
    slices.set(201, [randomBytes(BUFFER_BYTES + 100)]);
    const want = await fill(store, slices);

    const { files, failed } = await store.commit(APP, 1);
    expect(failed).toEqual([]);
    expect(files.map((f) => f.partition)).toEqual([...want.keys()]);
    for (const f of files) {
      const bytes = want.get(f.partition)!;
      expect(f.location).toBe(dataPath(dir, f));
      expect(readFileSync(f.location).equals(bytes), `partition ${f.partition}`).toBe(true);
      const index = await readIndexFile(indexPath(dir, f));
      expect(index).toEqual(f.index);
      expect(index.fileLength).toBe(bytes.length);
      expect(index.fileCrc32).toBe(crc32(bytes));
    }
    expect(existsSync(join(shuffleDir(dir, APP, 1), COMMITTED_MARKER))).toBe(true);
    // 201 files whole (the large one was written before, and went the usual way).
    expect(batches).toEqual([64, 64, 64, 9]);
    expect(openFiles.most).toBeLessThanOrEqual(2);
    expect(openFiles.count).toBe(0);
    expect(memory.usedBytes).toBe(0);
  });

  it('a file that cannot be written fails alone, and leaves no file behind', async () => {
    const { dir, disk, health, store } = makeStore();
    const slices = new Map([0, 1, 2, 3].map((p) => [p, [randomBytes(100 + p)]]));
    const want = await fill(store, slices);
    // Partition 2's data path is a directory: its open fails with EISDIR.
    mkdirSync(dataPath(dir, key(2)));

    const { files, failed } = await store.commit(APP, 1);
    expect(files.map((f) => f.partition)).toEqual([0, 1, 3]);
    for (const f of files)
      expect(readFileSync(f.location).equals(want.get(f.partition)!)).toBe(true);
    expect(failed).toEqual([{ ...key(2), reason: expect.stringContaining('EISDIR') }]);
    expect(existsSync(indexPath(dir, key(2)))).toBe(false);
    expect(store.committedFile(key(2))).toBeUndefined();
    expect(health.status().find((s) => s.storage === disk)?.errors).toBe(1);
  });

  it('makes a shuffle directory removed under the worker again', async () => {
    const { dir, store } = makeStore();
    const want = await fill(store, new Map([[5, [randomBytes(321)]]]));
    rmSync(shuffleDir(dir, APP, 1), { recursive: true });

    const { files, failed } = await store.commit(APP, 1);
    expect(failed).toEqual([]);
    expect(readFileSync(files[0]!.location).equals(want.get(5)!)).toBe(true);
    expect((await readIndexFile(indexPath(dir, key(5)))).fileLength).toBe(321);
  });
});
