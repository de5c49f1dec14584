// The worker's memory budget under a push flood (docs/architecture.md#memory-manager, "Push server"):
// an in-process manager and worker with a 16 MiB budget and a disk throttled to 8 MiB/s, and
// several connections pushing six times the budget as fast as they can. The worker must keep
// its accounted memory within the budget (+10%), say so with OK_CONGESTED while it is paused,
// go through PUSH_PAUSED and back, and lose nothing: after commit every pushed block is in
// its partition's file exactly once, byte for byte.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppId, ShuffleId } from '../src/common/ids.js';
import { ManagerClient } from '../src/common/proto/manager-client.js';
import type { PartitionGroup__Output } from '../src/common/proto/gen/sluice/v1/PartitionGroup.js';
import { WireStatusCode } from '../src/common/status-codes.js';
import {
  BLOCK_HEADER_BYTES,
  BlockCodec,
  iterateBlocks,
  writeBlock,
  type PushHeader,
} from '../src/common/wire/index.js';
import type { ManagerServer } from '../src/manager/server.js';
import type { MemoryState } from '../src/worker/memory/memory-manager.js';
import type { WorkerServer } from '../src/worker/server.js';
import { startManager } from '../src/testing/manager.js';
import { RawDataClient } from '../src/testing/raw-data-client.js';
import { waitFor } from '../src/testing/wait-for.js';
import { startWorker } from '../src/testing/worker.js';

const MiB = 1024 ** 2;
const BUDGET_BYTES = 16 * MiB;
const DISK_BYTES_PER_SEC = 8 * MiB;
const TOTAL_BYTES = 96 * MiB;
/** No ack for this long while pushes are outstanding: the worker stalled (a pause lasts ~0.3 s). */
const STALL_MS = 5_000;
const CONNECTIONS = 4;
const IN_FLIGHT_PER_CONNECTION = 4;
// 128 partitions x 256 KiB flushBytes = twice the budget: partition buffers alone can fill it,
// as with any real shuffle (thousands of partitions), so relief must flush partial buffers.
const PARTITIONS = 128;
const PARTITIONS_PER_GROUP = 32;
const APP = 'app-mem' as AppId;
const SHUFFLE = 0 as ShuffleId;

/** A deterministic spread of sizes and offsets (no Math.random: a failure replays). */
const mix = (a: number, b: number) => ((a * 2_654_435_761 + b * 40_503) >>> 0) % 1_000_003;

interface ExpectedBlock {
  readonly parts: Buffer[];
  seen: boolean;
}

