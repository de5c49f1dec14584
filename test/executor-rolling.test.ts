// Executor rolling (docs/architecture.md#ess-mode, issue 6): a skewed job in which one executor slot gets the big
// map tasks. With rolling on, the driver drains that executor once it has written
// rollingThresholdBytes, the engine (simulated here) releases it when idle and starts a
// replacement, so no executor writes more than the threshold plus one task's output; the
// shuffle still reads back exactly.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ShuffleClient, ShuffleDriver, type RollingDecision } from '../src/client/index.js';
import { startCluster, type Cluster } from '../src/testing/cluster.js';

const KIB = 1024;
const PARTITIONS = 8;
const THRESHOLD = 1024 * KIB;
/** Output per map task: slot 0 gets the big tasks (skew), the others small ones. */
const TASKS: { slot: number; bytes: number }[] = [
  ...Array.from({ length: 10 }, () => ({ slot: 0, bytes: 400 * KIB })),
  ...Array.from({ length: 10 }, (_, i) => ({ slot: 1 + (i % 2), bytes: 40 * KIB })),
];

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster({ workers: 3 });
});
afterAll(async () => {
  await cluster?.close();
});

interface Executor {
  readonly id: string;
  readonly client: ShuffleClient;
}

async function runJob(appId: string, thresholdBytes: number) {
  const driver = await ShuffleDriver.start({
    manager: cluster.managerAddress,
    appId,
    rollingThresholdBytes: thresholdBytes,
  });
  const decisions: RollingDecision[] = [];
  const executors: Executor[] = [];
  const newExecutor = (slot: number): Executor => {
    const id = `${appId}-slot${slot}-exec${executors.length}`;
    const e = {
      id,
      client: new ShuffleClient({
        driver: driver.driverAddress,
        executorId: id,
        compression: 'none',
      }),
    };
    executors.push(e);
    return e;
  };
  const slots = [0, 1, 2].map(newExecutor);
  // The engine's side of rolling: a released executor is closed and its slot gets a new one.
  driver.on('decision', (d) => {
    decisions.push(d);
    if (d.kind === 'replace') {
      const slot = slots.findIndex((e) => e.id === d.executorId);
      slots[slot] = newExecutor(slot);
    }
  });
  const expected = new Map<number, string[]>();
  let largestTask = 0;
  try {
    await driver.registerShuffle({
      shuffleId: 0,
      numMappers: TASKS.length,
      numPartitions: PARTITIONS,
    });
    // Each slot runs its tasks one after another on whatever executor holds the slot.
    await Promise.all(
      [0, 1, 2].map(async (slot) => {
        for (const [mapId, task] of TASKS.entries()) {
          if (task.slot !== slot) continue;
          const exec = slots[slot]!;
          const w = exec.client.writer({
            appId,
            shuffleId: 0,
            mapId,
            attemptId: 0,
            numPartitions: PARTITIONS,
          });
          for (let i = 0; i * 4 * KIB < task.bytes; i++) {
            const r = randomBytes(4 * KIB - 4);
            const p = (mapId + i) % PARTITIONS;
            w.write(p, r);
            expected.set(p, [...(expected.get(p) ?? []), r.toString('hex')]);
            await w.flushIfNeeded();
          }
          const result = await w.close();
          largestTask = Math.max(largestTask, result.bytes);
          if (driver.rolling.state(exec.id) === 'draining') {
            driver.executorActivity(exec.id, {
              runningTasks: 0,
              unackedPushes: exec.client.inFlightBytes > 0 ? 1 : 0,
            });
            await exec.client.close();
          }
        }
      }),
    );
    const reader = slots[1]!.client;
    for (let p = 0; p < PARTITIONS; p++) {
      const got: string[] = [];
      for await (const r of reader.reader({ appId, shuffleId: 0, partitionId: p }))
        got.push(r.toString('hex'));
      expect(got.sort(), `partition ${p}`).toEqual((expected.get(p) ?? []).sort());
    }
    const perExecutor = driver.rolling.bytesByExecutor();
    return { decisions, perExecutor, largestTask, maxWritten: Math.max(...perExecutor.values()) };
  } finally {
    await Promise.all(executors.map((e) => e.client.close()));
    await driver.close();
  }
}

it('without rolling the skewed executor writes far past the threshold', async () => {
  const off = await runJob('rolling-off', 0);
  expect(off.decisions).toEqual([]);
  expect(off.maxWritten).toBeGreaterThan(3 * THRESHOLD);
}, 60_000);

it('with rolling no executor writes more than the threshold plus one task, and all data reads back', async () => {
  const on = await runJob('rolling-on', THRESHOLD);
  expect(on.maxWritten).toBeLessThanOrEqual(THRESHOLD + on.largestTask);
  const kinds = on.decisions.map((d) => d.kind);
  expect(kinds.filter((k) => k === 'drain').length).toBeGreaterThanOrEqual(3);
  expect(kinds.filter((k) => k === 'release').length).toBe(
    kinds.filter((k) => k === 'replace').length,
  );
  // Every drained executor was released and replaced, and only the skewed slot rolled.
  for (const d of on.decisions) expect(d.executorId).toMatch(/slot0/);
  expect(on.perExecutor.size).toBeGreaterThan(3);
}, 60_000);
