// Request throttling end to end (docs/architecture.md#ess-mode, issue 6): workers whose chunk reads are slowed
// (test.fetchDelayMs) see a fetch latency over a tiny Lθ, limit the reading app's queued
// chunks, and answer THROTTLED to the requests beyond the limit. The reader backs off and
// sends them again: it reads every record exactly once and never fails for it.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ShuffleClient, ShuffleDriver } from '../src/client/index.js';
import { WORKER_METRICS } from '../src/worker/metrics.js';
import { startCluster, type Cluster } from '../src/testing/cluster.js';
import { waitFor } from '../src/testing/wait-for.js';

const APP = 'throttled-app';
const MAPS = 4;
const PARTITIONS = 2;
const RECORDS_PER_MAP = 300;

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster({
    workers: 2,
    workerConfig: {
      'worker.chunkBytes': 4096,
      'test.fetchDelayMs': 20,
      'throttle.sampleIntervalMs': 20,
      'throttle.latencyThresholdMs': 5,
      'throttle.recomputeIntervalMs': 100,
    },
  });
}, 60_000);
afterAll(async () => {
  await cluster?.close();
}, 30_000);

function record(mapId: number, i: number): { partition: number; bytes: Buffer } {
  const seed = createHash('sha256').update(`${mapId}/${i}`).digest();
  const bytes = Buffer.alloc(64 + (seed.readUInt16BE(0) % 100), seed.toString('hex'));
  bytes.write(`m${mapId}i${i};`, 0, 'latin1');
  return { partition: seed.readUInt32BE(4) % PARTITIONS, bytes };
}

it('a reader answered THROTTLED backs off, retries and still reads every record exactly once', async () => {
  const driver = await ShuffleDriver.start({
    manager: cluster.managerAddress,
    appId: APP,
    priority: 5,
  });
  const handle = await driver.registerShuffle({
    shuffleId: 0,
    numMappers: MAPS,
    numPartitions: PARTITIONS,
  });
  const client = new ShuffleClient({ driver: handle.driverAddress, pushBatchBytes: 2048 });
  try {
    const want = new Map<number, string[]>();
    for (let m = 0; m < MAPS; m++) {
      const w = client.writer({
        appId: APP,
        shuffleId: 0,
        mapId: m,
        attemptId: 0,
        numPartitions: PARTITIONS,
      });
      for (let i = 0; i < RECORDS_PER_MAP; i++) {
        const r = record(m, i);
        w.write(r.partition, r.bytes);
        want.set(r.partition, [...(want.get(r.partition) ?? []), r.bytes.toString('hex')]);
        await w.flushIfNeeded();
      }
      expect((await w.close()).discarded).toBe(false);
    }
    expect((await driver.commitShuffle(0, 30_000)).lost).toEqual([]);

    let throttled = 0;
    let failovers = 0;
    for (let p = 0; p < PARTITIONS; p++) {
      const reader = client.reader({ appId: APP, shuffleId: 0, partitionId: p });
      const got: string[] = [];
      for await (const r of reader) got.push(r.toString('hex'));
      expect(got.sort()).toEqual([...(want.get(p) ?? [])].sort());
      throttled += reader.stats.throttled;
      failovers += reader.stats.failovers;
    }
    // Throttling slowed the reader down; it never switched replica or failed because of it.
    expect(throttled).toBeGreaterThan(0);
    expect(failovers).toBe(0);

    // The workers counted the refusals, limit the app (priority 5, learned from the manager)
    // and report it as throttled in their heartbeats.
    let refused = 0;
    for (const w of cluster.workers) {
      const metric = await w.metrics.registry
        .getSingleMetric(WORKER_METRICS.throttledRequests)!
        .get();
      refused += metric.values.find((v) => v.labels.app === APP)?.value ?? 0;
    }
    expect(refused).toBe(throttled);
    const limiting = cluster.workers.filter((w) => w.fetchAdmission?.limitedApps().includes(APP));
    expect(limiting.length).toBeGreaterThan(0);
    const state = limiting[0]!.fetchAdmission!.snapshot().apps.find((a) => a.appId === APP)!;
    expect(state.limited).toBe(true);
    expect(state.priority).toBe(5);
    expect(state.queuedChunkLimit).toBeDefined();
    await waitFor(
      async () =>
        (await cluster.client.getClusterState()).workers.some((w) =>
          w.load?.throttledApps.includes(APP),
        ),
      { what: 'a heartbeat reporting the throttled app' },
    );
  } finally {
    await client.close();
    await driver.close();
  }
}, 120_000);
