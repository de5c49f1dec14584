// Request throttling under load (docs/architecture.md#ess-mode, issue 6): two apps on one ESS whose disk serves 4
// reads at a time, 10 ms each. The abusive app keeps hundreds of tiny fetches queued; the
// normal app reads a few larger regions, one fetch at a time. With throttling on, the abusive
// app is limited to a short queue and the normal app's p99 fetch latency must be at least 3x
// lower than with throttling off; the abusive app still reads all its data (THROTTLED means
// back off and retry, never fail).
// One fetch at a time keeps the normal app under its fair share fr̂_a = max node rate /
// ((1 + ln 2) × 3), about a fifth of the fake disk's 400 fetches/s. With 4 parallel fetches
// it went over it while the node sat near Lθ, and was then limited too: the controller
// working as specified, but a different test (its backed-off retries were the p99).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { EssReader } from '../src/client/ess-mode/ess-reader.js';
import { ShuffleClient, ShuffleDriver } from '../src/client/index.js';
import type { EssServer } from '../src/ess/server.js';
import { startCluster, type Cluster } from '../src/testing/cluster.js';
import { startEss } from '../src/testing/ess.js';
import { waitFor } from '../src/testing/wait-for.js';

let cluster: Cluster;
let root: string;
beforeAll(async () => {
  cluster = await startCluster({ workers: 0 });
  root = mkdtempSync(join(tmpdir(), 'sluice-ess-load-'));
});
afterAll(async () => {
  await cluster?.close();
  rmSync(root, { recursive: true, force: true });
});

interface App {
  readonly appId: string;
  readonly driver: ShuffleDriver;
  readonly client: ShuffleClient;
  readonly expected: Map<number, number>;
}

async function app(
  ess: EssServer,
  dir: string,
  appId: string,
  maps: number,
  partitions: number,
  recordBytes: number,
  parallelism: number,
): Promise<App> {
  const driver = await ShuffleDriver.start({ manager: cluster.managerAddress, appId, mode: 'ess' });
  await driver.registerShuffle({ shuffleId: 0, numMappers: maps, numPartitions: partitions });
  const client = new ShuffleClient({
    driver: driver.driverAddress,
    mode: 'ess',
    ess: { address: ess.address, dir },
    essFetchParallelism: parallelism,
    compression: 'none',
  });
  const expected = new Map<number, number>();
  for (let m = 0; m < maps; m++) {
    const w = client.writer({
      appId,
      shuffleId: 0,
      mapId: m,
      attemptId: 0,
      numPartitions: partitions,
    });
    for (let p = 0; p < partitions; p++) {
      w.write(p, Buffer.alloc(recordBytes, m % 251));
      expected.set(p, (expected.get(p) ?? 0) + 1);
    }
    await w.close();
  }
  return { appId, driver, client, expected };
}

async function readPartition(a: App, p: number): Promise<{ records: number; latencies: number[] }> {
  const reader = a.client.reader({ appId: a.appId, shuffleId: 0, partitionId: p }) as EssReader;
  let records = 0;
  for await (const r of reader) if (r.length > 0) records++;
  return { records, latencies: reader.fetchLatenciesMs };
}

function p99(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)]!;
}

async function run(throttling: boolean): Promise<number> {
  const dir = join(root, throttling ? 'on' : 'off');
  const ess = await startEss({
    dir,
    config: {
      'ess.readConcurrency': 4,
      'ess.maxInFlightPerConnection': 256,
      'test.fetchDelayMs': 10,
      'throttle.enabled': throttling,
      'throttle.sampleIntervalMs': 50,
      'throttle.latencyThresholdMs': 30,
      'throttle.recomputeIntervalMs': 250,
      'throttle.windowMs': 5_000,
      'throttle.holdMs': 60_000,
    },
  });
  const tag = throttling ? 'on' : 'off';
  const abusive = await app(ess, dir, `abusive-${tag}`, 200, 16, 16, 64);
  const normal = await app(ess, dir, `normal-${tag}`, 8, 2, 32 * 1024, 1);
  try {
    // The abusive app's readers loop over its partitions until the measurement is done, each
    // read verified complete; the normal app is measured once the same amount of abusive load
    // has been served in both runs (the controller needs a few samples to act).
    let stop = false;
    let abusiveReadsDone = 0;
    const abusiveReads = Promise.all(
      [0, 1, 2, 3].map(async (r) => {
        for (let p = r; !stop; p = (p + 4) % 16) {
          const { records } = await readPartition(abusive, p);
          expect(records, `abusive partition ${p}`).toBe(abusive.expected.get(p));
          abusiveReadsDone++;
        }
      }),
    );
    const served = async () => (await ess.metrics.fetches.get()).values[0]?.value ?? 0;
    await waitFor(async () => (await served()) >= 1_500, {
      what: '1 500 abusive fetches',
      timeoutMs: 30_000,
    });
    const latencies: number[] = [];
    for (let pass = 0; pass < 3; pass++)
      for (let p = 0; p < 2; p++) {
        const { records, latencies: l } = await readPartition(normal, p);
        expect(records, `normal partition ${p}`).toBe(normal.expected.get(p));
        latencies.push(...l);
      }
    // The ESS exports what the controller decided for the abusive app.
    const limit = (await ess.metrics.appQueuedChunkLimit.get()).values.find(
      (v) => v.labels.app === abusive.appId,
    );
    expect(limit?.value).toBeGreaterThan(0);
    stop = true;
    await abusiveReads;
    expect(abusiveReadsDone).toBeGreaterThan(0);
    expect(latencies.length).toBe(3 * 2 * 8);
    const throttled = (await ess.metrics.throttledRequests.get()).values;
    const normalThrottled = throttled.find((v) => v.labels.app === normal.appId)?.value ?? 0;
    console.log(
      `throttling ${tag}: the normal app was answered THROTTLED ${normalThrottled} times`,
    );
    return p99(latencies);
  } finally {
    for (const a of [abusive, normal]) {
      await a.client.close();
      await a.driver.close();
    }
    await ess.close();
  }
}

it('with throttling the normal app p99 fetch latency is at least 3x lower, and the abusive app gets all its data', async () => {
  const off = await run(false);
  const on = await run(true);
  console.log(
    `normal app p99 fetch latency: throttling off ${off.toFixed(1)} ms, on ${on.toFixed(1)} ms (${(off / on).toFixed(1)}x)`,
  );
  expect(off / on).toBeGreaterThanOrEqual(3);
}, 120_000);
