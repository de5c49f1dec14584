// The worker data plane end to end (docs/protocol.md, docs/architecture.md#worker) with real processes: a manager and two
// worker processes, raw protocol clients pushing many partitions to primary and replica,
// CommitFiles, every chunk read back from both and compared byte for byte; a corrupted
// block refused on receipt; a worker killed with -9 and restarted serving its committed
// files; and the refusals a client must be able to rely on.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManagerClient } from '../src/common/proto/manager-client.js';
import { WorkerControlClient } from '../src/common/proto/worker-client.js';
import type { PartitionGroup__Output } from '../src/common/proto/gen/sluice/v1/PartitionGroup.js';
import { WireStatusCode } from '../src/common/status-codes.js';
import { BlockCodec, writeBlock, type PushHeader } from '../src/common/wire/index.js';
import type { AppId, ShuffleId } from '../src/common/ids.js';
import type { ManagerServer } from '../src/manager/server.js';
import { startManager } from '../src/testing/manager.js';
import { DataPlaneError, RawDataClient } from '../src/testing/raw-data-client.js';
import { spawnWorker, type WorkerProcess } from '../src/testing/worker.js';

const APP = 'app-dp' as AppId;
const SHUFFLE = 1 as ShuffleId;
const PARTITIONS = 200;
const MAPS = 4;
const WORKER_ARGS = [
  '--set',
  'worker.chunkBytes=4KiB',
  '--set',
  'worker.flushBytes=64KiB',
  '--memory',
  '64MiB',
];

