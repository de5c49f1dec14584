// ESS map outputs of an app whose driver died (docs/architecture.md#ess-mode): a driver deletes its
// outputs when a shuffle or the app ends (REMOVE_OUTPUTS, test/ess-mode.test.ts), but one that
// died never says so. The manager expires its app, and an ESS given `ess.manager` deletes the
// outputs of apps the manager no longer lists. Before, such files stayed on every node.
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ShuffleClient, ShuffleDriver } from '../src/client/index.js';
import { outputsOf, startEssNode } from '../src/testing/ess.js';
import { waitFor } from '../src/testing/wait-for.js';
import { ManagerClient } from '../src/common/proto/manager-client.js';
import { encodeMapOutputIndex, mapOutputBase } from '../src/common/map-output.js';

it('an ESS that knows the manager deletes the outputs of an app that expired', async () => {
  const node = await startEssNode({
    prefix: 'sluice-ess-sweep-',
    // Expiry well above the heartbeat interval: the live app must survive a loaded machine.
    managerConfig: { 'manager.appExpiryMs': 3_000, 'manager.appHeartbeatIntervalMs': 200 },
    knowsManager: true,
    config: { 'ess.appSweepIntervalMs': 200 },
  });
  const { ess, dir, cluster: expiring } = node;
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
    await node.close();
  }
}, 60_000);
