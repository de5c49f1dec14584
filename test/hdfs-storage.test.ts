// The HDFS storage against a real HDFS: a MiniDFSCluster with three DataNodes keeping every
// block on two (src/testing/hdfs.ts), 1 MiB blocks so files span several. The storage
// contract (storage-conformance.ts); files written in many queued writes and read back
// byte-exact; a restarted worker's listing (committed or not, bad indexes skipped); deletes
// checked with LISTSTATUS; WebHDFS errors mapped to their SluiceError codes; a stopped
// NameNode; and DataNodes stopped in the middle of a write, one of them the DataNode the
// APPEND's bytes are going to. An append lost half-way, with the file left open until a
// lease recovery, is played by a fake WebHDFS (a real one shows it only by chance). The
// cluster tests skip when the launcher is not built; they fail under CI, where
// .ci/install-hdfs builds it.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SluiceError } from '../src/common/errors.js';
import { native } from '../src/common/native.js';
import { SILENT_LOGGER } from '../src/common/obs/logger.js';
import { WireProtocolError } from '../src/common/wire/index.js';
import { hdfsAvailable, startMiniHdfs, type MiniHdfs } from '../src/testing/hdfs.js';
import {
  HdfsStorage,
  parseHdfsUrl,
  type HdfsStorageOptions,
} from '../src/worker/storage/hdfs/hdfs-storage.js';
import { mapHdfsError, WebHdfsClient } from '../src/worker/storage/hdfs/webhdfs-client.js';
import { encodeIndex, type PartitionIndex } from '../src/worker/storage/index-file.js';
import type { PartitionFileKey } from '../src/worker/storage/layout.js';
import type { Storage, WritableFile } from '../src/worker/storage/storage.js';
import { storageConformance } from './storage-conformance.js';

const available = hdfsAvailable();
if (!available && process.env.CI)
  throw new Error('the MiniDFSCluster launcher is not built: .ci/run must run .ci/install-hdfs');

const MiB = 1024 * 1024;

/** The error a promise rejects with. */
async function failure(p: Promise<unknown>): Promise<SluiceError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(SluiceError);
    return err as SluiceError;
  }
  throw new Error('expected a rejection');
}

describe('WebHDFS error mapping', () => {
  const base = { op: 'APPEND', path: '/r/a/1/0-0.data', user: 'sluice' };
  const remote = (exception: string, message = 'm') => ({
    ...base,
    status: 403,
    remote: { exception, message },
  });

  it('maps RemoteExceptions to codes, retriable only where the request may work later', () => {
    expect(mapHdfsError(remote('FileNotFoundException')).code).toBe('SLUICE_ERR_NOT_FOUND');
    expect(mapHdfsError(remote('FileAlreadyExistsException')).code).toBe(
      'SLUICE_ERR_ALREADY_EXISTS',
    );
    for (const e of ['SafeModeException', 'StandbyException', 'RetriableException']) {
      const err = mapHdfsError(remote(e));
      expect([err.code, err.retriable]).toEqual(['SLUICE_ERR_UNAVAILABLE', true]);
    }
    const denied = mapHdfsError(remote('AccessControlException', 'Permission denied: user=x'));
    expect(denied.code).toBe('SLUICE_ERR_CONFIG');
    expect(denied.message).toContain('"sluice"');
    expect(denied.message).toContain('/r/a/1/0-0.data');
    const other = mapHdfsError(remote('DSQuotaExceededException', 'quota of /r exceeded'));
    expect(other.code).toBe('SLUICE_ERR_WORKER_STORAGE');
    expect(other.message).toBe(
      'HDFS APPEND /r/a/1/0-0.data: DSQuotaExceededException: quota of /r exceeded',
    );
    // A DataNode's broken pipeline: another DataNode may take the request.
    const pipeline = { ...remote('IOException', 'All datanodes are bad'), dataNode: true };
    expect(mapHdfsError(pipeline).code).toBe('SLUICE_ERR_UNAVAILABLE');
    expect(mapHdfsError(remote('IOException')).code).toBe('SLUICE_ERR_WORKER_STORAGE');
  });

  it('maps socket errors and bare HTTP statuses', () => {
    const socket = (code: string) =>
      mapHdfsError({ ...base, cause: Object.assign(new Error(code), { code }) });
    expect(socket('ECONNREFUSED').code).toBe('SLUICE_ERR_UNAVAILABLE');
    expect(socket('ECONNRESET').code).toBe('SLUICE_ERR_UNAVAILABLE');
    expect(socket('EPROTO').code).toBe('SLUICE_ERR_WORKER_STORAGE');
    expect(mapHdfsError({ ...base, status: 503 }).code).toBe('SLUICE_ERR_UNAVAILABLE');
    expect(mapHdfsError({ ...base, status: 401 }).code).toBe('SLUICE_ERR_CONFIG');
    expect(mapHdfsError({ ...base, status: 400 }).code).toBe('SLUICE_ERR_WORKER_STORAGE');
  });

  it('refuses URLs that do not name the NameNode HTTP port', () => {
    expect(parseHdfsUrl('hdfs://nn:9870/a/b/')).toEqual({
      baseUrl: 'http://nn:9870',
      root: '/a/b',
    });
    expect(parseHdfsUrl('hdfs://nn:9870')).toEqual({ baseUrl: 'http://nn:9870', root: '/' });
    for (const url of ['hdfs://nn/a', 's3://b/p', 'not a url']) {
      expect(() => parseHdfsUrl(url)).toThrow(
        expect.objectContaining({ code: 'SLUICE_ERR_CONFIG' }),
      );
    }
  });
});

