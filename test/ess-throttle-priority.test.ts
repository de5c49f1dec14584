// App priorities on the ESS fetch path (docs/architecture.md#request-throttling): FETCH_BLOCKS
// carries the app's priority, which the reader learns from its driver, and the ESS's throttling
// allocates each app fr̂_a = max node rate / ((1 + ln N) × p). Two apps with the same demand,
// one registered at priority 1 and one at 5, read from one ESS whose disk is made slow enough
// for the fetch latency L to pass Lθ. At the first sample that limits anyone, the ESS must
// know both priorities, allocate exactly that formula to each (so five times more to priority
// 1), and limit the priority-5 app, which fetches over its share, but not the priority-1 app,
// which fetches under its. Both apps still read every record (THROTTLED means back off).
// Before FETCH_BLOCKS carried it, every app was priority 3 on an ESS: both got the same fr̂_a.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ShuffleClient, ShuffleDriver } from '../src/client/index.js';
import type { ThrottleSnapshot } from '../src/common/flow/fetch-throttle.js';
import { startEssNode, type EssNode } from '../src/testing/ess.js';

const MAPS = 8;
const PARTITIONS = 40;

let node: EssNode;
beforeAll(async () => {
  node = await startEssNode({
    prefix: 'sluice-ess-priority-',
    config: {
      'ess.readConcurrency': 2,
      'test.fetchDelayMs': 5, // 2 reads at a time, 5 ms each: ~400 fetches/s, L well over 1 ms
      'throttle.sampleIntervalMs': 100,
      'throttle.latencyThresholdMs': 1,
      'throttle.recomputeIntervalMs': 1_000,
      'throttle.windowMs': 10_000,
      'throttle.holdMs': 500,
    },
  });
});
afterAll(() => node?.close());

async function startApp(appId: string, priority: number) {
  const driver = await ShuffleDriver.start({
    manager: node.cluster.managerAddress,
    appId,
    mode: 'ess',
    priority,
  });
  await driver.registerShuffle({ shuffleId: 0, numMappers: MAPS, numPartitions: PARTITIONS });
  const client = new ShuffleClient({
    driver: driver.driverAddress,
    mode: 'ess',
    ess: { address: node.ess.address, dir: node.dir },
    essFetchParallelism: 4,
  });
  for (let m = 0; m < MAPS; m++) {
    const w = client.writer({
      appId,
      shuffleId: 0,
      mapId: m,
      attemptId: 0,
      numPartitions: PARTITIONS,
    });
    for (let p = 0; p < PARTITIONS; p++) w.write(p, Buffer.alloc(256, m));
    await w.close();
  }
  return { appId, driver, client };
}

/** Reads every partition twice over, 2 at a time; returns the records read. */
async function readAll(a: Awaited<ReturnType<typeof startApp>>): Promise<number> {
  let records = 0;
  const order = [...Array(PARTITIONS * 2).keys()].map((i) => i % PARTITIONS);
  await Promise.all(
    [0, 1].map(async () => {
      for (let p = order.shift(); p !== undefined; p = order.shift())
        for await (const r of a.client.reader({ appId: a.appId, shuffleId: 0, partitionId: p }))
          if (r.length === 256) records++;
    }),
  );
  return records;
}

it('two apps of priorities 1 and 5 are allocated and limited by the formula', async () => {
  const high = await startApp(`prio-1-${process.pid}`, 1);
  const low = await startApp(`prio-5-${process.pid}`, 5);
  // The first sample after which some app is limited, polled faster than samples are taken.
  let firstLimited: ThrottleSnapshot | undefined;
  const poll = setInterval(() => {
    const s = node.ess.fetchAdmission.snapshot();
    if (!firstLimited && s.apps.some((a) => a.limited)) firstLimited = s;
  }, 10);
  try {
    const [highRecords, lowRecords] = await Promise.all([readAll(high), readAll(low)]);
    expect(highRecords).toBe(MAPS * PARTITIONS * 2);
    expect(lowRecords).toBe(MAPS * PARTITIONS * 2);
  } finally {
    clearInterval(poll);
    await Promise.all([high.client.close(), low.client.close()]);
    await Promise.all([high.driver.close(), low.driver.close()]);
  }
  expect(firstLimited, 'no app was ever limited: L never passed Lθ').toBeDefined();
  const s = firstLimited!;
  const h = s.apps.find((a) => a.appId === high.appId)!;
  const l = s.apps.find((a) => a.appId === low.appId)!;
  process.stdout.write(
    `ess priorities: L ${s.latencyMs.toFixed(1)} ms, N ${s.activeApps}, max node rate ` +
      `${s.maxNodeRate.toFixed(0)}/s; priority 1: rate ${h.rate.toFixed(0)}/s, allocated ` +
      `${h.allocatedRate.toFixed(0)}/s, limited ${h.limited}; priority 5: rate ${l.rate.toFixed(0)}/s, ` +
      `allocated ${l.allocatedRate.toFixed(0)}/s, limited ${l.limited}\n`,
  );
  expect([h.priority, l.priority]).toEqual([1, 5]);
  expect(s.activeApps).toBe(2);
  const divisor = 1 + Math.log(2);
  expect(h.allocatedRate).toBeCloseTo(s.maxNodeRate / (divisor * 1), 6);
  expect(l.allocatedRate).toBeCloseTo(s.maxNodeRate / (divisor * 5), 6);
  expect(l.limited).toBe(true);
  expect(l.rate).toBeGreaterThan(l.allocatedRate);
  expect(h.limited).toBe(false);
  expect(h.rate).toBeLessThanOrEqual(h.allocatedRate);
  // The low-priority app was answered THROTTLED at some point and read everything anyway.
  const throttled = (await node.ess.metrics.throttledRequests.get()).values;
  expect(throttled.find((v) => v.labels.app === low.appId)?.value ?? 0).toBeGreaterThan(0);
}, 120_000);