describe('worker memory under a push flood', () => {
  let root: string;
  let manager: ManagerServer;
  let worker: WorkerServer;
  let mc: ManagerClient;
  const clients: RawDataClient[] = [];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'sluice-mem-'));
    manager = await startManager();
    mc = new ManagerClient(manager.address);
    worker = await startWorker({
      manager: manager.address,
      dirs: [join(root, 'd1')],
      id: 'w-mem',
      config: {
        'worker.memoryBudgetBytes': BUDGET_BYTES,
        'worker.flushBytes': 256 * 1024,
        'worker.chunkBytes': 256 * 1024,
        // Fault injection (an internal test.* key, docs/development.md#configuration): a slow disk, so pushes
        // arrive far faster than they can be written and the memory manager must push back.
        'test.diskWriteBytesPerSec': DISK_BYTES_PER_SEC,
      },
    });
  });

  afterAll(async () => {
    // The worker first: after a failure its sockets may be paused, and a client's end()
    // would wait behind unsent pushes; the worker's close ends every connection.
    await worker?.close();
    for (const c of clients) await c.close().catch(() => undefined);
    mc?.close();
    await manager?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('stays within its budget, pushes back with OK_CONGESTED and loses no push', async () => {
    await mc.registerApp({ appId: APP });
    const { groups } = await mc.allocateShuffle({
      appId: APP,
      shuffleId: SHUFFLE,
      numMappers: CONNECTIONS,
      numPartitions: PARTITIONS,
      replicate: false,
      maxPartitionsPerGroup: PARTITIONS_PER_GROUP,
    });
    expect(groups.length).toBe(PARTITIONS / PARTITIONS_PER_GROUP);
    for (const g of groups) expect(g.primary?.workerId).toBe(worker.workerId);

    // Stored bytes are views of one random pool; the block header (mapId, batchId) makes
    // every block unique, and the pool offset varies so misplaced bytes cannot match.
    const pool = Buffer.alloc(8 * MiB);
    for (let i = 0; i < pool.length; i += 4) pool.writeUInt32LE(mix(i, 7) * 4099, i);
    const expected = Array.from({ length: PARTITIONS }, () => new Map<string, ExpectedBlock>());

    /** Push k of connection c: one block for most partitions of one group, ~250 KiB in all. */
    const makePush = (c: number, k: number, g: PartitionGroup__Output) => {
      const parts: Buffer[] = [];
      const slices: PushHeader['slices'][number][] = [];
      let offset = 0;
      for (let p = g.startPartition; p < g.endPartition; p++) {
        if (mix(c * 7919 + k, p) % 8 === 0) continue; // some partitions get nothing this time
        const length = 2048 + (mix(k * 31 + c, p) % (14 * 1024));
        const from = mix(k, p * 13 + c) % (pool.length - length);
        const batchId = k * PARTITIONS + p;
        const block = writeBlock(
          { mapId: c, attemptId: 0, batchId, rawLength: length, codec: BlockCodec.NONE },
          pool.subarray(from, from + length),
        );
        expected[p]!.set(`${c}/${batchId}`, { parts: block, seen: false });
        const blockBytes = block.reduce((n, b) => n + b.length, 0);
        slices.push({ partitionId: p, bodyOffset: offset, length: blockBytes });
        parts.push(...block);
        offset += blockBytes;
      }
      const header: PushHeader = {
        appId: APP,
        shuffleId: SHUFFLE,
        mapId: c,
        attemptId: 0,
        epoch: g.epoch,
        groupId: g.groupId,
        slices,
      };
      return { header, parts, bytes: offset };
    };

    const transitions: MemoryState[] = [];
    worker.memory.onTransition((_from, to) => transitions.push(to));
    let sampledMax = 0;
    const sampler = setInterval(() => {
      sampledMax = Math.max(sampledMax, worker.memory.usedBytes);
    }, 2);
    const statuses = new Map<number, number>();
    let pushedBytes = 0;
    let pushes = 0;

    for (let c = 0; c < CONNECTIONS; c++)
      clients.push(await RawDataClient.connect('127.0.0.1', worker.dataPort));
    const started = performance.now();
    let lastAckAt = started;
    let pushing = true;
    // Fails fast, with the memory state, if acks stop coming (e.g. stuck in PUSH_PAUSED with
    // nothing left to flush) instead of running into the test timeout.
    const watchdog = waitFor(
      () => {
        if (!pushing) return 'done';
        if (performance.now() - lastAckAt < STALL_MS) return false;
        const m = worker.memory;
        return `pushes stalled: no ack for ${STALL_MS} ms, memory ${m.state} at ${m.usedBytes} bytes (${((m.usedBytes / BUDGET_BYTES) * 100).toFixed(1)}% of the budget), ${worker.store.flushQueueBytes} bytes queued for the disk`;
      },
      { timeoutMs: 10 * 60_000, intervalMs: 50, what: 'the pushes to end or stall' },
    ).then((outcome) => {
      if (outcome !== 'done') throw new Error(outcome);
    });
    try {
      // Each connection keeps IN_FLIGHT_PER_CONNECTION pushes outstanding: lanes sharing the
      // socket, each sending its next push as soon as its previous one is acked.
      const flood = Promise.all(
        clients.map(async (client, c) => {
          let next = 0;
          let sent = 0;
          const lane = async () => {
            while (sent < TOTAL_BYTES / CONNECTIONS) {
              const k = next++;
              const push = makePush(c, k, groups[(k + c) % groups.length]!);
              sent += push.bytes;
              const ack = await client.push(push.header, push.parts);
              lastAckAt = performance.now();
              expect(ack.statuses.map((s) => s.partitionId)).toEqual(
                push.header.slices.map((s) => s.partitionId),
              );
              for (const s of ack.statuses)
                statuses.set(s.status, (statuses.get(s.status) ?? 0) + 1);
              pushedBytes += push.bytes;
              pushes++;
            }
          };
          await Promise.all(Array.from({ length: IN_FLIGHT_PER_CONNECTION }, lane));
        }),
      );
      flood.catch(() => undefined); // a stall rejects the race first; flood fails at close
      await Promise.race([flood, watchdog]);
    } finally {
      pushing = false;
      clearInterval(sampler);
    }
    await watchdog;
    const pushSeconds = (performance.now() - started) / 1000;
    const peak = worker.memory.peakBytes;

    const commitStarted = performance.now();
    const committed = await worker.store.commit(APP, SHUFFLE);
    const commitSeconds = (performance.now() - commitStarted) / 1000;
    console.log(
      `worker memory: peak ${(peak / MiB).toFixed(2)} MiB (${((peak / BUDGET_BYTES) * 100).toFixed(1)}% of the ${BUDGET_BYTES / MiB} MiB budget), ` +
        `max sampled ${(sampledMax / MiB).toFixed(2)} MiB; pushed ${(pushedBytes / MiB).toFixed(1)} MiB in ${pushes} pushes ` +
        `in ${pushSeconds.toFixed(2)} s = ${(pushedBytes / MiB / pushSeconds).toFixed(1)} MiB/s ` +
        `(disk throttled to ${DISK_BYTES_PER_SEC / MiB} MiB/s); commit ${commitSeconds.toFixed(2)} s; ` +
        `acks OK ${statuses.get(WireStatusCode.OK) ?? 0}, OK_CONGESTED ${statuses.get(WireStatusCode.OK_CONGESTED) ?? 0}; ` +
        `transitions to ${['PUSH_PAUSED', 'FULL', 'NORMAL'].map((t) => `${t} x${transitions.filter((x) => x === t).length}`).join(', ')}`,
    );

    // Every partition of every push was accepted: plainly or with congestion.
    expect([...statuses.keys()].sort()).toEqual(
      [WireStatusCode.OK, WireStatusCode.OK_CONGESTED].sort(),
    );
    expect(pushedBytes).toBeGreaterThanOrEqual(TOTAL_BYTES);
    // The budget held (the sampler sees less than the exact peak, never more). Soft: when it
    // fails, the checks below still say whether any push was lost.
    expect(sampledMax).toBeLessThanOrEqual(peak);
    expect.soft(peak, 'peak accounted memory').toBeLessThanOrEqual(BUDGET_BYTES * 1.1);
    // It pushed back: paused at least once, came back to NORMAL, and said so in the acks.
    expect(transitions).toContain('PUSH_PAUSED');
    expect(transitions.filter((t) => t === 'NORMAL').length).toBeGreaterThanOrEqual(1);
    expect(statuses.get(WireStatusCode.OK_CONGESTED) ?? 0).toBeGreaterThan(0);

    // Nothing lost, nothing doubled: read every partition back over the data port.
    expect(committed.failed).toEqual([]);
    const reader = await RawDataClient.connect('127.0.0.1', worker.dataPort);
    clients.push(reader);
    let blocksRead = 0;
    for (let p = 0; p < PARTITIONS; p++) {
      const want = expected[p]!;
      const handle = await reader.openStream({
        appId: APP,
        shuffleId: SHUFFLE,
        partition: p,
        epoch: 0,
        startChunk: 0,
      });
      const chunks = await Promise.all(
        handle.chunkLengths.map((_, i) => reader.fetchChunk(handle.streamId, i)),
      );
      reader.closeStream(handle.streamId);
      // Chunks carry no CRC of their own (docs/protocol.md); each is its indexed length, and
      // the whole file's CRC and every block's CRC are checked below.
      chunks.forEach((ch, i) => expect(ch.body.length).toBe(handle.chunkLengths[i]));
      const file = Buffer.concat(chunks.map((ch) => ch.body));
      expect(file.length).toBe(handle.fileLength);
      expect(crc32(file)).toBe(handle.fileCrc32);
      expect(handle.chunkLengths.length).toBeGreaterThan(1);
      for (const block of iterateBlocks(file)) {
        const id = `${block.header.mapId}/${block.header.batchId}`;
        const w = want.get(id);
        expect(w, `partition ${p}: block ${id} was never pushed here`).toBeDefined();
        expect(w!.seen, `partition ${p}: block ${id} stored twice`).toBe(false);
        w!.seen = true;
        const bytes = file.subarray(
          block.offset,
          block.offset + BLOCK_HEADER_BYTES + block.header.storedLength,
        );
        expect(bytes.equals(Buffer.concat(w!.parts)), `partition ${p}: block ${id}`).toBe(true);
        blocksRead++;
      }
      const missing = [...want].filter(([, b]) => !b.seen).map(([id]) => id);
      expect(missing, `partition ${p}: pushed blocks missing from the file`).toEqual([]);
    }
    expect(blocksRead).toBe(expected.reduce((n, m) => n + m.size, 0));
    expect(worker.memory.usedBytes).toBe(0);
  }, 60_000);
});