describe('worker data plane (real processes)', () => {
  let manager: ManagerServer;
  let mc: ManagerClient;
  let root: string;
  const workers = new Map<string, WorkerProcess>();
  const clients = new Map<string, RawDataClient>();
  let groups: PartitionGroup__Output[];
  /** What each partition file must contain: slices in push order. */
  const expected = new Map<number, Buffer[]>();

  const client = async (workerId: string) => {
    let c = clients.get(workerId);
    if (!c || c.closed) {
      c = await RawDataClient.connect('127.0.0.1', workers.get(workerId)!.dataPort);
      clients.set(workerId, c);
    }
    return c;
  };
  const start = async (id: string) => {
    const w = await spawnWorker({
      manager: manager.address,
      dirs: [join(root, id, 'd1'), join(root, id, 'd2')],
      id,
      args: WORKER_ARGS,
    });
    workers.set(id, w);
    return w;
  };

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'sluice-dp-'));
    manager = await startManager();
    mc = new ManagerClient(manager.address);
    await Promise.all([start('wa'), start('wb')]);
    await mc.registerApp({ appId: APP });
    const res = await mc.allocateShuffle({
      appId: APP,
      shuffleId: SHUFFLE,
      numMappers: MAPS,
      numPartitions: PARTITIONS,
      replicate: true,
      maxPartitionsPerGroup: 50,
    });
    groups = res.groups;
  });

  afterAll(async () => {
    for (const c of clients.values()) await c.close().catch(() => undefined);
    await Promise.all([...workers.values()].map((w) => w.stop('SIGKILL')));
    mc.close();
    await manager.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('accepts pushes of many partitions on primary and replica, and reads every chunk back identical', async () => {
    let batchId = 0;
    for (let mapId = 0; mapId < MAPS; mapId++) {
      for (const g of groups) {
        const parts: Buffer[] = [];
        const slices: PushHeader['slices'][number][] = [];
        let offset = 0;
        for (let p = g.startPartition; p < g.endPartition; p++) {
          if ((p + mapId) % 7 === 0) continue; // some partitions get nothing from some maps
          const stored = randomBytes(200 + ((p * 131 + mapId * 17) % 9000) * 2);
          const block = Buffer.concat(
            writeBlock(
              {
                mapId,
                attemptId: 0,
                batchId: batchId++,
                rawLength: stored.length,
                codec: BlockCodec.NONE,
              },
              stored,
            ),
          );
          slices.push({ partitionId: p, bodyOffset: offset, length: block.length });
          parts.push(block);
          offset += block.length;
          expected.set(p, [...(expected.get(p) ?? []), block]);
        }
        const header: PushHeader = {
          appId: APP,
          shuffleId: SHUFFLE,
          mapId,
          attemptId: 0,
          epoch: g.epoch,
          groupId: g.groupId,
          slices,
        };
        // Dual push (docs/architecture.md#lifecycle-of-one-shuffle step 4): the same batch to primary and replica at the same time.
        const acks = await Promise.all(
          [g.primary!.workerId, g.replica!.workerId].map(async (w) =>
            (await client(w)).push(header, parts),
          ),
        );
        for (const ack of acks) {
          expect(ack.statuses.map((s) => s.partitionId)).toEqual(slices.map((s) => s.partitionId));
          for (const s of ack.statuses)
            expect([WireStatusCode.OK, WireStatusCode.OK_CONGESTED]).toContain(s.status);
        }
      }
    }
    // Commit on both workers (idempotent: a second call answers the same).
    const committed = new Map<string, Map<number, { length: number; crc32: number }>>();
    for (const w of workers.values()) {
      const wc = new WorkerControlClient(`127.0.0.1:${w.controlPort}`);
      const first = await wc.commitFiles({ appId: APP, shuffleId: SHUFFLE });
      const again = await wc.commitFiles({ appId: APP, shuffleId: SHUFFLE });
      wc.close();
      expect(again).toEqual(first);
      expect(first.failed).toEqual([]);
      committed.set(
        w.workerId,
        new Map(first.files.map((f) => [f.partition, { length: f.length, crc32: f.crc32 }])),
      );
    }
    let chunksRead = 0;
    for (const g of groups) {
      for (let p = g.startPartition; p < g.endPartition; p++) {
        const want = Buffer.concat(expected.get(p) ?? []);
        for (const w of [g.primary!.workerId, g.replica!.workerId]) {
          if (want.length === 0) {
            expect(committed.get(w)!.has(p)).toBe(false);
            continue;
          }
          expect(committed.get(w)!.get(p)).toEqual({ length: want.length, crc32: crc32(want) });
          const got = await readPartition(await client(w), p, 0);
          chunksRead += got.chunks;
          expect(got.bytes.equals(want), `partition ${p} on ${w}`).toBe(true);
        }
      }
    }
    expect(chunksRead).toBeGreaterThan(PARTITIONS * 2);
  });

  it('refuses a block whose CRC does not match, per partition, and accepts its neighbour', async () => {
    const g = groups[0]!;
    const good = Buffer.concat(
      writeBlock(
        { mapId: 9, attemptId: 0, batchId: 1, rawLength: 100, codec: BlockCodec.NONE },
        randomBytes(100),
      ),
    );
    const bad = Buffer.concat(
      writeBlock(
        { mapId: 9, attemptId: 0, batchId: 2, rawLength: 100, codec: BlockCodec.NONE },
        randomBytes(100),
      ),
    );
    bad[bad.length - 1]! ^= 0xff;
    await mc.allocateShuffle({
      appId: APP,
      shuffleId: 2,
      numMappers: 1,
      numPartitions: PARTITIONS,
      replicate: true,
      maxPartitionsPerGroup: 50,
    });
    const c = await client(g.primary!.workerId);
    const ack = await c.push(
      {
        appId: APP,
        shuffleId: 2 as ShuffleId,
        mapId: 9,
        attemptId: 0,
        epoch: 0,
        groupId: 0,
        slices: [
          { partitionId: 1, bodyOffset: 0, length: good.length },
          { partitionId: 2, bodyOffset: good.length, length: bad.length },
        ],
      },
      [good, bad],
    );
    expect(ack.statuses).toEqual([
      { partitionId: 1, status: WireStatusCode.OK },
      { partitionId: 2, status: WireStatusCode.CRC_MISMATCH },
    ]);
  });

  it('answers pushes for unallocated groups, committed shuffles and reads of uncommitted files with their codes', async () => {
    const g = groups[0]!;
    const c = await client(g.primary!.workerId);
    const block = Buffer.concat(
      writeBlock(
        { mapId: 1, attemptId: 0, batchId: 1, rawLength: 10, codec: BlockCodec.NONE },
        randomBytes(10),
      ),
    );
    const push = (shuffleId: number, groupId = 0, partitionId = 0) =>
      c.push(
        {
          appId: APP,
          shuffleId: shuffleId as ShuffleId,
          mapId: 1,
          attemptId: 0,
          epoch: 0,
          groupId,
          slices: [{ partitionId, bodyOffset: 0, length: block.length }],
        },
        block,
      );
    expect((await push(99)).statuses[0]!.status).toBe(WireStatusCode.UNKNOWN_SHUFFLE);
    expect((await push(SHUFFLE)).statuses[0]!.status).toBe(WireStatusCode.STAGE_ENDED);
    expect((await push(2, 0, 60)).statuses[0]!.status).toBe(WireStatusCode.UNKNOWN_SHUFFLE); // partition outside the group
    const err = await c
      .openStream({ appId: APP, shuffleId: 2 as ShuffleId, partition: 1, epoch: 0, startChunk: 0 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataPlaneError);
    expect((err as DataPlaneError).status).toBe(WireStatusCode.NOT_COMMITTED);
    expect(await c.ping(Buffer.from('still here'))).toEqual(Buffer.from('still here'));
  });

  it('closes the connection after a frame that breaks the framing, with an ERROR first', async () => {
    const c = await RawDataClient.connect('127.0.0.1', workers.get('wa')!.dataPort);
    const huge = Buffer.alloc(16);
    huge.writeUInt32BE(0xfffffff0, 0); // a 4 GiB frame: refused as soon as the length arrives
    c.writeRaw(huge);
    await expect.poll(() => c.closed, { timeout: 5_000 }).toBe(true);
    expect(c.connectionErrors).toEqual([
      expect.objectContaining({ status: WireStatusCode.FRAME_TOO_LARGE }),
    ]);
  });

  it('after kill -9 and a restart: serves and re-commits every committed file, and refuses the lost shuffle', async () => {
    // Both workers hold every file of shuffle 1 (two workers, replication on). Shuffle 3 gets
    // acked but uncommitted data on one of them: that one is the victim.
    const s3 = await mc.allocateShuffle({
      appId: APP,
      shuffleId: 3,
      numMappers: 1,
      numPartitions: 1,
      replicate: false,
    });
    const victim = s3.groups[0]!.primary!.workerId;
    const pre = Buffer.concat(
      writeBlock(
        { mapId: 0, attemptId: 0, batchId: 1, rawLength: 64, codec: BlockCodec.NONE },
        randomBytes(64),
      ),
    );
    const push3 = async () =>
      (await client(victim)).push(
        {
          appId: APP,
          shuffleId: 3 as ShuffleId,
          mapId: 0,
          attemptId: 0,
          epoch: 0,
          groupId: 0,
          slices: [{ partitionId: 0, bodyOffset: 0, length: pre.length }],
        },
        pre,
      );
    expect((await push3()).statuses[0]!.status).toBe(WireStatusCode.OK);
    const wc1 = new WorkerControlClient(`127.0.0.1:${workers.get(victim)!.controlPort}`);
    const committedBefore = (await wc1.commitFiles({ appId: APP, shuffleId: SHUFFLE })).files;
    wc1.close();
    const before = await readPartition(await client(victim), groups[1]!.startPartition + 1, 0);
    expect(await workers.get(victim)!.stop('SIGKILL')).toBe('SIGKILL');
    clients.delete(victim);
    await start(victim);
    const after = await readPartition(await client(victim), groups[1]!.startPartition + 1, 0);
    expect(after.bytes.equals(before.bytes)).toBe(true);
    expect(after.bytes.equals(Buffer.concat(expected.get(groups[1]!.startPartition + 1)!))).toBe(
      true,
    );
    // A driver retrying its commit after the restart gets the same files, from both disks.
    const wc2 = new WorkerControlClient(`127.0.0.1:${workers.get(victim)!.controlPort}`);
    try {
      expect((await wc2.commitFiles({ appId: APP, shuffleId: SHUFFLE })).files).toEqual(
        committedBefore,
      );
      // The uncommitted shuffle's acked data died with the process: no new pushes into it
      // (they would make a file that silently misses the old blocks) and no commit.
      expect((await push3()).statuses[0]!.status).toBe(WireStatusCode.HARD_SPLIT);
      await expect(wc2.commitFiles({ appId: APP, shuffleId: 3 })).rejects.toMatchObject({
        code: 'SLUICE_ERR_SHUFFLE_DATA_LOST',
      });
    } finally {
      wc2.close();
    }
  });
});

async function readPartition(
  c: RawDataClient,
  partition: number,
  epoch: number,
): Promise<{ bytes: Buffer; chunks: number }> {
  const handle = await c.openStream({
    appId: APP,
    shuffleId: SHUFFLE,
    partition,
    epoch,
    startChunk: 0,
  });
  // Several chunks in flight per stream (docs/architecture.md#worker fetchWindow).
  const chunks = await Promise.all(
    handle.chunkLengths.map((_, i) => c.fetchChunk(handle.streamId, i)),
  );
  for (const [i, ch] of chunks.entries()) {
    expect(ch.body.length).toBe(handle.chunkLengths[i]);
    // No chunk CRC on the wire (CHUNK_FLAG_NO_CRC): the file CRC below covers every byte.
    expect(ch.header.crc32).toBe(0);
  }
  c.closeStream(handle.streamId);
  const bytes = Buffer.concat(chunks.map((ch) => ch.body));
  expect(bytes.length).toBe(handle.fileLength);
  expect(crc32(bytes)).toBe(handle.fileCrc32);
  return { bytes, chunks: chunks.length };
}
