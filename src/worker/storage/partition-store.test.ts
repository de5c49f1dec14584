// PartitionStore over two real disks in temp dirs (docs/architecture.md#worker): accept and
// append, commit (idempotent, STAGE_ENDED afterwards), SOFT_SPLIT past epochRotateBytes (the
// push handler's rule, re-stated in `push` below), deletion by shuffle and by app, reload of
// committed files after a restart (refusing what does not check out, and shuffles without
// the COMMITTED marker on every storage that holds them), and the choice of a storage for a
// new file by health: a failing disk gets none, a disk above its watermark gets none while
// another is healthy. Memory-pressure relief is the flusher's (flusher.test.ts).
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { native } from '../../common/native.js';
import type { WireStatusName } from '../../common/status-codes.js';
import { MemoryManager } from '../memory/memory-manager.js';
import { encodeIndex, readIndexFile } from './index-file.js';
import {
  ACCEPTED_MARKER,
  COMMITTED_MARKER,
  dataPath,
  indexPath,
  shuffleDir,
  type PartitionFileKey,
} from './layout.js';
import { LocalDisk, type LocalDiskOptions } from './local-disk.js';
import { type PartitionStore, type AppendResult, type CommittedFile } from './partition-store.js';
import type { PartitionWriter } from './partition-writer.js';
import type { Storage, StorageUsage } from './storage.js';
import { withOverrides } from './fake-storage.js';
import { storeFixture } from './store-fixture.js';

const BUFFER_BYTES = 64 * 1024;
const CHUNK_BYTES = 8192;
const APP = 'app-s';
/** The fault-injection file (LocalDiskOptions.faultFile): EIO on that disk while it exists. */
const FAULT_FILE = 'FAIL_IO';

const key = (partition: number, epoch = 0, shuffleId = 1, appId = APP): PartitionFileKey => ({
  appId,
  shuffleId,
  partition,
  epoch,
});

/** Total size of the regular files under `path` (0 when it does not exist). */
function du(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (st.isFile()) return st.size;
  return readdirSync(path).reduce((n, name) => n + du(join(path, name)), 0);
}

/**
 * The push handler's answer to an append (statusOf in push-handler.ts): OK, or SOFT_SPLIT
 * once the file reached worker.epochRotateBytes; otherwise why it was not appended.
 */
function statusOf(result: AppendResult, epochRotateBytes: number): WireStatusName {
  if (typeof result !== 'string') return result.length >= epochRotateBytes ? 'SOFT_SPLIT' : 'OK';
  const statuses = {
    deleted: 'UNKNOWN_SHUFFLE',
    lost: 'HARD_SPLIT',
    committing: 'STAGE_ENDED',
    'no-storage': 'FAILED',
    'write-failed': 'FAILED',
  } as const;
  return statuses[result];
}

/**
 * One partition's slice of a push, answered as the push handler does: the shuffle is accepted
 * first (FAILED when no storage could record it), then the slice appended. Synchronous up to
 * the append when the shuffle is already accepted, like the handler.
 */
async function push(
  store: PartitionStore,
  k: PartitionFileKey,
  slice: Buffer,
  epochRotateBytes = 1024 ** 3,
): Promise<WireStatusName> {
  const accepting = store.accept(k.appId, k.shuffleId);
  if (accepting) {
    try {
      await accepting;
    } catch {
      return 'FAILED';
    }
  }
  return statusOf(store.append(k, slice), epochRotateBytes);
}

/** The writer of a file being written. */
function writerOf(store: PartitionStore, k: PartitionFileKey): PartitionWriter {
  const w = [...store.writers()].find((x) => JSON.stringify(x.key) === JSON.stringify(k));
  if (!w) throw new Error(`no writer for ${JSON.stringify(k)}`);
  return w;
}

/** A committed file without its storage object (compared across two stores' disks). */
const plain = ({ storage: _storage, ...rest }: CommittedFile) => rest;

/** A usage report of `usedShare` of a 1 GB storage. */
const usageOf = (usedShare: number): StorageUsage => ({
  capacityBytes: 1e9,
  freeBytes: Math.round((1 - usedShare) * 1e9),
});

/** The (app, shuffle) pairs the store holds, without their sizes. */
const heldIds = (store: PartitionStore) =>
  store.held().map(({ appId, shuffleId }) => ({ appId, shuffleId }));

