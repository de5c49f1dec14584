import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ShuffleClient, ShuffleDriver } from '../src/client/index.js';
import { startCluster, type Cluster } from '../src/testing/cluster.js';

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster({ workers: 3 });
});
afterAll(async () => {
  await cluster?.close();
});

it('round trip', async () => {
  const driver = await ShuffleDriver.start({ manager: cluster.managerAddress, appId: 'smoke' });
  const handle = await driver.registerShuffle({
    shuffleId: 0,
    numMappers: 2,
    numPartitions: 10,
    maxPartitionsPerGroup: 4,
  });
  const client = new ShuffleClient({ driver: handle.driverAddress, pushBatchBytes: 4096 });
  const written = new Map<number, string[]>();
  for (let m = 0; m < 2; m++) {
    const w = client.writer({
      appId: 'smoke',
      shuffleId: 0,
      mapId: m,
      attemptId: 0,
      numPartitions: 10,
    });
    for (let i = 0; i < 2000; i++) {
      const p = i % 10;
      const r = randomBytes(1 + (i % 50));
      w.write(p, r);
      written.set(p, [...(written.get(p) ?? []), r.toString('hex')]);
      if (i % 100 === 0) await w.flushIfNeeded();
    }
    const res = await w.close();
    expect(res.discarded).toBe(false);
  }
  for (let p = 0; p < 10; p++) {
    const got: string[] = [];
    for await (const r of client.reader({ appId: 'smoke', shuffleId: 0, partitionId: p }))
      got.push(r.toString('hex'));
    expect(got.sort()).toEqual(written.get(p)!.sort());
  }
  await client.close();
  await driver.close();
});
