// ESS map outputs end with their shuffle or app (docs/architecture.md#ess-mode): the driver remembers
// which ESS daemons each shuffle's map attempts wrote to, and asks them to delete the outputs
// when the shuffle is unregistered (REMOVE_OUTPUTS of that shuffle) and when the app ends
// (REMOVE_OUTPUTS of all its shuffles). An app whose driver died never says so: the manager
// expires it, and an ESS given `ess.manager` deletes the outputs of apps the manager no longer
// lists. Before, an ended app's files stayed on every node.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ShuffleClient, ShuffleDriver } from '../src/client/index.js';
import type { EssServer } from '../src/ess/server.js';
import { startCluster, type Cluster } from '../src/testing/cluster.js';
import { startEss } from '../src/testing/ess.js';
import { waitFor } from '../src/testing/wait-for.js';
import { ManagerClient } from '../src/common/proto/manager-client.js';
import { encodeMapOutputIndex, mapOutputBase } from '../src/common/map-output.js';

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

it('an ESS that knows the manager deletes the outputs of an app that expired', async () => {
  const expiring = await startCluster({
    workers: 0,
    // Expiry well above the heartbeat interval: the live app must survive a loaded machine.
    managerConfig: { 'manager.appExpiryMs': 3_000, 'manager.appHeartbeatIntervalMs': 200 },
  });
  const dir = join(root, 'node-sweep');
  const ess = await startEss({
    dir,
    config: { 'ess.manager': expiring.managerAddress, 'ess.appSweepIntervalMs': 200 },
  });
  const manager = new ManagerClient(expiring.managerAddress);
  const live = await ShuffleDriver.start({
    manager: expiring.managerAddress,
    appId: `ess-live-${process.pid}`,
    mode: 'ess',
  });
  const client = new ShuffleClient({
    driver: live.driverAddress,
    mode: 'ess',
    ess: { address: ess.address, dir },
  });
  try {
    // An app whose driver registered it, had a map output written, and died: no heartbeats.
    const dead = `ess-dead-${process.pid}`;
    await manager.registerApp({ appId: dead, priority: 3, name: dead, registration: 'x' });
    const base = mapOutputBase(dir, { appId: dead, shuffleId: 0, mapId: 0, attemptId: 0 });
    await mkdir(join(base, '..'), { recursive: true });
    await writeFile(`${base}.data`, Buffer.alloc(64));
    await writeFile(`${base}.index`, encodeMapOutputIndex([0, 64]));
    // A live app's output next to it.
    await live.registerShuffle({ shuffleId: 0, numMappers: 1, numPartitions: 2 });
    const w = client.writer({
      appId: live.appId,
      shuffleId: 0,
      mapId: 0,
      attemptId: 0,
      numPartitions: 2,
    });
    w.write(1, Buffer.from('still needed'));
    await w.close();

    await waitFor(() => !existsSync(join(dir, dead)), {
      what: "the expired app's outputs deleted",
      timeoutMs: 30_000,
    });
    await ess.sweepApps(); // one more sweep, now that the live app's directory is older too
    expect(await outputsOf(dir, live.appId, 0), "the live app's outputs").toBe(1);
    const got: string[] = [];
    for await (const r of client.reader({ appId: live.appId, shuffleId: 0, partitionId: 1 }))
      got.push(r.toString());
    expect(got).toEqual(['still needed']);
    expect((await ess.metrics.removed.get()).values[0]?.value).toBe(1);
  } finally {
    await client.close();
    await live.close();
    manager.close();
    await ess.close();
    await expiring.close();
  }
}, 60_000);
