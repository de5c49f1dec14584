// ESS map outputs end with their shuffle or app (docs/architecture.md#ess-mode): the driver remembers
// which ESS daemons each shuffle's map attempts wrote to, and asks them to delete the outputs
// when the shuffle is unregistered (REMOVE_OUTPUTS of that shuffle) and when the app ends
// (REMOVE_OUTPUTS of all its shuffles). Before, an ended app's files stayed on every node.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ShuffleClient, ShuffleDriver } from '../src/client/index.js';
import type { EssServer } from '../src/ess/server.js';
import { startCluster, type Cluster } from '../src/testing/cluster.js';
import { startEss } from '../src/testing/ess.js';

const PARTITIONS = 4;
const MAPS = 4;
let cluster: Cluster;
let root: string;
const nodes: { dir: string; ess: EssServer }[] = [];

beforeAll(async () => {
  cluster = await startCluster({ workers: 0 });
  root = mkdtempSync(join(tmpdir(), 'sluice-ess-cleanup-'));
  for (const name of ['node-a', 'node-b']) {
    const dir = join(root, name);
    nodes.push({ dir, ess: await startEss({ dir }) });
  }
});
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.ess.close()));
  await cluster?.close();
  rmSync(root, { recursive: true, force: true });
});

const outputsOf = async (dir: string, appId: string, shuffleId: number) =>
  (await readdir(join(dir, appId, String(shuffleId))).catch(() => [])).filter((f) =>
    f.endsWith('.index'),
  ).length;

it("a shuffle's outputs go when it is unregistered, the app's when it ends", async () => {
  const appId = `ess-cleanup-${process.pid}`;
  const driver = await ShuffleDriver.start({ manager: cluster.managerAddress, appId, mode: 'ess' });
  const clients = nodes.map(
    (n) =>
      new ShuffleClient({
        driver: driver.driverAddress,
        mode: 'ess',
        ess: { address: n.ess.address, dir: n.dir },
      }),
  );
  try {
    for (const shuffleId of [0, 1]) {
      await driver.registerShuffle({ shuffleId, numMappers: MAPS, numPartitions: PARTITIONS });
      for (let m = 0; m < MAPS; m++) {
        const w = clients[m % 2]!.writer({
          appId,
          shuffleId,
          mapId: m,
          attemptId: 0,
          numPartitions: PARTITIONS,
        });
        for (let p = 0; p < PARTITIONS; p++) w.write(p, Buffer.from(`s${shuffleId} m${m} p${p}`));
        await w.close();
      }
    }
    for (const n of nodes) {
      expect(await outputsOf(n.dir, appId, 0)).toBe(MAPS / 2);
      expect(await outputsOf(n.dir, appId, 1)).toBe(MAPS / 2);
    }

    await driver.unregisterShuffle(0);
    for (const n of nodes) {
      expect(existsSync(join(n.dir, appId, '0')), `${n.dir}: shuffle 0`).toBe(false);
      expect(await outputsOf(n.dir, appId, 1)).toBe(MAPS / 2);
    }
    // Shuffle 1 is untouched: every record still reads back.
    const got: string[] = [];
    for (let p = 0; p < PARTITIONS; p++)
      for await (const r of clients[0]!.reader({ appId, shuffleId: 1, partitionId: p }))
        got.push(r.toString());
    expect(got).toHaveLength(MAPS * PARTITIONS);

    await driver.close();
    for (const n of nodes) expect(existsSync(join(n.dir, appId)), n.dir).toBe(false);
    // Each ESS counted what it deleted: two outputs of shuffle 0, then two of shuffle 1.
    for (const n of nodes) expect((await n.ess.metrics.removed.get()).values[0]?.value).toBe(MAPS);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await driver.close();
  }
}, 60_000);
