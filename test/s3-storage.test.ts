// The S3 storage against a real S3: Ceph's RADOS Gateway with three OSDs keeping every object
// on two (src/testing/ceph.ts). Multipart files written part by part and read back byte-exact,
// a restarted worker's listing (committed or not, bad indexes skipped), deleting a shuffle
// with an upload still open, wrong credentials and buckets, and an OSD killed in the middle of
// an upload; and the contract every storage keeps (storage-conformance.ts). Skips when Ceph
// is not installed; fails under CI, where .ci/install-ceph installs it.
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { crc32 } from 'node:zlib';
import {
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SluiceError } from '../src/common/errors.js';
import { native } from '../src/common/native.js';
import { SILENT_LOGGER } from '../src/common/obs/logger.js';
import { WireProtocolError } from '../src/common/wire/index.js';
import { cephAvailable, startCephRgw, type CephRgw } from '../src/testing/ceph.js';
import { waitFor } from '../src/testing/wait-for.js';
import { encodeIndex, type PartitionIndex } from '../src/worker/storage/index-file.js';
import type { PartitionFileKey } from '../src/worker/storage/layout.js';
import {
  MIN_PART_BYTES,
  S3Storage,
  type S3StorageOptions,
} from '../src/worker/storage/s3/s3-storage.js';
import type { StoredShuffle, WritableFile } from '../src/worker/storage/storage.js';
import { storageConformance } from './storage-conformance.js';

const available = cephAvailable();
if (!available && process.env.CI)
  throw new Error('Ceph is not installed: .ci/run must run .ci/install-ceph');

const BUCKET = 'sluice-s3-storage';
const PART = MIN_PART_BYTES;
const MiB = 1024 * 1024;

describe('S3Storage options', () => {
  it('refuses a part size under 5 MiB (S3 would refuse every part)', () => {
    const make = (partBytes: number) => () =>
      new S3Storage({
        url: `s3://${BUCKET}/x`,
        partBytes,
        native: native(),
        logger: SILENT_LOGGER,
      });
    expect(make(4 * MiB)).toThrow(expect.objectContaining({ code: 'SLUICE_ERR_CONFIG' }));
    expect(make(4 * MiB)).toThrow(/storage\.s3\.partBytes/);
    expect(make(5 * MiB + 1)).toThrow(expect.objectContaining({ code: 'SLUICE_ERR_CONFIG' }));
  });

  it('refuses a URL that is not s3://bucket/prefix', () => {
    const make = (url: string) => () =>
      new S3Storage({ url, native: native(), logger: SILENT_LOGGER });
    expect(make('hdfs://nn:9870/x')).toThrow(
      expect.objectContaining({ code: 'SLUICE_ERR_CONFIG' }),
    );
    expect(make('not a url')).toThrow(expect.objectContaining({ code: 'SLUICE_ERR_CONFIG' }));
  });
});

