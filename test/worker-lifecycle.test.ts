// Worker lifecycle around its data (docs/architecture.md#lifecycle-of-one-shuffle, docs/architecture.md#cluster-manager, docs/architecture.md#worker): deletion ordered by the manager when
// an app expires or a shuffle is released, DestroyShuffle, epoch rotation (SOFT_SPLIT), and
// the graceful SIGTERM that answers HARD_SPLIT to new pushes, finishes its commit and
// exits 0.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AppId, ShuffleId } from '../src/common/ids.js';
import { ManagerClient } from '../src/common/proto/manager-client.js';
import { WorkerControlClient } from '../src/common/proto/worker-client.js';
import { WireStatusCode } from '../src/common/status-codes.js';
import { BlockCodec, writeBlock, type PushHeader } from '../src/common/wire/index.js';
import { startManager } from '../src/testing/manager.js';
import { RawDataClient } from '../src/testing/raw-data-client.js';
import { waitFor } from '../src/testing/wait-for.js';
import { spawnWorker, startWorker } from '../src/testing/worker.js';

const block = (bytes: number, batchId = 0) =>
  Buffer.concat(
    writeBlock(
      { mapId: 0, attemptId: 0, batchId, rawLength: bytes, codec: BlockCodec.NONE },
      randomBytes(bytes),
    ),
  );

function pushOne(
  c: RawDataClient,
  appId: string,
  shuffleId: number,
  body: Buffer,
  partitionId = 0,
  epoch = 0,
) {
  const header: PushHeader = {
    appId: appId as AppId,
    shuffleId: shuffleId as ShuffleId,
    mapId: 0,
    attemptId: 0,
    epoch,
    groupId: 0,
    slices: [{ partitionId, bodyOffset: 0, length: body.length }],
  };
  return c.push(header, body);
}