/**
 * A WebHDFS that loses an APPEND part-way, as a DataNode dying mid-write can: the first half
 * of the bytes lands, the connection drops, and the file stays open (under the dead writer's
 * lease, its length stale) until an APPEND asks for a lease recovery.
 */
async function flakyWebHdfs() {
  const ops: string[] = [];
  const state = { file: Buffer.alloc(0), open: false, failNextAppend: true };
  const server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://127.0.0.1');
    const op = url.searchParams.get('op')!;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const json = (status: number, value: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      if (url.searchParams.get('noredirect') === 'true') {
        url.searchParams.delete('noredirect');
        url.searchParams.set('datanode', 'true');
        json(200, { Location: `http://127.0.0.1:${port}${url.pathname}?${url.searchParams}` });
        return;
      }
      ops.push(`${op}${op === 'APPEND' ? ` ${body.length}` : ''}${state.open ? ' (open)' : ''}`);
      if (op === 'GET_BLOCK_LOCATIONS') {
        // While open, the NameNode knows only the length before the lost append.
        const fileLength = state.open ? 1000 : state.file.length;
        json(200, { LocatedBlocks: { fileLength, isUnderConstruction: state.open } });
      } else if (op === 'APPEND' && state.open) {
        state.open = false; // the recovery this asks for finishes by the next look
        json(403, {
          RemoteException: {
            exception: 'RecoveryInProgressException',
            message: 'lease recovery is in progress',
          },
        });
      } else if (op === 'APPEND' && state.failNextAppend) {
        state.failNextAppend = false;
        state.file = Buffer.concat([state.file, body.subarray(0, body.length / 2)]);
        state.open = true;
        req.socket.destroy();
      } else if (op === 'APPEND') {
        state.file = Buffer.concat([state.file, body]);
        json(200, {});
      } else {
        json(400, { RemoteException: { exception: 'IllegalArgumentException', message: op } });
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, state, ops, close: () => server.close() };
}

describe('WebHDFS APPEND retries', () => {
  it('after an append lost part-way, waits for the lease recovery and appends only what is missing', async () => {
    const fake = await flakyWebHdfs();
    const client = new WebHdfsClient({ baseUrl: fake.url, user: 'u', retryBaseDelayMs: 5 });
    try {
      const before = randomBytes(1000);
      fake.state.file = before;
      const data = randomBytes(4000);
      await client.append('/f', [data.subarray(0, 1500), data.subarray(1500)], 4000, 1000);
      expect(fake.state.file.equals(Buffer.concat([before, data]))).toBe(true);
      expect(fake.ops).toEqual([
        'APPEND 4000', // half lands, the connection drops
        'GET_BLOCK_LOCATIONS (open)',
        'APPEND 0 (open)', // asks for the lease recovery: RecoveryInProgressException
        'GET_BLOCK_LOCATIONS',
        'APPEND 2000', // the missing half
      ]);
    } finally {
      client.close();
      fake.close();
    }
  });
});

describe('HdfsStorage options', () => {
  it('refuses a buffer size that is not a multiple of 4 KiB, and a URL without a port', () => {
    const make = (over: Partial<HdfsStorageOptions>) => () =>
      new HdfsStorage({
        url: 'hdfs://nn:9870/x',
        native: native(),
        logger: SILENT_LOGGER,
        ...over,
      });
    expect(make({ bufferBytes: 100_000 })).toThrow(/storage\.remoteBufferBytes/);
    expect(make({ url: 'hdfs://nn/x' })).toThrow(
      expect.objectContaining({ code: 'SLUICE_ERR_CONFIG' }),
    );
    const storage = make({})();
    expect([storage.kind, storage.name, storage.writeAlignment]).toEqual([
      'hdfs',
      'hdfs://nn:9870/x',
      1,
    ]);
    expect(storage.bufferBytes).toBe(8 * MiB);
    void storage.close();
  });
});

describe.skipIf(!available)('HdfsStorage on a MiniDFSCluster (3 DataNodes, 2 replicas)', () => {
  let hdfs: MiniHdfs;
  let client: WebHdfsClient;
  const storages: Storage[] = [];
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
  let nextRoot = 0;

  beforeAll(async () => {
    hdfs = await startMiniHdfs({ dataNodes: 3, replication: 2, blockSize: MiB });
    client = new WebHdfsClient({ baseUrl: hdfs.webhdfsUrl, user: 'sluice' });
  }, 180_000);

  afterAll(async () => {
    await Promise.all(storages.map((s) => s.close()));
    client?.close();
    await hdfs?.close();
  }, 60_000);

  function open(root: string, over: Partial<HdfsStorageOptions> = {}): HdfsStorage {
    const storage = new HdfsStorage({
      url: hdfs.url(root),
      user: 'sluice',
      bufferBytes: 256 * 1024,
      writesInFlight: 3,
      native: native(),
      logger,
      ...over,
    });
    storages.push(storage);
    return storage;
  }

  function freshRoot(name: string): string {
    return `/${name}-${process.pid}-${nextRoot++}`;
  }

  /** Writes `data` in `size` pieces, every write queued at once (the file serializes them). */
  async function writeQueued(
    storage: Storage,
    file: WritableFile,
    data: Buffer,
    size: number,
    from = 0,
    to = data.length,
  ): Promise<void> {
    const writes: Promise<void>[] = [];
    for (let at = from; at < to; at += size) {
      const length = Math.min(size, to - at);
      const bufs = storage.buffers.take(length);
      let filled = 0;
      for (const b of bufs) {
        if (filled >= length) break;
        filled += data.copy(b, 0, at + filled, at + length);
      }
      writes.push(file.write(bufs, length, at).finally(() => storage.buffers.give(bufs)));
    }
    await Promise.all(writes);
  }

  function indexOf(data: Buffer, chunkBytes: number): PartitionIndex {
    const chunkStarts: number[] = [];
    for (let at = 0; at < data.length; at += chunkBytes) chunkStarts.push(at);
    return { fileLength: data.length, fileCrc32: crc32(data), chunkStarts };
  }

  describe('contract', () => {
    let root = '';
    storageConformance('HdfsStorage', {
      storage: async () => {
        root = freshRoot('conformance');
        return open(root);
      },
      reopen: async () => open(root),
    });
  });

  it('writes a file across blocks in many queued writes; reads any range back exactly; a restarted storage lists it', async () => {
    const root = freshRoot('rw');
    const storage = open(root, { bufferBytes: MiB });
    const key = { appId: 'app-rw', shuffleId: 4, partition: 11, epoch: 2 };
    const data = randomBytes(5 * MiB + 12_345);
    await storage.markAccepted(key.appId, key.shuffleId);
    const file = await storage.create(key);
    expect(file.location).toBe(hdfs.url(`${root.slice(1)}/app-rw/4/11-2.data`));
    // Odd sizes: no write ends on a block boundary.
    await writeQueued(storage, file, data, 700_001);
    expect(storage.queuedBytes).toBe(0);
    // A write that does not start where the file ends breaks the contract.
    const gap = storage.buffers.take(10);
    await expect(file.write(gap, 10, data.length + 1)).rejects.toMatchObject({
      code: 'SLUICE_ERR_INTERNAL',
    });
    storage.buffers.give(gap);
    const index = indexOf(data, MiB);
    await file.commit(index, true);
    expect((await client.getFileStatus(`${root}/app-rw/4/11-2.data`)).length).toBe(data.length);
    expect(await client.stat(`${root}/app-rw/4/11-2.index.tmp`)).toBeUndefined();

    // Not marked committed yet: listed as uncommitted.
    const before = await open(root).list();
    expect(before).toEqual([
      expect.objectContaining({ appId: 'app-rw', shuffleId: 4, committed: false, skipped: 0 }),
    ]);
    await storage.markCommitted(key.appId, key.shuffleId);

    const restarted = open(root);
    const [shuffle] = await restarted.list();
    expect(shuffle).toMatchObject({ appId: 'app-rw', shuffleId: 4, committed: true, skipped: 0 });
    expect(shuffle!.files).toEqual([{ ...key, location: file.location, index }]);
    const reader = await restarted.openRead(shuffle!.files[0]!);
    for (const [from, length] of [
      [0, data.length],
      [MiB - 7, 14],
      [3 * MiB + 1, 2 * MiB],
      [data.length - 1, 1],
    ] as const) {
      const { body, release } = await reader.read(from, length);
      expect(body.equals(data.subarray(from, from + length)), `range ${from}+${length}`).toBe(true);
      release();
    }
    const past = await reader.read(data.length + 100, 10).catch((err: unknown) => err);
    expect(past).toBeInstanceOf(WireProtocolError);
    expect(past).toMatchObject({ status: 'CORRUPT_FILE' });
    await reader.close();
  }, 60_000);

  it('skips a file whose index is damaged or whose data is shorter than its index, with a warning', async () => {
    const root = freshRoot('bad');
    const storage = open(root);
    const appId = 'app-bad';
    await storage.markAccepted(appId, 1);
    const datas = [randomBytes(3000), randomBytes(4000), randomBytes(5000)];
    for (const [partition, data] of datas.entries()) {
      const file = await storage.create({ appId, shuffleId: 1, partition, epoch: 0 });
      await writeQueued(storage, file, data, 1024);
      await file.commit(indexOf(data, 1024), true);
    }
    await storage.markCommitted(appId, 1);
    const dir = `${root}/${appId}/1`;
    // Partition 0: its index cut short. Partition 1: its data replaced by fewer bytes.
    const index0 = encodeIndex(indexOf(datas[0]!, 1024));
    await client.create(`${dir}/0-0.index`, [index0], index0.length - 5, { overwrite: true });
    await client.create(`${dir}/1-0.data`, [datas[1]!], 3999, { overwrite: true });
    // An index with no data file at all, and names that are not partition files.
    const index3 = encodeIndex(indexOf(randomBytes(10), 10));
    await client.create(`${dir}/3-0.index`, [index3], index3.length, { overwrite: true });
    await client.create(`${dir}/notes.txt`, [Buffer.from('x')], 1, { overwrite: true });
    await client.mkdirs(`${root}/${appId}/not-a-shuffle`);
    await client.mkdirs(`${root}/.probe`);

    warnings.length = 0;
    const listed = await open(root).list();
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ appId, shuffleId: 1, committed: true, skipped: 3 });
    expect(listed[0]!.files.map((f) => f.partition)).toEqual([2]);
    const skipped = warnings.filter((w) => w.msg.includes('does not check out'));
    expect(skipped.map((w) => w.file).sort()).toEqual(['0-0.index', '1-0.index', '3-0.index']);
  }, 60_000);

  it('deletes a shuffle and an app, returning their bytes; the directories are gone', async () => {
    const root = freshRoot('del');
    const storage = open(root);
    const appId = 'app-del';
    const sizes = [40_000, 70_000];
    for (const [shuffleId, size] of sizes.entries()) {
      await storage.markAccepted(appId, shuffleId);
      const data = randomBytes(size);
      const file = await storage.create({ appId, shuffleId, partition: 0, epoch: 0 });
      await writeQueued(storage, file, data, 16_384);
      await file.commit(indexOf(data, 8192), true);
      await storage.markCommitted(appId, shuffleId);
    }
    const indexBytes = encodeIndex(indexOf(randomBytes(40_000), 8192)).length;
    expect(await storage.deleteShuffle(appId, 0)).toBe(40_000 + indexBytes);
    expect((await client.listStatus(`${root}/${appId}`)).map((s) => s.pathSuffix)).toEqual(['1']);
    expect(await client.stat(`${root}/${appId}/0`)).toBeUndefined();
    expect(await storage.deleteApp(appId)).toBeGreaterThanOrEqual(70_000);
    expect(await client.listStatus(root)).toEqual([]);
    expect(await storage.deleteApp(appId)).toBe(0);
    expect(await storage.deleteShuffle(appId, 0)).toBe(0);
    expect(await storage.list()).toEqual([]);
  }, 60_000);

  it("probes, reports HDFS's capacity, and fails to probe a stopped NameNode until it is back", async () => {
    const storage = open(freshRoot('probe'), { retryAttempts: 2, retryBudgetMs: 2_000 });
    await storage.probe();
    expect(
      await client.listStatus(`${storage.name.replace(/^hdfs:\/\/[^/]+/, '')}/.probe`),
    ).toEqual([]);
    const usage = await storage.usage();
    expect(usage.capacityBytes).toBeGreaterThan(0);
    expect(usage.freeBytes).toBeGreaterThan(0);
    expect(usage.freeBytes).toBeLessThanOrEqual(usage.capacityBytes);

    await hdfs.stopNameNode();
    try {
      const err = await failure(storage.probe());
      expect(err.code).toBe('SLUICE_ERR_RETRIES_EXCEEDED');
      expect((err.cause as SluiceError).code).toBe('SLUICE_ERR_UNAVAILABLE');
      expect((err.cause as SluiceError).message).toContain('ECONNREFUSED');
      expect(storage.oldestOperationMs()).toBe(0);
    } finally {
      await hdfs.restartNameNode();
    }
    await storage.probe();
  }, 120_000);

  it('maps what HDFS refuses: missing files, existing files, permissions, other failures', async () => {
    const root = freshRoot('errors');
    await client.mkdirs(root);
    const missing = await failure(client.getFileStatus(`${root}/nope`));
    expect(missing.code).toBe('SLUICE_ERR_NOT_FOUND');
    expect(missing.message).toContain('FileNotFoundException');
    expect((await failure(client.open(`${root}/nope`, 0, 10))).code).toBe('SLUICE_ERR_NOT_FOUND');

    const one = Buffer.from('one');
    await client.create(`${root}/f`, [one], 3, { overwrite: false });
    const exists = await failure(client.create(`${root}/f`, [one], 3, { overwrite: false }));
    expect(exists.code).toBe('SLUICE_ERR_ALREADY_EXISTS');

    // alice's private directory: bob may not write there.
    const private_ = freshRoot('alice');
    const alice = new WebHdfsClient({ baseUrl: hdfs.webhdfsUrl, user: 'alice' });
    try {
      await alice.mkdirs(private_);
      const chmod = await fetch(
        `${hdfs.webhdfsUrl}/webhdfs/v1${private_}?op=SETPERMISSION&permission=700&user.name=alice`,
        { method: 'PUT' },
      );
      expect(chmod.status).toBe(200);
    } finally {
      alice.close();
    }
    const bob = open(`${private_}/sluice`, { user: 'bob' });
    const denied = await failure(bob.markAccepted('app', 1));
    expect(denied.code).toBe('SLUICE_ERR_CONFIG');
    expect(denied.retriable).toBe(false);
    expect(denied.message).toContain('user "bob"');
    expect(denied.message).toContain(`${private_}/sluice/app/1/ACCEPTED`);
    expect(denied.message).toContain('AccessControlException');
    await expect(bob.list()).rejects.toMatchObject({ code: 'SLUICE_ERR_CONFIG' });

    await client.mkdirs(`${root}/dir/sub`);
    const notEmpty = await failure(client.delete(`${root}/dir`, { recursive: false }));
    expect(notEmpty.code).toBe('SLUICE_ERR_WORKER_STORAGE');
    expect(notEmpty.message).toMatch(
      new RegExp(`^HDFS DELETE ${root}/dir: PathIsNotEmptyDirectoryException: .*non empty`),
    );

    // Nothing listens there: refused connections, retried, then given up.
    const nowhere = new WebHdfsClient({
      baseUrl: 'http://127.0.0.1:1',
      user: 'sluice',
      retryAttempts: 3,
      retryBaseDelayMs: 10,
    });
    const refused = await failure(nowhere.getFileStatus('/x'));
    nowhere.close();
    expect(refused.code).toBe('SLUICE_ERR_RETRIES_EXCEEDED');
    expect(refused.message).toContain('after 3 attempts');
    expect((refused.cause as SluiceError).code).toBe('SLUICE_ERR_UNAVAILABLE');
  }, 60_000);

  it('counts writes as queued until they end; close() ends the ones in flight', async () => {
    const storage = open(freshRoot('close'), { bufferBytes: 32 * MiB });
    const file = await storage.create({ appId: 'app-close', shuffleId: 0, partition: 0, epoch: 0 });
    const first = storage.buffers.take(24 * MiB);
    const second = storage.buffers.take(1000);
    const writes = [file.write(first, 24 * MiB, 0), file.write(second, 1000, 24 * MiB)];
    expect(storage.queuedBytes).toBe(24 * MiB + 1000);
    await storage.close();
    for (const write of writes) {
      await expect(write).rejects.toMatchObject({
        code: 'SLUICE_ERR_UNAVAILABLE',
        retriable: false,
      });
    }
    expect(storage.queuedBytes).toBe(0);
    expect(storage.oldestOperationMs()).toBe(0);
    storage.buffers.give([...first, ...second]);
  });

  it('commits byte-exact when a DataNode stops between writes, and when the one receiving an APPEND stops', async () => {
    const root = freshRoot('dn');
    const key: PartitionFileKey = { appId: 'app-dn', shuffleId: 0, partition: 0, epoch: 0 };
    const data = randomBytes(22 * MiB + 4321);
    let armed = false;
    let target = -1;
    let stopping: Promise<void> | undefined;
    const storage = open(root, {
      bufferBytes: 32 * MiB,
      // Stops the DataNode the NameNode just named for an APPEND, as the bytes go to it.
      onDataNode: (op, _path, url) => {
        if (!armed || op !== 'APPEND') return;
        armed = false;
        target = hdfs.dataNodes.findIndex((d) => d.httpPort === Number(url.port));
        stopping = hdfs.stopDataNode(target);
      },
    });
    const file = await storage.create(key);
    await writeQueued(storage, file, data, MiB, 0, 3 * MiB);

    // A DataNode stops between writes: the next appends go through pipeline recovery.
    await hdfs.stopDataNode(1);
    try {
      await writeQueued(storage, file, data, MiB, 3 * MiB, 6 * MiB);
    } finally {
      await hdfs.restartDataNode(1);
    }

    // The append fails part-way (or before a byte lands); its retry waits until HDFS has
    // closed the file, reads its length and appends exactly the bytes that are missing.
    warnings.length = 0;
    armed = true;
    try {
      await writeQueued(storage, file, data, 16 * MiB + 4321, 6 * MiB);
      await stopping;
      expect(target).toBeGreaterThanOrEqual(0);
      const index = indexOf(data, MiB);
      await file.commit(index, true);
      const reader = await storage.openRead({ ...key, location: file.location, index });
      const { body } = await reader.read(0, data.length);
      expect(body.length).toBe(data.length);
      expect(body.equals(data)).toBe(true);
      await reader.close();
    } finally {
      await stopping?.catch(() => undefined);
      if (target >= 0) await hdfs.restartDataNode(target);
    }
  }, 180_000);
});