describe('PartitionStore', () => {
  const roots: string[] = [];
  const stores: PartitionStore[] = [];
  afterEach(async () => {
    // Writes still in flight after a failed assertion would recreate files in removed dirs.
    await Promise.all(stores.splice(0).map((s) => s.close()));
    for (const d of roots.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  function makeStore(
    opts: {
      root?: string;
      budget?: number;
      bufferBytes?: number;
      disks?: number;
      memory?: MemoryManager;
      /** Per-disk options (e.g. a throttled disk). */
      diskOptions?: (i: number) => Partial<LocalDiskOptions>;
      /** What the store sees of each disk (default: the disk itself). */
      wrap?: (disk: LocalDisk, i: number) => Storage;
      highWatermark?: number;
    } = {},
  ) {
    let root = opts.root;
    if (!root) {
      root = mkdtempSync(join(tmpdir(), 'sluice-ps-'));
      roots.push(root);
    }
    const dirs = Array.from({ length: opts.disks ?? 2 }, (_, i) => join(root, `d${i + 1}`));
    const disks = dirs.map((dir, i) => {
      mkdirSync(dir, { recursive: true }); // as the worker does (server.ts)
      return new LocalDisk({
        dir,
        writesInFlight: 2,
        directIo: true,
        bufferBytes: opts.bufferBytes ?? BUFFER_BYTES,
        native: native(),
        faultFile: FAULT_FILE,
        ...opts.diskOptions?.(i),
      });
    });
    const storages = disks.map((d, i) => opts.wrap?.(d, i) ?? d);
    const memory = opts.memory ?? new MemoryManager(opts.budget ?? 256 * 1024 ** 2);
    const { store, health } = storeFixture({
      storages,
      memory,
      chunkBytes: CHUNK_BYTES,
      fsyncOnCommit: true,
      highWatermark: opts.highWatermark,
    });
    stores.push(store);
    return { root, dirs, disks, storages, memory, store, health };
  }

  /** Pushes `slices` to `k` (each must answer OK) and remembers them in `expected`. */
  async function appendAll(
    store: PartitionStore,
    expected: Map<string, Buffer[]>,
    k: PartitionFileKey,
    sizes: readonly number[],
  ): Promise<void> {
    const id = JSON.stringify(k);
    for (const n of sizes) {
      const slice = randomBytes(n);
      expect(await push(store, k, slice)).toBe('OK');
      expected.set(id, [...(expected.get(id) ?? []), slice]);
    }
  }

  it('commits what was appended: data files, indexes, markers, committedFile, isCommitted', async () => {
    const { store, memory, dirs, disks } = makeStore();
    const expected = new Map<string, Buffer[]>();
    const keys = [key(0), key(1), key(2), key(3), key(3, 1), key(9)];
    for (const [i, k] of keys.entries())
      await appendAll(store, expected, k, [100 + i, 70_000, 4096, 33 * (i + 1), 150_000, 5]);
    // The ACCEPTED trace is on both disks, the COMMITTED marker on none yet.
    for (const d of dirs) {
      expect(existsSync(join(shuffleDir(d, APP, 1), ACCEPTED_MARKER))).toBe(true);
      expect(existsSync(join(shuffleDir(d, APP, 1), COMMITTED_MARKER))).toBe(false);
    }
    expect(store.isCommitted(APP, 1)).toBe(false);
    expect(store.committedFile(key(0))).toBeUndefined();
    // Heartbeats report the pushed bytes; the committed figures wait for the commit.
    const lengths = keys.map((k) => Buffer.concat(expected.get(JSON.stringify(k))!).length);
    const pushed = lengths.reduce((a, b) => a + b, 0);
    const uncommitted = { committed: false, bytesCommitted: 0, partitionFiles: 0 };
    expect(store.held()).toEqual([
      { appId: APP, shuffleId: 1, bytesPushed: pushed, ...uncommitted, largestPartitionBytes: 0 },
    ]);

    const result = await store.commit(APP, 1);
    expect(result.failed).toEqual([]);
    expect(store.held()).toEqual([
      {
        appId: APP,
        shuffleId: 1,
        bytesPushed: pushed,
        committed: true,
        bytesCommitted: pushed,
        partitionFiles: keys.length,
        largestPartitionBytes: Math.max(...lengths),
      },
    ]);
    expect(result.files.map((f) => [f.partition, f.epoch])).toEqual(
      keys.map((k) => [k.partition, k.epoch]),
    );
    expect(store.isCommitted(APP, 1)).toBe(true);
    expect(store.isCommitDone(APP, 1)).toBe(true);
    for (const f of result.files) {
      const want = Buffer.concat(expected.get(JSON.stringify(key(f.partition, f.epoch)))!);
      expect(readFileSync(f.location).equals(want), `file ${f.location}`).toBe(true);
      expect(f.index.fileLength).toBe(want.length);
      expect(f.index.fileCrc32).toBe(crc32(want));
      expect(f.index.chunkStarts[0]).toBe(0);
      const disk = disks.find((d) => d === f.storage)!;
      expect(f.location).toBe(dataPath(disk.dir, f));
      expect(await readIndexFile(indexPath(disk.dir, f))).toEqual(f.index);
      expect(store.committedFile(f)).toEqual(f);
    }
    // Files were spread over both disks, and both got the COMMITTED marker.
    expect(new Set(result.files.map((f) => f.storage))).toEqual(new Set(disks));
    for (const d of dirs)
      expect(existsSync(join(shuffleDir(d, APP, 1), COMMITTED_MARKER))).toBe(true);
    expect(memory.usedBytes).toBe(0);
    expect(store.flushQueueBytes).toBe(0);
  });

  it('accepts a shuffle once: accept() is undefined afterwards, and appends need it', async () => {
    const { store, dirs } = makeStore();
    // Without accept() nothing is appended (no ack before the durable trace).
    expect(store.append(key(0), randomBytes(10))).toBe('write-failed');
    const first = store.accept(APP, 1);
    expect(first).toBeInstanceOf(Promise);
    expect(store.accept(APP, 1)).toBe(first); // the same recording, not a second one
    await first;
    expect(store.accept(APP, 1)).toBeUndefined();
    for (const d of dirs)
      expect(existsSync(join(shuffleDir(d, APP, 1), ACCEPTED_MARKER))).toBe(true);
    const result = store.append(key(0), randomBytes(10));
    expect(typeof result).not.toBe('string');
    expect((result as PartitionWriter).length).toBe(10);
  });

  it('answers the same commit every time and STAGE_ENDED to appends after it', async () => {
    const { store, dirs } = makeStore();
    const expected = new Map<string, Buffer[]>();
    await appendAll(store, expected, key(0), [1000, 2000]);
    await appendAll(store, expected, key(1), [3000]);
    const first = store.commit(APP, 1);
    const second = store.commit(APP, 1);
    expect(second).toBe(first);
    // Appends during and after the commit are refused, for known and new partitions alike.
    expect(store.accept(APP, 1)).toBeUndefined();
    expect(await push(store, key(0), randomBytes(10))).toBe('STAGE_ENDED');
    const a = await first;
    expect(await push(store, key(0), randomBytes(10))).toBe('STAGE_ENDED');
    expect(await push(store, key(5), randomBytes(10))).toBe('STAGE_ENDED');
    const b = await store.commit(APP, 1);
    expect(b).toEqual(a);
    expect(a.files.map((f) => f.index.fileLength)).toEqual([3000, 3000]);
    for (const dir of dirs) expect(existsSync(dataPath(dir, key(5)))).toBe(false);
    // Committing a shuffle with no data answers an empty result.
    expect(await store.commit(APP, 77)).toEqual({ files: [], failed: [] });
  });

  it('answers SOFT_SPLIT once a file passes epochRotateBytes, still storing the slice', async () => {
    const { store } = makeStore();
    const rotate = 64 * 1024;
    const slices = [30_000, 30_000, 30_000, 10].map((n) => randomBytes(n));
    const statuses: WireStatusName[] = [];
    for (const s of slices) statuses.push(await push(store, key(0), s, rotate));
    expect(statuses).toEqual(['OK', 'OK', 'SOFT_SPLIT', 'SOFT_SPLIT']);
    // The next epoch of the same partition is a new file: OK again.
    const next = randomBytes(30_000);
    expect(await push(store, key(0, 1), next, rotate)).toBe('OK');
    const { files } = await store.commit(APP, 1);
    expect(readFileSync(files[0]!.location).equals(Buffer.concat(slices))).toBe(true);
    expect(readFileSync(files[1]!.location).equals(next)).toBe(true);
  });

  it('destroyShuffle and destroyApp delete the files on every disk and count the bytes', async () => {
    const { store, memory, dirs } = makeStore();
    const expected = new Map<string, Buffer[]>();
    for (let p = 0; p < 4; p++) await appendAll(store, expected, key(p, 0, 1), [50_000, 90_000]);
    for (let p = 0; p < 3; p++) await appendAll(store, expected, key(p, 0, 2), [20_000]);
    await appendAll(store, expected, key(0, 0, 1, 'other-app'), [12_345]);
    await store.commit(APP, 1);
    await store.commit('other-app', 1);
    // Shuffle 3 is not committed: one write reached the disk, the rest is still buffered.
    await appendAll(store, expected, key(0, 0, 3), [BUFFER_BYTES + 1000, 10]);
    await expect.poll(() => memory.usedBytes).toBe(1010 + 20_000 * 3);
    expect(store.flushQueueBytes).toBe(0);
    expect(heldIds(store)).toEqual(
      expect.arrayContaining([
        { appId: APP, shuffleId: 1 },
        { appId: APP, shuffleId: 2 },
        { appId: APP, shuffleId: 3 },
        { appId: 'other-app', shuffleId: 1 },
      ]),
    );
    const shuffleBytes = (s: number) => dirs.reduce((n, d) => n + du(join(d, APP, String(s))), 0);
    const s1 = shuffleBytes(1);
    // 4 data files of 140000 bytes and 4 indexes of 24 + 8 * 2 chunks + 4 bytes (chunks
    // start on slice boundaries: 0 and 50000); the markers are empty.
    expect(s1).toBe(4 * 140_000 + 4 * (28 + 8 * 2));

    expect(await store.destroyShuffle(APP, 1)).toBe(s1);
    for (const d of dirs) expect(existsSync(join(d, APP, '1'))).toBe(false);
    expect(store.committedFile(key(0, 0, 1))).toBeUndefined();
    expect(store.isCommitted(APP, 1)).toBe(false);
    expect(heldIds(store)).not.toContainEqual({ appId: APP, shuffleId: 1 });
    expect(await store.destroyShuffle(APP, 1)).toBe(0); // again: nothing left
    // Pushes already on their way for the deleted shuffle do not recreate it.
    expect(await push(store, key(0, 0, 1), randomBytes(10))).toBe('UNKNOWN_SHUFFLE');
    for (const d of dirs) expect(existsSync(join(d, APP, '1'))).toBe(false);

    // Shuffle 2 is only buffered (its directories hold the empty ACCEPTED markers); shuffle 3
    // has its one aligned write on disk. destroyApp's count of it: see the it.fails below.
    expect(shuffleBytes(2)).toBe(0);
    expect(shuffleBytes(3)).toBe(BUFFER_BYTES);
    expect(await store.destroyApp(APP)).toBeLessThanOrEqual(BUFFER_BYTES);
    for (const d of dirs) expect(existsSync(join(d, APP))).toBe(false);
    expect(heldIds(store)).toEqual([{ appId: 'other-app', shuffleId: 1 }]);
    // The buffered bytes of shuffles 2 (none: committed) and 3 (discarded) are released.
    expect(memory.usedBytes).toBe(0);
    // The other app is untouched.
    const other = store.committedFile(key(0, 0, 1, 'other-app'))!;
    expect(
      readFileSync(other.location).equals(
        expected.get(JSON.stringify(key(0, 0, 1, 'other-app')))![0]!,
      ),
    ).toBe(true);
  });

  // The bytes of an uncommitted file count too (DestroyShuffleResponse.bytesDeleted), though
  // discarding its writer is what deletes it.
  it('destroyShuffle counts the bytes of an uncommitted file it deletes', async () => {
    const { store, dirs } = makeStore({ disks: 1 });
    await appendAll(store, new Map(), key(0), [BUFFER_BYTES + 1000]);
    await expect.poll(() => existsSync(dataPath(dirs[0]!, key(0)))).toBe(true);
    await expect.poll(() => statSync(dataPath(dirs[0]!, key(0))).size).toBe(BUFFER_BYTES);
    expect(await store.destroyShuffle(APP, 1)).toBe(BUFFER_BYTES);
  });

  it('reload() serves committed files again and skips those that do not check out', async () => {
    const first = makeStore();
    const expected = new Map<string, Buffer[]>();
    for (let p = 0; p < 6; p++)
      await appendAll(first.store, expected, key(p), [10_000 + p, 70_000]);
    const committed = await first.store.commit(APP, 1);
    // An uncommitted shuffle: acked (its ACCEPTED trace is on disk), never committed.
    await appendAll(first.store, expected, key(0, 0, 2), [BUFFER_BYTES * 2]);
    await expect.poll(() => first.memory.usedBytes).toBe(0); // both writes done
    await first.store.close(); // the worker stops: nothing more is written
    const [truncated, corrupt] = [committed.files[1]!, committed.files[4]!];
    truncateSync(truncated.location, truncated.index.fileLength - 1);
    const corruptIndex = indexPath((corrupt.storage as LocalDisk).dir, corrupt);
    const bytes = readFileSync(corruptIndex);
    bytes[12]! ^= 0x01; // in fileLength: caught by the checksum
    writeFileSync(corruptIndex, bytes);
    // An index whose data file is missing, and a name that is not an index at all.
    writeFileSync(
      indexPath(first.dirs[0]!, key(40)),
      encodeIndex({ fileLength: 5, fileCrc32: 0, chunkStarts: [0] }),
    );
    writeFileSync(join(first.dirs[0]!, APP, '1', 'notes.txt'), 'x');

    const second = makeStore({ root: first.root });
    // The shuffle that was never committed is marked lost (restart = its acked data is gone).
    expect(await second.store.reload()).toEqual({ files: 4, skipped: 3, lost: 1 });
    for (const f of committed.files) {
      const served = second.store.committedFile(f);
      if (f === truncated || f === corrupt) {
        expect(served).toBeUndefined();
        continue;
      }
      expect(plain(served!)).toEqual(plain(f));
      // Served from the new process's disk with the same directory.
      expect(second.disks).toContain(served!.storage);
      expect((served!.storage as LocalDisk).dir).toBe((f.storage as LocalDisk).dir);
      const want = Buffer.concat(expected.get(JSON.stringify(key(f.partition, f.epoch)))!);
      expect(readFileSync(served!.location).equals(want)).toBe(true);
    }
    expect(second.store.committedFile(key(40))).toBeUndefined();
    expect(second.store.isCommitted(APP, 1)).toBe(true);
    expect(second.store.isCommitDone(APP, 1)).toBe(true);
    expect(await push(second.store, key(0), randomBytes(10))).toBe('STAGE_ENDED');
    // The uncommitted shuffle is not served but is held, so the manager can order it deleted.
    expect(second.store.committedFile(key(0, 0, 2))).toBeUndefined();
    expect(second.store.isCommitted(APP, 2)).toBe(false);
    // Its sizes are those of the files that check out; the lost one reports none.
    const served = committed.files.filter((f) => f !== truncated && f !== corrupt);
    const servedBytes = served.reduce((n, f) => n + f.index.fileLength, 0);
    expect(second.store.held()).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          appId: APP,
          shuffleId: 1,
          committed: true,
          bytesPushed: servedBytes,
          bytesCommitted: servedBytes,
          partitionFiles: served.length,
          largestPartitionBytes: Math.max(...served.map((f) => f.index.fileLength)),
        }),
        expect.objectContaining({ appId: APP, shuffleId: 2, committed: false, bytesPushed: 0 }),
      ]),
    );
    // Its pushes move elsewhere and its commit reports the loss.
    expect(await push(second.store, key(0, 0, 2), randomBytes(10))).toBe('HARD_SPLIT');
    await expect(second.store.commit(APP, 2)).rejects.toMatchObject({
      code: 'SLUICE_ERR_SHUFFLE_DATA_LOST',
    });
  });

  it('reload() serves a shuffle only when every storage holding it has the COMMITTED marker', async () => {
    const first = makeStore();
    const expected = new Map<string, Buffer[]>();
    // Shuffle 1 on both disks; shuffle 2 recorded only on d1 (d2 was failing when it began).
    for (let p = 0; p < 4; p++) await appendAll(first.store, expected, key(p, 0, 1), [5000]);
    writeFileSync(join(first.dirs[1]!, FAULT_FILE), '');
    await first.health.check();
    expect(first.health.state(first.disks[1]!)).toBe('failing');
    for (let p = 0; p < 3; p++) await appendAll(first.store, expected, key(p, 0, 2), [7000]);
    rmSync(join(first.dirs[1]!, FAULT_FILE));
    const c1 = await first.store.commit(APP, 1);
    const c2 = await first.store.commit(APP, 2);
    expect(new Set(c1.files.map((f) => f.storage))).toEqual(new Set(first.disks));
    expect(new Set(c2.files.map((f) => f.storage))).toEqual(new Set([first.disks[0]]));
    // d2 never held shuffle 2: no directory of it there.
    expect(existsSync(shuffleDir(first.dirs[1]!, APP, 2))).toBe(false);
    // A commit that did not finish on d2 for shuffle 1: its marker is missing there.
    rmSync(join(shuffleDir(first.dirs[1]!, APP, 1), COMMITTED_MARKER));
    await first.store.close();

    const second = makeStore({ root: first.root });
    expect(await second.store.reload()).toEqual({ files: 3, skipped: 0, lost: 1 });
    // Shuffle 1 is lost, even its files on d1 whose marker is there.
    for (const f of c1.files) expect(second.store.committedFile(f)).toBeUndefined();
    await expect(second.store.commit(APP, 1)).rejects.toMatchObject({
      code: 'SLUICE_ERR_SHUFFLE_DATA_LOST',
    });
    // Shuffle 2 is served: the only storage that holds it has the marker.
    for (const f of c2.files) {
      expect(plain(second.store.committedFile(f)!)).toEqual(plain(f));
      const want = Buffer.concat(expected.get(JSON.stringify(key(f.partition, 0, 2)))!);
      expect(readFileSync(f.location).equals(want)).toBe(true);
    }
  });

  describe('choice of a storage for a new file', () => {
    it('a failing disk gets no new file, even with the shorter write queue', async () => {
      // d1 is slow (its writes stay queued), d2 fails.
      const { store, dirs, disks, health } = makeStore({
        diskOptions: (i) => (i === 0 ? { throttleBytesPerSec: 64 * 1024 } : {}),
      });
      const [d1, d2] = [disks[0]!, disks[1]!];
      writeFileSync(join(dirs[1]!, FAULT_FILE), '');
      await health.check();
      expect(health.state(d1)).toBe('healthy');
      expect(health.state(d2)).toBe('failing');
      // The ACCEPTED trace goes on every disk that is not failing: d1 only.
      await store.accept(APP, 1);
      expect(existsSync(join(shuffleDir(dirs[0]!, APP, 1), ACCEPTED_MARKER))).toBe(true);
      expect(existsSync(join(shuffleDir(dirs[1]!, APP, 1), ACCEPTED_MARKER))).toBe(false);
      // A full buffer: one (throttled, ~1 s) write queued on d1.
      const slices = new Map<number, Buffer>([[0, randomBytes(BUFFER_BYTES + 10)]]);
      expect(await push(store, key(0), slices.get(0)!)).toBe('OK');
      expect(writerOf(store, key(0)).storage).toBe(d1);
      await expect.poll(() => d1.queuedBytes).toBeGreaterThan(0);
      for (let p = 1; p <= 5; p++) {
        expect(d2.queuedBytes).toBeLessThan(d1.queuedBytes);
        slices.set(p, randomBytes(1000 + p));
        expect(await push(store, key(p), slices.get(p)!)).toBe('OK');
        expect(writerOf(store, key(p)).storage, `partition ${p}`).toBe(d1);
      }
      // Once d2 works again, the shorter queue wins: the next new file goes there.
      rmSync(join(dirs[1]!, FAULT_FILE));
      await health.check();
      expect(health.state(d2)).toBe('healthy');
      expect(d2.queuedBytes).toBeLessThan(d1.queuedBytes);
      slices.set(6, randomBytes(3000));
      expect(await push(store, key(6), slices.get(6)!)).toBe('OK');
      expect(writerOf(store, key(6)).storage).toBe(d2);

      const { files, failed } = await store.commit(APP, 1);
      expect(failed).toEqual([]);
      expect(files.map((f) => [f.partition, f.storage])).toEqual([
        [0, d1],
        [1, d1],
        [2, d1],
        [3, d1],
        [4, d1],
        [5, d1],
        [6, d2],
      ]);
      for (const f of files)
        expect(readFileSync(f.location).equals(slices.get(f.partition)!)).toBe(true);
    });

    it("answers 'no-storage' (FAILED) for a new file while every disk is failing", async () => {
      const { store, dirs, disks, health } = makeStore();
      await store.accept(APP, 1);
      const before = randomBytes(5000);
      expect(await push(store, key(0), before)).toBe('OK');
      for (const d of dirs) writeFileSync(join(d, FAULT_FILE), '');
      await health.check();
      for (const d of disks) expect(health.state(d)).toBe('failing');
      expect(store.append(key(1), randomBytes(100))).toBe('no-storage');
      expect(await push(store, key(2), randomBytes(100))).toBe('FAILED');
      expect([...store.writers()].map((w) => w.key.partition)).toEqual([0]);
      // Both disks pass their probe again: new files are taken.
      for (const d of dirs) rmSync(join(d, FAULT_FILE));
      await health.check();
      const after = randomBytes(7000);
      expect(await push(store, key(1), after)).toBe('OK');
      const { files } = await store.commit(APP, 1);
      expect(files.map((f) => f.partition)).toEqual([0, 1]);
      expect(readFileSync(files[0]!.location).equals(before)).toBe(true);
      expect(readFileSync(files[1]!.location).equals(after)).toBe(true);
    });

    it('a disk above the watermark gets no new file while another is healthy, but is used when all are', async () => {
      const used = [0.95, 0.5];
      // d2 is slow (its writes stay queued): with both above the watermark, the shorter
      // queue (d1's) decides.
      const { store, disks, storages, health } = makeStore({
        highWatermark: 0.9,
        diskOptions: (i) => (i === 1 ? { throttleBytesPerSec: 64 * 1024 } : {}),
        wrap: (disk, i) => withOverrides(disk, { usage: async () => usageOf(used[i]!) }),
      });
      const [s1, s2] = [storages[0]!, storages[1]!];
      await health.check();
      expect(health.state(s1)).toBe('high-usage');
      expect(health.state(s2)).toBe('healthy');
      const slices = new Map<number, Buffer>();
      for (let p = 0; p < 4; p++) {
        slices.set(p, randomBytes(p === 0 ? BUFFER_BYTES + 10 : 2000));
        expect(await push(store, key(p), slices.get(p)!)).toBe('OK');
        expect(writerOf(store, key(p)).storage, `partition ${p}`).toBe(s2);
      }
      await expect.poll(() => disks[1]!.queuedBytes).toBeGreaterThan(0);
      used[1] = 0.97;
      await health.check();
      expect(health.state(s2)).toBe('high-usage');
      slices.set(4, randomBytes(3000));
      expect(await push(store, key(4), slices.get(4)!)).toBe('OK');
      expect(writerOf(store, key(4)).storage).toBe(s1);
      const { files, failed } = await store.commit(APP, 1);
      expect(failed).toEqual([]);
      expect(files.map((f) => [f.partition, f.storage])).toEqual([
        [0, s2],
        [1, s2],
        [2, s2],
        [3, s2],
        [4, s1],
      ]);
      for (const f of files)
        expect(readFileSync(f.location).equals(slices.get(f.partition)!)).toBe(true);
    });

    // With every disk above its watermark and equal queues, new files still take turns.
    it('takes turns between disks that are all above the watermark', async () => {
      const { store, storages, health } = makeStore({
        highWatermark: 0.9,
        wrap: (disk) => withOverrides(disk, { usage: async () => usageOf(0.95) }),
      });
      await health.check();
      for (const s of storages) expect(health.state(s)).toBe('high-usage');
      for (let p = 0; p < 6; p++) expect(await push(store, key(p), randomBytes(100))).toBe('OK');
      const chosen = [...store.writers()].map((w) => w.storage);
      expect(new Set(chosen)).toEqual(new Set(storages));
    });
  });
});