describe('worker lifecycle', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  const tempDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'sluice-wl-'));
    cleanups.push(() => rmSync(d, { recursive: true, force: true }));
    return d;
  };

  async function cluster(
    managerConfig: Record<string, unknown> = {},
    workerConfig: Record<string, unknown> = {},
  ) {
    const manager = await startManager({
      config: { 'manager.workerHeartbeatIntervalMs': 50, ...managerConfig },
    });
    cleanups.push(() => manager.close());
    const dir = tempDir();
    const worker = await startWorker({
      manager: manager.address,
      dirs: [join(dir, 'd')],
      id: 'w1',
      config: workerConfig,
    });
    cleanups.push(() => worker.close());
    const mc = new ManagerClient(manager.address);
    cleanups.push(() => mc.close());
    const c = await RawDataClient.connect('127.0.0.1', worker.dataPort);
    cleanups.push(() => c.close());
    return { manager, worker, mc, c, dir: join(dir, 'd') };
  }

  it("deletes an expired app's files on the manager's order in a heartbeat reply", async () => {
    const { worker, mc, c, dir } = await cluster({
      'manager.appExpiryMs': 300,
      'manager.sweepIntervalMs': 20,
    });
    await mc.registerApp({ appId: 'doomed' });
    await mc.allocateShuffle({
      appId: 'doomed',
      shuffleId: 0,
      numMappers: 1,
      numPartitions: 1,
      replicate: false,
    });
    expect((await pushOne(c, 'doomed', 0, block(1000))).statuses[0]!.status).toBe(
      WireStatusCode.OK,
    );
    await worker.store.commit('doomed', 0);
    expect(existsSync(join(dir, 'doomed', '0', '0-0.data'))).toBe(true);
    // No more app heartbeats: the manager expires it and tells the worker to delete it.
    await waitFor(() => !existsSync(join(dir, 'doomed')), {
      timeoutMs: 10_000,
      what: 'the app directory to be deleted',
    });
    expect(worker.store.held()).toEqual([]);
    expect(
      worker.store.committedFile({ appId: 'doomed', shuffleId: 0, partition: 0, epoch: 0 }),
    ).toBeUndefined();
  });

  it("deletes a released shuffle and keeps the app's other shuffles", async () => {
    const { worker, mc, c, dir } = await cluster();
    await mc.registerApp({ appId: 'keeper' });
    for (const s of [0, 1]) {
      await mc.allocateShuffle({
        appId: 'keeper',
        shuffleId: s,
        numMappers: 1,
        numPartitions: 1,
        replicate: false,
      });
      expect((await pushOne(c, 'keeper', s, block(500))).statuses[0]!.status).toBe(
        WireStatusCode.OK,
      );
      await worker.store.commit('keeper', s); // files reach the disk at the latest at commit
      expect(existsSync(join(dir, 'keeper', String(s), '0-0.data'))).toBe(true);
    }
    await mc.releaseShuffle({ appId: 'keeper', shuffleId: 0 });
    await waitFor(() => !existsSync(join(dir, 'keeper', '0')), { what: 'shuffle 0 to be deleted' });
    expect(existsSync(join(dir, 'keeper', '1'))).toBe(true);
    expect(worker.store.held()).toEqual([
      expect.objectContaining({ appId: 'keeper', shuffleId: 1, committed: true }),
    ]);
  });

  it('destroys a shuffle on DestroyShuffle and reports the bytes deleted', async () => {
    const { worker, mc, c, dir } = await cluster();
    await mc.registerApp({ appId: 'dsh' });
    await mc.allocateShuffle({
      appId: 'dsh',
      shuffleId: 3,
      numMappers: 1,
      numPartitions: 1,
      replicate: false,
    });
    const body = block(10_000);
    await pushOne(c, 'dsh', 3, body);
    await worker.store.commit('dsh', 3);
    const wc = new WorkerControlClient(`127.0.0.1:${worker.controlPort}`);
    cleanups.push(() => wc.close());
    const res = await wc.destroyShuffle({ appId: 'dsh', shuffleId: 3 });
    expect(res.bytesDeleted).toBeGreaterThanOrEqual(body.length);
    expect(existsSync(join(dir, 'dsh', '3'))).toBe(false);
    await expect(wc.destroyShuffle({ appId: '../etc', shuffleId: 3 })).rejects.toMatchObject({
      code: 'SLUICE_ERR_INVALID_ARGUMENT',
    });
  });

  it('answers SOFT_SPLIT once a file passes epochRotateBytes, and takes the next epoch', async () => {
    const { mc, c } = await cluster({}, { 'worker.epochRotateBytes': 8192 });
    await mc.registerApp({ appId: 'rot' });
    await mc.allocateShuffle({
      appId: 'rot',
      shuffleId: 0,
      numMappers: 1,
      numPartitions: 1,
      replicate: false,
    });
    const statuses = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await pushOne(c, 'rot', 0, block(3000, i))).statuses[0]!.status);
    expect(statuses).toEqual([
      WireStatusCode.OK,
      WireStatusCode.OK,
      WireStatusCode.SOFT_SPLIT,
      WireStatusCode.SOFT_SPLIT,
    ]);
    // The client moves to a new epoch through the driver (ReallocateGroup) and pushes there.
    const moved = await mc.reallocateGroup({ appId: 'rot', shuffleId: 0, groupId: 0, oldEpoch: 0 });
    expect(
      (await pushOne(c, 'rot', 0, block(3000, 9), 0, moved.group!.epoch)).statuses[0]!.status,
    ).toBe(WireStatusCode.OK);
  });

  it('closes a connection that stops in the middle of a frame, and frees what it held', async () => {
    const { worker, c } = await cluster({}, { 'worker.frameTimeoutMs': 200 });
    const partial = Buffer.alloc(100);
    partial.writeUInt32BE(1000, 0); // a frame of 1000 bytes, of which only 100 arrive
    partial.writeUInt8(8, 4); // PING
    c.writeRaw(partial);
    await waitFor(() => worker.memory.usedBytes > 0, { what: 'the partial frame to be accounted' });
    await waitFor(() => c.closed, { timeoutMs: 5_000, what: 'the connection to be closed' });
    expect(c.connectionErrors).toEqual([
      expect.objectContaining({ status: WireStatusCode.MALFORMED_FRAME }),
    ]);
    await waitFor(() => worker.memory.usedBytes === 0, { what: 'the memory to be released' });
  });

  it('closes a connection trickling a frame a byte at a time past the deadline of its first byte', async () => {
    const { worker, c } = await cluster({}, { 'worker.frameTimeoutMs': 500 });
    const frame = Buffer.alloc(1000);
    frame.writeUInt32BE(1000, 0); // a PING of 1000 bytes, sent 16 bytes at a time, every 50 ms
    frame.writeUInt8(8, 4);
    const started = Date.now();
    let at = 0;
    const trickle = setInterval(() => {
      if (at < frame.length && !c.closed) c.writeRaw(frame.subarray(at, (at += 16)));
    }, 50);
    try {
      // An idle timer of 500 ms would never fire: no gap between bytes exceeds 50 ms.
      await waitFor(() => c.closed, { timeoutMs: 5_000, what: 'the connection to be closed' });
    } finally {
      clearInterval(trickle);
    }
    expect(Date.now() - started).toBeLessThan(3_000); // long before the 3.1 s the trickle needs
    expect(c.connectionErrors).toEqual([
      expect.objectContaining({
        status: WireStatusCode.MALFORMED_FRAME,
        message: expect.stringContaining('within 500 ms of its first byte'),
      }),
    ]);
    await waitFor(() => worker.memory.usedBytes === 0, { what: 'the memory to be released' });
  });

  it('decommissions: keeps taking pushes for its groups, gets no new ones, stops when it holds nothing', async () => {
    const { manager, worker, mc, c } = await cluster();
    await mc.registerApp({ appId: 'decom' });
    await mc.allocateShuffle({
      appId: 'decom',
      shuffleId: 0,
      numMappers: 1,
      numPartitions: 1,
      replicate: false,
    });
    expect((await pushOne(c, 'decom', 0, block(100))).statuses[0]!.status).toBe(WireStatusCode.OK);
    const res = await fetch(`http://127.0.0.1:${manager.httpPort}/api/v1/workers/w1/decommission`, {
      method: 'POST',
    });
    expect(res.status).toBe(202);
    await waitFor(() => worker.servingState === 'DECOMMISSIONING', {
      what: 'the decommission to reach the worker',
    });
    expect((await pushOne(c, 'decom', 0, block(100, 1))).statuses[0]!.status).toBe(
      WireStatusCode.OK,
    );
    await expect(
      mc.allocateShuffle({
        appId: 'decom',
        shuffleId: 1,
        numMappers: 1,
        numPartitions: 1,
        replicate: false,
      }),
    ).rejects.toMatchObject({ code: 'SLUICE_ERR_NO_WORKERS' });
    let stopped = false;
    void worker.decommissioned.then(() => (stopped = true));
    expect(stopped).toBe(false);
    await mc.releaseShuffle({ appId: 'decom', shuffleId: 0 });
    await waitFor(() => stopped, { what: 'the worker to stop once its data is deleted' });
    expect(worker.store.held()).toEqual([]);
  });

  it('on SIGTERM answers HARD_SPLIT to new pushes, finishes the commit in progress and exits 0', async () => {
    const manager = await startManager();
    cleanups.push(() => manager.close());
    const mc = new ManagerClient(manager.address);
    cleanups.push(() => mc.close());
    const w = await spawnWorker({
      manager: manager.address,
      dirs: [join(tempDir(), 'd')],
      id: 'w-term',
      // A slow disk (fault injection) keeps the commit running while SIGTERM arrives.
      args: ['--set', 'test.diskWriteBytesPerSec=4MiB', '--set', 'worker.flushBytes=64KiB'],
    });
    cleanups.push(() => w.stop('SIGKILL'));
    await mc.registerApp({ appId: 'term' });
    await mc.allocateShuffle({
      appId: 'term',
      shuffleId: 0,
      numMappers: 1,
      numPartitions: 2,
      replicate: false,
    });
    const c = await RawDataClient.connect('127.0.0.1', w.dataPort);
    cleanups.push(() => c.close());
    for (let i = 0; i < 8; i++)
      expect((await pushOne(c, 'term', 0, block(256 * 1024, i))).statuses[0]!.status).toBe(
        WireStatusCode.OK,
      );
    const wc = new WorkerControlClient(`127.0.0.1:${w.controlPort}`);
    cleanups.push(() => wc.close());
    const commit = wc.commitFiles({ appId: 'term', shuffleId: 0 });
    await waitFor(() => w.output.some((l) => l.includes('"commit started"')), {
      what: 'commit to start',
    });
    w.child.kill('SIGTERM');
    await waitFor(() => w.output.some((l) => l.includes('"stopping"')), {
      what: 'the stop to begin',
    });
    // The data port stays open while the commit finishes: new pushes are answered HARD_SPLIT.
    const late = await pushOne(c, 'term', 0, block(100, 99), 1);
    expect(late.statuses[0]!.status).toBe(WireStatusCode.HARD_SPLIT);
    const result = await commit;
    expect(result.failed).toEqual([]);
    expect(result.files).toEqual([
      expect.objectContaining({ partition: 0, length: 8 * (256 * 1024 + 32) }),
    ]);
    expect(await w.exited()).toBe(0);
  });
});
