// worker.memoryFlushRatio (docs/architecture.md#worker flushers): with many partitions that each stay far below
// worker.flushBytes, the worker must start writing the largest buffers once its memory passes
// the flush watermark, before pushes have to pause, instead of holding everything until the
// commit. In-process manager and worker, raw pushes of one block per partition, real files.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { AppId, ShuffleId } from '../src/common/ids.js';
import { ManagerClient } from '../src/common/proto/manager-client.js';
import { BlockCodec, writeBlock, type PushHeader } from '../src/common/wire/index.js';
import type { ManagerServer } from '../src/manager/server.js';
import type { WorkerServer } from '../src/worker/server.js';
import { startManager } from '../src/testing/manager.js';
import { RawDataClient } from '../src/testing/raw-data-client.js';
import { startWorker } from '../src/testing/worker.js';

const MiB = 1024 ** 2;
const BUDGET = 16 * MiB;
const PARTITIONS = 64;
const SLICE = 32 * 1024; // stored bytes per block
const ROUNDS = 4; // 64 x 4 x 32 KiB = 8 MiB: half the budget, below the pause watermark

let root: string;
let manager: ManagerServer;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'sluice-early-flush-'));
  manager = await startManager();
});
afterAll(async () => {
  await manager?.close();
  rmSync(root, { recursive: true, force: true });
});

/** Bytes in the worker's data files (O_DIRECT writes land in the file at once). */
function bytesOnDisk(dir: string): number {
  let n = 0;
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.name.endsWith('.data')) n += statSync(join(d, e.name)).size;
    }
  };
  walk(dir);
  return n;
}

function dataFiles(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.name.endsWith('.data')) files.set(e.name, readFileSync(join(d, e.name)));
    }
  };
  walk(dir);
  return files;
}

async function pushAll(
  ratio: number,
): Promise<{ before: number; files: Map<string, Buffer>; paused: boolean }> {
  const dir = join(root, `w-${ratio}`);
  const appId = `app-flush-${String(ratio).replace('.', '-')}` as AppId;
  const shuffleId = 0 as ShuffleId;
  const worker: WorkerServer = await startWorker({
    manager: manager.address,
    dirs: [dir],
    id: `w-flush-${String(ratio).replace('.', '-')}`,
    config: { 'worker.memoryBudgetBytes': BUDGET, 'worker.memoryFlushRatio': ratio },
  });
  const mc = new ManagerClient(manager.address);
  const client = await RawDataClient.connect('127.0.0.1', worker.dataPort);
  try {
    let paused = false;
    worker.memory.onTransition((_from, to) => (paused ||= to !== 'NORMAL'));
    await mc.registerApp({ appId });
    const { groups } = await mc.allocateShuffle({
      appId,
      shuffleId,
      numMappers: 1,
      numPartitions: PARTITIONS,
      replicate: false,
      maxPartitionsPerGroup: PARTITIONS,
    });
    const g = groups.find((x) => x.primary?.workerId === worker.workerId)!;
    expect(g).toBeDefined();
    for (let round = 0; round < ROUNDS; round++) {
      const parts: Buffer[] = [];
      const slices: PushHeader['slices'][number][] = [];
      let offset = 0;
      for (let p = g.startPartition; p < g.endPartition; p++) {
        const stored = Buffer.alloc(SLICE, (p * 7 + round) & 0xff);
        const block = writeBlock(
          { mapId: 0, attemptId: 0, batchId: round, rawLength: SLICE, codec: BlockCodec.NONE },
          stored,
        );
        const length = block[0]!.length + block[1]!.length;
        slices.push({ partitionId: p, bodyOffset: offset, length });
        parts.push(...block);
        offset += length;
      }
      const header: PushHeader = {
        appId,
        shuffleId,
        mapId: 0,
        attemptId: 0,
        epoch: g.epoch,
        groupId: g.groupId,
        slices,
      };
      const ack = await client.push(header, parts);
      expect(new Set(ack.statuses.map((s) => s.status)).size).toBe(1);
    }
    // Background writes are asynchronous: give them a moment to land.
    await new Promise((r) => setTimeout(r, 300));
    const before = bytesOnDisk(dir);
    // Pushes arrive as many socket chunks: the byte counter must count bytes, not pieces.
    const metrics = await (await fetch(`http://127.0.0.1:${worker.httpPort}/metrics`)).text();
    const counted = /^sluice_worker_push_bytes_total(?:\{[^}]*\})? (\S+)$/m.exec(metrics)?.[1];
    expect(Number(counted)).toBe(PARTITIONS * ROUNDS * (SLICE + 32));
    await worker.store.commit(appId, shuffleId);
    return { before, files: dataFiles(dir), paused };
  } finally {
    await client.close();
    mc.close();
    await worker.close();
  }
}

it('writes the largest buffers past the flush watermark, before any pause and before the commit', async () => {
  const early = await pushAll(0.25);
  const late = await pushAll(1);
  const total = PARTITIONS * ROUNDS * (SLICE + 32);
  expect(early.paused).toBe(false);
  expect(late.paused).toBe(false);
  // Flushing down to 25% of the budget: at least what was above it, minus < 4 KiB tails.
  expect(early.before).toBeGreaterThanOrEqual(total - 0.25 * BUDGET - PARTITIONS * 4096);
  expect(late.before).toBe(0); // with the watermark at 100% nothing is written before commit
  // Same bytes either way.
  expect(early.files.size).toBe(PARTITIONS);
  expect([...early.files.values()].reduce((n, b) => n + b.length, 0)).toBe(total);
  for (const [name, bytes] of late.files) expect(early.files.get(name)!.equals(bytes)).toBe(true);
});
