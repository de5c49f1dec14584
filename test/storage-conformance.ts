// What every storage tier must do (src/worker/storage/storage.ts), as one suite each tier's
// test file runs against the real thing: a local disk, HDFS (MiniDFSCluster), S3 (Ceph RGW).
// Writes follow the writer's contract (in order, whole writeAlignment multiples but the last,
// buffers from takeBuffers); commit makes the bytes readable with exactly the index's length;
// list() finds committed files, markers and nothing half-written; delete removes everything
// and says how much.
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { PartitionIndex } from '../src/worker/storage/index-file.js';
import type { PartitionFileKey } from '../src/worker/storage/layout.js';
import type { Storage, WritableFile } from '../src/worker/storage/storage.js';

export interface ConformanceSetup {
  /** A storage on an empty root. Called once per test. */
  readonly storage: () => Promise<Storage>;
  /** A second instance on the same root (a restarted worker). */
  readonly reopen: () => Promise<Storage>;
}

let nextApp = 0;
const appName = (name: string) => `conf-${name}-${process.pid}-${nextApp++}`;

/** Writes `data` the way PartitionWriter does: full buffers, the rest in a last write. */
async function writeAll(storage: Storage, file: WritableFile, data: Buffer): Promise<void> {
  const size = storage.bufferBytes;
  const writes: Promise<void>[] = [];
  for (let at = 0; at < data.length;) {
    const length = Math.min(size, data.length - at);
    const bufs = storage.buffers.take(length);
    let filled = 0;
    for (const b of bufs) {
      if (filled >= length) break;
      filled += data.copy(b, 0, at + filled, at + length);
    }
    // Up to writesInFlight at once, in order, like the flusher.
    writes.push(file.write(bufs, length, at).finally(() => storage.buffers.give(bufs)));
    if (writes.length >= storage.writesInFlight) await writes.shift();
    at += length;
  }
  await Promise.all(writes);
}

function indexOf(data: Buffer, chunkBytes: number): PartitionIndex {
  const chunkStarts: number[] = [];
  for (let at = 0; at < data.length; at += chunkBytes) chunkStarts.push(at);
  return { fileLength: data.length, fileCrc32: crc32(data), chunkStarts };
}

async function readAll(
  storage: Storage,
  key: PartitionFileKey,
  location: string,
  index: PartitionIndex,
) {
  const file = await storage.openRead({ ...key, location, index });
  try {
    const { body, release } = await file.read(0, index.fileLength);
    const copy = Buffer.from(body);
    release();
    return copy;
  } finally {
    await file.close();
  }
}