describe.skipIf(!available)('S3Storage on Ceph RGW (3 OSDs, 2 copies)', () => {
  let ceph: CephRgw;
  let s3: S3Client;
  const storages: S3Storage[] = [];
  const warnings: { msg: string; file?: string }[] = [];
  const logger = pino(
    { level: 'warn' },
    new Writable({
      write(line: Buffer, _enc, done) {
        warnings.push(JSON.parse(line.toString()) as { msg: string; file?: string });
        done();
      },
    }),
  );

  beforeAll(async () => {
    ceph = await startCephRgw({ osds: 3 });
    await ceph.createBucket(BUCKET);
    s3 = new S3Client({
      endpoint: ceph.endpoint,
      region: ceph.region,
      forcePathStyle: true,
      credentials: { accessKeyId: ceph.accessKeyId, secretAccessKey: ceph.secretAccessKey },
    });
  }, 180_000);

  afterAll(async () => {
    await Promise.all(storages.map((s) => s.close()));
    s3?.destroy();
    await ceph?.close();
  }, 60_000);

  function open(prefix: string, over: Partial<S3StorageOptions> = {}): S3Storage {
    const storage = new S3Storage({
      url: `s3://${BUCKET}/${prefix}`,
      endpoint: ceph.endpoint,
      region: ceph.region,
      credentials: { accessKeyId: ceph.accessKeyId, secretAccessKey: ceph.secretAccessKey },
      partBytes: PART,
      native: native(),
      logger,
      ...over,
    });
    storages.push(storage);
    return storage;
  }

  /** What the partition writer does: full parts in pooled buffers, writes in flight together. */
  async function writeParts(
    storage: S3Storage,
    file: WritableFile,
    data: Buffer,
    from = 0,
    to = data.length,
  ): Promise<void> {
    const writes: Promise<void>[] = [];
    for (let at = from; at < to; at += storage.writeAlignment) {
      const n = Math.min(storage.writeAlignment, to - at);
      const bufs = storage.buffers.take(n);
      let offset = at;
      for (const buf of bufs) offset += data.copy(buf, 0, offset, Math.min(to, at + n));
      writes.push(file.write(bufs, n, at).finally(() => storage.buffers.give(bufs)));
    }
    await Promise.all(writes);
  }

  function indexOf(data: Buffer, chunkBytes = 4 * MiB): PartitionIndex {
    const chunkStarts: number[] = [];
    for (let at = 0; at < data.length; at += chunkBytes) chunkStarts.push(at);
    return { fileLength: data.length, fileCrc32: crc32(data), chunkStarts };
  }

  async function writeFile(storage: S3Storage, key: PartitionFileKey, data: Buffer) {
    const file = await storage.create(key);
    await writeParts(storage, file, data);
    const index = indexOf(data);
    await file.commit(index, true);
    return { file, index };
  }

  async function keysUnder(prefix: string): Promise<string[]> {
    const out = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
    return (out.Contents ?? []).map((o) => o.Key!).sort();
  }

  async function uploadsUnder(prefix: string): Promise<string[]> {
    const out = await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: prefix }));
    return (out.Uploads ?? []).map((u) => u.Key!).sort();
  }

  async function readAll(storage: S3Storage, key: PartitionFileKey, index: PartitionIndex) {
    const reader = await storage.openRead({ ...key, location: '', index });
    try {
      const { body, release } = await reader.read(0, index.fileLength);
      release();
      return body;
    } finally {
      await reader.close();
    }
  }

  it('writes a file of several parts, commits it and reads ranges back byte-exact', async () => {
    const storage = open('multipart');
    expect(storage.writeAlignment).toBe(PART);
    expect(storage.bufferBytes).toBe(PART);
    const data = randomBytes(3 * PART + 12_345);
    const key = { appId: 'app-1', shuffleId: 7, partition: 3, epoch: 1 };
    const { file, index } = await writeFile(storage, key, data);
    expect(file.location).toBe(`s3://${BUCKET}/multipart/app-1/7/3-1.data`);
    const head = await s3.send(
      new HeadObjectCommand({ Bucket: BUCKET, Key: 'multipart/app-1/7/3-1.data' }),
    );
    expect(head.ContentLength).toBe(data.length);
    expect(await keysUnder('multipart/')).toEqual([
      'multipart/app-1/7/3-1.data',
      'multipart/app-1/7/3-1.index',
    ]);
    expect(await uploadsUnder('multipart/')).toEqual([]);

    const reader = await storage.openRead({ ...key, location: file.location, index });
    for (const [position, length] of [
      [0, 100],
      [PART - 10, 20],
      [2 * PART - 1, PART + 2],
      [data.length - 7, 7],
      [0, data.length],
    ] as const) {
      const { body } = await reader.read(position, length);
      expect(body.equals(data.subarray(position, position + length))).toBe(true);
    }
    expect((await reader.read(5, 0)).body.length).toBe(0);
    // Shorter than asked, and past the end: the file is shorter than its index says.
    for (const [position, length] of [
      [data.length - 10, 20],
      [data.length + 5, 10],
    ] as const) {
      const err = await reader.read(position, length).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WireProtocolError);
      expect(err).toMatchObject({ status: 'CORRUPT_FILE', code: 'SLUICE_ERR_CORRUPT_FILE' });
    }
    await reader.close();
    expect(storage.oldestOperationMs()).toBe(0);
    expect(storage.queuedBytes).toBe(0);
  });

  it('lists from a fresh storage on the same URL: indexes, markers, bad files skipped', async () => {
    const writer = open('reload');
    const good = randomBytes(PART + 99);
    const k1 = { appId: 'app', shuffleId: 1, partition: 0, epoch: 0 };
    const { index: goodIndex } = await writeFile(writer, k1, good);
    // A partition that got no data: an empty object, an index of length 0.
    const k2 = { ...k1, partition: 1 };
    await (await writer.create(k2)).commit({ fileLength: 0, fileCrc32: 0, chunkStarts: [] }, true);
    await writer.markAccepted('app', 1);
    await writer.markCommitted('app', 1);
    // Shuffle 2: accepted, a file committed, the shuffle's commit never finished.
    const k3 = { appId: 'app', shuffleId: 2, partition: 5, epoch: 2 };
    const { index: index3 } = await writeFile(writer, k3, randomBytes(1000));
    await writer.markAccepted('app', 2);
    // Shuffle 3: an index that does not decode and one whose data is shorter than it says.
    const put = (Key: string, Body: Buffer) =>
      s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body }));
    await put('reload/app/3/0-0.data', Buffer.alloc(10));
    await put('reload/app/3/0-0.index', Buffer.from('not an index'));
    await put('reload/app/3/1-0.data', Buffer.alloc(10));
    await put('reload/app/3/1-0.index', encodeIndex(indexOf(Buffer.alloc(11))));
    // Not a shuffle: ignored.
    await put('reload/app/tmp/0-0.index', Buffer.alloc(1));
    await writer.probe();

    warnings.length = 0;
    const reader = open('reload');
    const listed = await reader.list();
    const byId = (id: number) => listed.find((s) => s.shuffleId === id);
    expect(listed.map((s) => `${s.appId}/${s.shuffleId}`).sort()).toEqual([
      'app/1',
      'app/2',
      'app/3',
    ]);
    const one = byId(1)!;
    expect(one).toMatchObject({ committed: true, skipped: 0 });
    expect([...one.files].sort((a, b) => a.partition - b.partition)).toEqual([
      { ...k1, location: `s3://${BUCKET}/reload/app/1/0-0.data`, index: goodIndex },
      {
        ...k2,
        location: `s3://${BUCKET}/reload/app/1/1-0.data`,
        index: { fileLength: 0, fileCrc32: 0, chunkStarts: [] },
      },
    ]);
    expect(byId(2)).toEqual<StoredShuffle>({
      appId: 'app',
      shuffleId: 2,
      committed: false,
      files: [{ ...k3, location: `s3://${BUCKET}/reload/app/2/5-2.data`, index: index3 }],
      skipped: 0,
    });
    expect(byId(3)).toMatchObject({ committed: false, files: [], skipped: 2 });
    expect(warnings.map((w) => w.file).sort()).toEqual(['0-0.index', '1-0.index']);
    // The listed file reads back from the fresh storage.
    expect((await readAll(reader, k1, goodIndex)).equals(good)).toBe(true);
    expect(await keysUnder('reload/.probe/')).toEqual([]);
  });

  it('deleteShuffle removes every object and aborts unfinished uploads; deleteApp too', async () => {
    const storage = open('delete');
    const data = randomBytes(PART + 500);
    await writeFile(storage, { appId: 'a', shuffleId: 1, partition: 0, epoch: 0 }, data);
    await storage.markAccepted('a', 1);
    // A file still being written: one part uploaded, the upload open.
    const open1 = await storage.create({ appId: 'a', shuffleId: 1, partition: 1, epoch: 0 });
    await writeParts(storage, open1, randomBytes(PART));
    await writeFile(storage, { appId: 'a', shuffleId: 2, partition: 0, epoch: 0 }, data);
    const open2 = await storage.create({ appId: 'a', shuffleId: 2, partition: 9, epoch: 0 });
    await writeParts(storage, open2, randomBytes(PART));
    // A neighbour whose name starts like the app's: untouched.
    await writeFile(storage, { appId: 'a2', shuffleId: 1, partition: 0, epoch: 0 }, data);
    expect(await uploadsUnder('delete/a/')).toEqual(['delete/a/1/1-0.data', 'delete/a/2/9-0.data']);

    const indexBytes = encodeIndex(indexOf(data)).length;
    expect(await storage.deleteShuffle('a', 1)).toBe(data.length + indexBytes);
    expect(await keysUnder('delete/a/1/')).toEqual([]);
    expect(await uploadsUnder('delete/a/1/')).toEqual([]);
    expect(await keysUnder('delete/a/2/')).toHaveLength(2);

    expect(await storage.deleteApp('a')).toBe(data.length + indexBytes);
    expect(await keysUnder('delete/a/')).toEqual([]);
    expect(await uploadsUnder('delete/a/')).toEqual([]);
    expect(await keysUnder('delete/a2/')).toHaveLength(2);
    expect(await storage.deleteShuffle('nothing', 1)).toBe(0);
  });

  it('abort() gives up an upload in progress, and a committed file is removed too', async () => {
    const storage = open('abort');
    const file = await storage.create({ appId: 'a', shuffleId: 1, partition: 0, epoch: 0 });
    await writeParts(storage, file, randomBytes(PART));
    expect(await uploadsUnder('abort/')).toHaveLength(1);
    await Promise.all([file.abort(), file.abort()]);
    expect(await uploadsUnder('abort/')).toEqual([]);
    expect(await keysUnder('abort/')).toEqual([]);
    await expect(file.write(storage.buffers.take(), PART, PART)).rejects.toMatchObject({
      code: 'SLUICE_ERR_INTERNAL',
    });

    const { file: done } = await writeFile(
      storage,
      { appId: 'a', shuffleId: 1, partition: 1, epoch: 0 },
      randomBytes(100),
    );
    await done.abort();
    expect(await keysUnder('abort/')).toEqual([]);
  });

  it('rejects writes that break the position/length contract', async () => {
    const storage = open('contract');
    const file = await storage.create({ appId: 'a', shuffleId: 1, partition: 0, epoch: 0 });
    const bufs = storage.buffers.take();
    const rejected = (p: Promise<unknown>) =>
      expect(p).rejects.toMatchObject({ code: 'SLUICE_ERR_INTERNAL' });
    await rejected(file.write(bufs, PART, PART)); // not where the file ends
    await rejected(file.write(bufs, PART + 1, 0)); // more than a part
    await rejected(file.write(bufs, 0, 0)); // nothing
    await file.write(bufs, 100, 0); // a short write is the file's last
    await rejected(file.write(bufs, 100, 100));
    await rejected(file.commit({ fileLength: 99, fileCrc32: 0, chunkStarts: [0] }, true));
    storage.buffers.give(bufs);
    await file.abort();
    expect(await uploadsUnder('contract/')).toEqual([]);
  });

  it('wrong credentials or bucket: SLUICE_ERR_CONFIG naming bucket and endpoint; a missing key: NOT_FOUND', async () => {
    const cases: [string, Partial<S3StorageOptions>, RegExp][] = [
      [
        'wrong secret',
        { credentials: { accessKeyId: ceph.accessKeyId, secretAccessKey: 'wrong' } },
        /SignatureDoesNotMatch/,
      ],
      [
        'unknown key id',
        { credentials: { accessKeyId: 'NOSUCHKEY', secretAccessKey: 'wrong' } },
        /InvalidAccessKeyId/,
      ],
      ['unknown bucket', { url: 's3://no-such-bucket/x' }, /NoSuchBucket/],
    ];
    for (const [what, over, why] of cases) {
      const storage = open('config', over);
      const err = (await storage.probe().catch((e: unknown) => e)) as SluiceError;
      expect(err.code, what).toBe('SLUICE_ERR_CONFIG');
      expect(err.message, what).toMatch(why);
      expect(err.message, what).toContain(ceph.endpoint);
      expect(err.message, what).toContain('credentials given to the S3 storage');
      await expect(storage.list(), what).rejects.toMatchObject({ code: 'SLUICE_ERR_CONFIG' });
    }
    const storage = open('config');
    await storage.probe();
    expect(await storage.usage()).toEqual({ capacityBytes: 0, freeBytes: 0 });
    const index = { fileLength: 10, fileCrc32: 0, chunkStarts: [0] };
    const missing = { appId: 'a', shuffleId: 1, partition: 0, epoch: 0 };
    const reader = await storage.openRead({ ...missing, location: '', index });
    await expect(reader.read(0, 10)).rejects.toMatchObject({ code: 'SLUICE_ERR_NOT_FOUND' });
  });

  describe('contract', () => {
    let prefix = '';
    let n = 0;
    storageConformance('S3Storage', {
      storage: async () => {
        prefix = `conformance-${n++}`;
        return open(prefix);
      },
      reopen: async () => open(prefix),
    });
  });

  // Last: the cluster runs on two OSDs afterwards.
  it('one of three OSDs killed mid-upload: the file commits and reads back byte-exact', async () => {
    const storage = open('osd-kill');
    const data = randomBytes(7 * PART + 777);
    const key = { appId: 'a', shuffleId: 1, partition: 0, epoch: 0 };
    const file = await storage.create(key);
    await writeParts(storage, file, data, 0, 2 * PART);
    // Killed while parts 3 and 4 are on their way, then parts 5 to 8 on the two left.
    const inFlight = writeParts(storage, file, data, 2 * PART, 4 * PART);
    await ceph.killOsd(1);
    expect(ceph.osdPids[1]).toBeUndefined();
    await inFlight;
    await writeParts(storage, file, data, 4 * PART);
    const index = indexOf(data);
    await file.commit(index, true);
    expect((await readAll(storage, key, index)).equals(data)).toBe(true);
    const listed = await open('osd-kill').list();
    expect(listed[0]?.files[0]?.index).toEqual(index);
    // The cluster did notice: the writes went on with one copy of the PGs osd.1 held.
    await waitFor(async () => (await ceph.upOsds()) === 2, {
      timeoutMs: 30_000,
      intervalMs: 500,
      what: 'the monitor to mark osd.1 down',
    });
  }, 180_000);
});