describe('worker shutdown under memory pressure', () => {
  // Connection.close() paused the socket and ended it, then DataServer.close() waited for the
  // peer to close its side; a client with pushes still queued behind the paused socket could
  // never get its own FIN out, so WorkerServer.close() (SIGTERM, docs/architecture.md#worker) never finished.
  it('close() completes while a push connection is paused with a backlog of pushes', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sluice-mem-close-'));
    const manager = await startManager();
    const mc = new ManagerClient(manager.address);
    const worker = await startWorker({
      manager: manager.address,
      dirs: [join(root, 'd1')],
      config: { 'worker.memoryBudgetBytes': BUDGET_BYTES },
    });
    const client = await RawDataClient.connect('127.0.0.1', worker.dataPort);
    try {
      await mc.registerApp({ appId: APP });
      await mc.allocateShuffle({
        appId: APP,
        shuffleId: SHUFFLE,
        numMappers: 1,
        numPartitions: 1,
        replicate: false,
      });
      const block = writeBlock(
        { mapId: 0, attemptId: 0, batchId: 0, rawLength: MiB, codec: BlockCodec.NONE },
        Buffer.alloc(MiB, 7),
      );
      const length = block.reduce((n, b) => n + b.length, 0);
      const push = () =>
        client.push(
          {
            appId: APP,
            shuffleId: SHUFFLE,
            mapId: 0,
            attemptId: 0,
            epoch: 0,
            groupId: 0,
            slices: [{ partitionId: 0, bodyOffset: 0, length }],
          },
          block,
        );
      expect((await push()).statuses[0]!.status).toBe(WireStatusCode.OK);
      // Memory pressure from elsewhere (other connections' buffers): the worker is FULL and
      // pauses this socket on its next read, with 32 MiB of pushes still to come.
      worker.memory.acquire(BUDGET_BYTES);
      const backlog = Array.from({ length: 32 }, () => push().catch((err: Error) => err));
      await waitFor(() => worker.memory.usedBytes > BUDGET_BYTES, { what: 'the next push' });
      let closed = false;
      void worker.close().then(() => (closed = true));
      await waitFor(() => closed, { timeoutMs: 10_000, what: 'worker.close()' });
      // Every push got an answer or a connection error: none is left hanging.
      const answers = await Promise.all(backlog);
      expect(answers).toHaveLength(32);
    } finally {
      mc.close();
      await manager.close();
      rmSync(root, { recursive: true, force: true });
    }
  }, 30_000);
});