export function storageConformance(
  name: string,
  setup: ConformanceSetup,
  timeoutMs = 60_000,
): void {
  describe(`${name}: the storage contract`, () => {
    it(
      'commits a file written in several writes; lists it once committed; reads any range back exactly',
      async () => {
        const storage = await setup.storage();
        const appId = appName('rw');
        const key = { appId, shuffleId: 3, partition: 7, epoch: 1 };
        const data = randomBytes(2 * storage.bufferBytes + 1000);
        const index = indexOf(data, Math.ceil(data.length / 3));
        await storage.markAccepted(appId, 3);
        const file = await storage.create(key);
        await writeAll(storage, file, data);
        await file.commit(index, true);

        // Before the COMMITTED marker: listed, not committed (a restart would call it lost).
        let found = (await setup.reopen().then((s) => s.list())).find((x) => x.appId === appId);
        expect(found?.committed).toBe(false);
        await storage.markCommitted(appId, 3);
        const reopened = await setup.reopen();
        found = (await reopened.list()).find((x) => x.appId === appId);
        expect(found).toMatchObject({ appId, shuffleId: 3, committed: true, skipped: 0 });
        expect(found!.files).toHaveLength(1);
        const stored = found!.files[0]!;
        expect(stored).toMatchObject(key);
        expect(stored.index).toEqual(index);
        expect(stored.location).toBe(file.location);

        expect((await readAll(reopened, key, stored.location, index)).equals(data)).toBe(true);
        const reader = await reopened.openRead(stored);
        try {
          for (const [from, length] of [
            [0, 1],
            [1, 4095],
            [storage.bufferBytes - 3, 10],
            [data.length - 1000, 1000],
            [data.length - 1, 1],
          ] as const) {
            const { body, release } = await reader.read(from, length);
            expect(body.equals(data.subarray(from, from + length)), `range ${from}+${length}`).toBe(
              true,
            );
            release();
          }
          // Past the end: the file is shorter than asked, CORRUPT_FILE.
          await expect(reader.read(data.length - 10, 20)).rejects.toMatchObject({
            status: 'CORRUPT_FILE',
          });
        } finally {
          await reader.close();
        }
        await storage.deleteApp(appId);
      },
      timeoutMs,
    );

    it(
      'commits an empty file, and one of a single short write',
      async () => {
        const storage = await setup.storage();
        const appId = appName('small');
        await storage.markAccepted(appId, 0);
        const empty = await storage.create({ appId, shuffleId: 0, partition: 0, epoch: 0 });
        await empty.commit({ fileLength: 0, fileCrc32: 0, chunkStarts: [] }, true);
        const small = { appId, shuffleId: 0, partition: 1, epoch: 0 };
        const data = randomBytes(777);
        const file = await storage.create(small);
        await writeAll(storage, file, data);
        await file.commit(indexOf(data, 1 << 20), true);
        await storage.markCommitted(appId, 0);
        const found = (await (await setup.reopen()).list()).find((x) => x.appId === appId)!;
        expect(found.committed).toBe(true);
        expect(found.files.map((f) => [f.partition, f.index.fileLength]).sort()).toEqual([
          [0, 0],
          [1, 777],
        ]);
        const stored = found.files.find((f) => f.partition === 1)!;
        expect((await readAll(storage, small, stored.location, stored.index)).equals(data)).toBe(
          true,
        );
        await storage.deleteApp(appId);
      },
      timeoutMs,
    );

    it(
      'never lists what was aborted or not committed as a file',
      async () => {
        const storage = await setup.storage();
        const appId = appName('abort');
        await storage.markAccepted(appId, 1);
        const aborted = await storage.create({ appId, shuffleId: 1, partition: 0, epoch: 0 });
        await writeAll(storage, aborted, randomBytes(storage.bufferBytes + 10));
        await aborted.abort();
        await aborted.abort(); // idempotent
        const open = await storage.create({ appId, shuffleId: 1, partition: 1, epoch: 0 });
        await writeAll(storage, open, randomBytes(storage.bufferBytes));
        // Written, never committed: no index, so not a file.
        const found = (await (await setup.reopen()).list()).find((x) => x.appId === appId)!;
        expect(found).toMatchObject({ committed: false, files: [] });
        await open.abort();
        await storage.deleteApp(appId);
      },
      timeoutMs,
    );

    it(
      'deletes a shuffle, then an app, reporting the bytes; deleting what is not there is 0',
      async () => {
        const storage = await setup.storage();
        const appId = appName('del');
        let total = 0;
        for (const shuffleId of [1, 2]) {
          await storage.markAccepted(appId, shuffleId);
          const data = randomBytes(5000 + shuffleId);
          const file = await storage.create({ appId, shuffleId, partition: 0, epoch: 0 });
          await writeAll(storage, file, data);
          await file.commit(indexOf(data, 4096), true);
          await storage.markCommitted(appId, shuffleId);
          total += data.length;
        }
        const shuffle1 = await storage.deleteShuffle(appId, 1);
        expect(shuffle1).toBeGreaterThanOrEqual(5001); // data, plus index and markers
        let left = (await storage.list()).filter((x) => x.appId === appId);
        expect(left.map((x) => x.shuffleId)).toEqual([2]);
        const rest = await storage.deleteApp(appId);
        expect(rest).toBeGreaterThanOrEqual(5002);
        expect(shuffle1 + rest).toBeGreaterThanOrEqual(total);
        left = (await storage.list()).filter((x) => x.appId === appId);
        expect(left).toEqual([]);
        expect(await storage.deleteShuffle(appId, 9)).toBe(0);
        expect(await storage.deleteApp(appName('never'))).toBe(0);
      },
      timeoutMs,
    );

    it(
      'probes and reports its usage',
      async () => {
        const storage = await setup.storage();
        await storage.probe();
        const usage = await storage.usage();
        expect(usage.freeBytes).toBeGreaterThanOrEqual(0);
        expect(usage.freeBytes).toBeLessThanOrEqual(usage.capacityBytes || Infinity);
        expect(storage.oldestOperationMs()).toBe(0);
        expect(storage.queuedBytes).toBe(0);
      },
      timeoutMs,
    );
  });
}
