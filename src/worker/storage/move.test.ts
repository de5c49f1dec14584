// A partition file that passes storage.remoteAfterBytes moves to the remote tier
// (PartitionWriter.moveTo): what was written is copied there, the rest of the pushes go on
// there, and the committed file holds every byte in order. The "remote tier" here is a second
// real local disk presented as one (withOverrides: kind, name and, for the S3 case, a part-
// sized writeAlignment), so the move itself is what is tested; the real HDFS and S3 tiers
// are tested in test/hdfs-storage.test.ts and test/s3-storage.test.ts.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { native } from '../../common/native.js';
import { MemoryManager } from '../memory/memory-manager.js';
import { withOverrides } from './fake-storage.js';
import { dataPath } from './layout.js';
import { LocalDisk } from './local-disk.js';
import { type PartitionStore } from './partition-store.js';
import { PartitionWriter } from './partition-writer.js';
import type { Storage } from './storage.js';
import { storeFixture } from './store-fixture.js';

const KiB = 1024;
const KEY = { appId: 'app-move', shuffleId: 2, partition: 5, epoch: 0 };

describe('moving a partition file to the remote tier', () => {
  const roots: string[] = [];
  const stores: PartitionStore[] = [];
  afterEach(async () => {
    // Writes still in flight after a failed assertion would recreate files in removed dirs.
    await Promise.allSettled(stores.splice(0).map((s) => s.close()));
    for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
  });

  function disks(bufferBytes: number, remoteBufferBytes = bufferBytes) {
    const root = mkdtempSync(join(tmpdir(), 'sluice-move-'));
    roots.push(root);
    const make = (name: string, bytes: number) =>
      new LocalDisk({
        dir: join(root, name),
        writesInFlight: 2,
        directIo: true,
        bufferBytes: bytes,
        native: native(),
      });
    return { local: make('local', bufferBytes), remoteDisk: make('remote', remoteBufferBytes) };
  }

  it.each([
    ['any write length (HDFS-like)', 4 * KiB],
    ['whole 64 KiB parts only (S3-like): the tail goes back to memory', 64 * KiB],
  ])('%s: every byte, in order, on the new storage; the old file gone', async (_n, alignment) => {
    const { local, remoteDisk } = disks(16 * KiB, alignment);
    const remote: Storage = withOverrides(remoteDisk, {
      kind: 'hdfs',
      name: 'remote',
      writeAlignment: alignment,
    });
    const memory = new MemoryManager(64 * 1024 ** 2);
    const writer = new PartitionWriter({ key: KEY, storage: local, memory, chunkBytes: 32 * KiB });
    const slices = Array.from({ length: 40 }, (_, i) => randomBytes(3000 + i * 97));
    for (const s of slices.slice(0, 25)) {
      writer.append(s);
      writer.flush('full');
    }
    const moving = writer.moveTo(remote);
    expect(writer.moveStarted).toBe(true);
    for (const s of slices.slice(25, 32)) writer.append(s); // while moving: held in memory
    await moving;
    expect(writer.storage).toBe(remote);
    expect(existsSync(dataPath(local.dir, KEY))).toBe(false);
    for (const s of slices.slice(32)) {
      writer.append(s);
      writer.flush('full');
    }
    const index = await writer.finish(true);
    const all = Buffer.concat(slices);
    expect(readFileSync(dataPath(remoteDisk.dir, KEY)).equals(all)).toBe(true);
    expect(index.fileLength).toBe(all.length);
    expect(index.fileCrc32).toBe(crc32(all));
    expect(await writer.location()).toBe(dataPath(remoteDisk.dir, KEY));
    expect(memory.usedBytes).toBe(0);
  });

  it('the store moves a file past remoteAfterBytes, commits it there, and reads it back', async () => {
    const { local, remoteDisk } = disks(16 * KiB);
    const remote = withOverrides(remoteDisk, { kind: 's3', name: 'remote' });
    const storages = [local, remote];
    const memory = new MemoryManager(64 * 1024 ** 2);
    const { store } = storeFixture({
      storages,
      memory,
      chunkBytes: 32 * KiB,
      fsyncOnCommit: false,
      flushRatio: 0.9,
      remoteAfterBytes: 100 * KiB,
    });
    stores.push(store);
    await store.accept(KEY.appId, KEY.shuffleId);
    const small = { ...KEY, partition: 6 };
    const slices: Buffer[] = [];
    let writer: PartitionWriter | undefined;
    for (let i = 0; i < 60; i++) {
      const s = randomBytes(5000);
      slices.push(s);
      const result = store.append(KEY, s);
      if (typeof result === 'string') throw new Error(`append answered ${result}`);
      writer = result;
      // The move starts past 100 KiB and runs beside the pushes; let it finish mid-way.
      if (i === 40) await expect.poll(() => writer!.storage.name).toBe('remote');
    }
    const smallData = randomBytes(20 * KiB);
    store.append(small, smallData);
    const { files, failed } = await store.commit(KEY.appId, KEY.shuffleId);
    expect(failed).toEqual([]);
    const big = files.find((f) => f.partition === KEY.partition)!;
    expect(big.storage.name).toBe('remote');
    expect(readFileSync(big.location).equals(Buffer.concat(slices))).toBe(true);
    const other = files.find((f) => f.partition === small.partition)!;
    expect(other.storage.name).toBe(local.name); // below remoteAfterBytes: stays on the disk
    // Both storages got the COMMITTED marker: a restart serves the moved file too.
    const reopened = [
      new LocalDisk({
        dir: local.dir,
        writesInFlight: 1,
        directIo: true,
        bufferBytes: 16 * KiB,
        native: native(),
      }),
      remoteDisk,
    ];
    for (const s of reopened) {
      const listed = (await s.list()).find((x) => x.appId === KEY.appId)!;
      expect(listed.committed).toBe(true);
    }
    const reader = await store.openRead(big);
    const { body, release } = await reader.read(0, big.index.fileLength);
    expect(body.equals(Buffer.concat(slices))).toBe(true);
    release();
    await reader.close();
  });
});
