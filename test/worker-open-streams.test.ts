// The worker's budget of open read streams (worker.maxOpenStreams,
// docs/architecture.md#reads-and-failover): every stream holds an open file, and streams were
// bounded only per connection (4096), so clients opening streams over many connections could
// run the worker out of file descriptors, failing its writes and accepts too. A hostile reader
// spends the budget over two connections: the next OPEN_STREAM anywhere is THROTTLED and
// counted; a victim's reader backs off and, once the hostile streams are gone, reads back
// exactly what its app wrote through the public client.
import { createHash } from 'node:crypto';
import type { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShuffleClient, ShuffleDriver } from '../src/client/index.js';
import type { AppId, ShuffleId } from '../src/common/ids.js';
import { WireStatusCode } from '../src/common/status-codes.js';
import { startCluster, type Cluster } from '../src/testing/cluster.js';
import { DataPlaneError, RawDataClient } from '../src/testing/raw-data-client.js';
import { waitFor } from '../src/testing/wait-for.js';

const MAX_OPEN_STREAMS = 6;
const PARTITIONS = 4;
const RECORDS = 4_000;

async function metric(registry: Registry, name: string): Promise<number> {
  const m = registry.getSingleMetric(name);
  if (!m) return 0;
  return (await m.get()).values.reduce((sum, v) => sum + v.value, 0);
}

function record(i: number): { partition: number; bytes: Buffer } {
  const seed = createHash('sha256').update(`r${i}`).digest();
  const bytes = Buffer.alloc(50 + (seed.readUInt16BE(0) % 200));
  for (let at = 0; at < bytes.length; at += seed.length) seed.copy(bytes, at);
  bytes.write(`i${i};`, 0, 'latin1');
  return { partition: seed.readUInt32BE(4) % PARTITIONS, bytes };
}

describe('worker refuses read streams past worker.maxOpenStreams', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({
      workers: 1,
      workerConfig: { 'worker.maxOpenStreams': MAX_OPEN_STREAMS },
    });
  }, 30_000);
  afterAll(async () => {
    await cluster?.close();
  });

  it('THROTTLED past the budget across connections, counted; the victim reads back exactly', async () => {
    const worker = cluster.workers[0]!;
    const registry = worker.metrics.registry;
    const appId = 'streams-victim';
    const driver = await ShuffleDriver.start({ manager: cluster.managerAddress, appId });
    const handle = await driver.registerShuffle({
      shuffleId: 0,
      numMappers: 1,
      numPartitions: PARTITIONS,
      replication: false,
    });
    const client = new ShuffleClient({ driver: handle.driverAddress });
    const hostile = await Promise.all([
      RawDataClient.connect('127.0.0.1', worker.dataPort),
      RawDataClient.connect('127.0.0.1', worker.dataPort),
    ]);
    try {
      const w = client.writer({
        appId,
        shuffleId: 0,
        mapId: 0,
        attemptId: 0,
        numPartitions: PARTITIONS,
      });
      const want = Array.from({ length: PARTITIONS }, () => [] as string[]);
      for (let i = 0; i < RECORDS; i++) {
        const r = record(i);
        w.write(r.partition, r.bytes);
        want[r.partition]!.push(r.bytes.toString('hex'));
      }
      await w.close();
      expect((await driver.commitShuffle(0, 20_000)).lost).toEqual([]);

      // The hostile reader holds the whole budget, half on each connection.
      const open = (c: RawDataClient, partition: number) =>
        c.openStream({
          appId: appId as AppId,
          shuffleId: 0 as ShuffleId,
          partition,
          epoch: 0,
          startChunk: 0,
        });
      for (let i = 0; i < MAX_OPEN_STREAMS; i++) await open(hostile[i % 2]!, i % PARTITIONS);
      expect(await metric(registry, 'sluice_worker_open_streams')).toBe(MAX_OPEN_STREAMS);
      const refused = await open(hostile[0]!, 0).catch((err: unknown) => err);
      expect(refused).toBeInstanceOf(DataPlaneError);
      expect(refused).toMatchObject({
        status: WireStatusCode.THROTTLED,
        message: expect.stringContaining(`at most ${MAX_OPEN_STREAMS} (worker.maxOpenStreams)`),
      });
      expect(await metric(registry, 'sluice_worker_refused_streams_total')).toBe(1);
      expect(hostile[0]!.closed).toBe(false); // a request error: the connection stays

      // The victim is refused too and backs off; it goes on once the hostile streams close.
      const readers = Array.from({ length: PARTITIONS }, (_, p) =>
        client.reader({ appId, shuffleId: 0, partitionId: p }),
      );
      const reads = readers.map(async (reader) => {
        const got: string[] = [];
        for await (const r of reader) got.push(r.toString('hex'));
        return got;
      });
      await waitFor(
        async () => (await metric(registry, 'sluice_worker_refused_streams_total')) > 1,
        { what: 'the victim to be refused a stream' },
      );
      await Promise.all(hostile.map((c) => c.close()));
      const got = await Promise.all(reads);
      for (let p = 0; p < PARTITIONS; p++) {
        expect(got[p]!.length, `partition ${p} record count`).toBe(want[p]!.length);
        expect(got[p]!.sort(), `partition ${p} records`).toEqual(want[p]!.sort());
      }
      expect(readers.reduce((n, r) => n + r.stats.throttled, 0)).toBeGreaterThan(0);
      await waitFor(async () => (await metric(registry, 'sluice_worker_open_streams')) === 0, {
        what: 'every stream to be closed',
      });
    } finally {
      await Promise.all(hostile.map((c) => c.close().catch(() => undefined)));
      await client.close();
      await driver.close();
    }
  });
});
