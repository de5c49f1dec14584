// One hostile app beside a victim on a real in-process cluster
// (docs/operations.md#limits-against-hostile-or-buggy-clients). Through the real
// ManagerService the hostile app asks for 10^6 partitions in groups of 1 (refused), then
// allocates shuffles of 10^6 partitions until its partition quota refuses one. Meanwhile
// another app runs a whole shuffle through the public client API and must read back exactly
// what it wrote, and other callers' GetShuffle, GetClusterState and the HTTP API must keep
// answering within a short deadline.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShuffleClient, ShuffleDriver } from '../src/client/index.js';
import { SluiceError } from '../src/common/errors.js';
import { readClusterState } from '../src/common/proto/cluster-state.js';
import { ManagerClient } from '../src/common/proto/manager-client.js';
import { startCluster, type Cluster } from '../src/testing/cluster.js';

const MAPS = 4;
const PARTITIONS = 20;
const RECORDS_PER_MAP = 1_000;
const HOSTILE = 'app-hostile';
const VICTIM = 'app-victim';
/** What a probe of another caller may take, far below the 10 s default deadline. */
const PROBE_DEADLINE_MS = 3_000;

function record(mapId: number, i: number): { partition: number; bytes: Buffer } {
  const seed = createHash('sha256').update(`${mapId}/${i}`).digest();
  const bytes = Buffer.concat([Buffer.from(`m${mapId}i${i};`), seed.subarray(0, seed[0]! % 32)]);
  return { partition: seed.readUInt32BE(4) % PARTITIONS, bytes };
}

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster({ workers: 3 });
}, 60_000);
afterAll(async () => {
  await cluster?.close();
}, 30_000);

/** The hostile app: what it was answered, in order. */
async function hostile(client: ManagerClient): Promise<string[]> {
  const answers: string[] = [];
  await client.registerApp({ appId: HOSTILE, priority: 1 });
  const allocate = (shuffleId: number, maxPartitionsPerGroup: number) =>
    client
      .allocateShuffle({
        appId: HOSTILE,
        shuffleId,
        numMappers: 1_000_000,
        numPartitions: 1_000_000,
        maxPartitionsPerGroup,
      })
      .then(
        (r) => `${r.groups.length} groups`,
        (e: SluiceError) => e.code,
      );
  answers.push(await allocate(0, 1));
  for (let shuffleId = 1; shuffleId <= 20; shuffleId++) {
    const answer = await allocate(shuffleId, 0);
    answers.push(answer);
    if (answer !== '10000 groups') break;
  }
  return answers;
}

/** Another caller's reads while the hostile app runs; returns the slowest, in ms. */
async function probe(until: () => boolean): Promise<{ calls: number; slowestMs: number }> {
  const client = new ManagerClient(cluster.managerAddress, {
    deadlineMs: PROBE_DEADLINE_MS,
    failoverTimeoutMs: PROBE_DEADLINE_MS,
  });
  const http = `http://127.0.0.1:${cluster.manager.httpPort}/api/v1`;
  const get = async (path: string) => {
    const res = await fetch(`${http}${path}`, { signal: AbortSignal.timeout(PROBE_DEADLINE_MS) });
    expect(res.status, path).toBe(200);
    await res.json();
  };
  let calls = 0;
  let slowestMs = 0;
  const timed = async (p: () => Promise<unknown>) => {
    const started = performance.now();
    await p();
    slowestMs = Math.max(slowestMs, performance.now() - started);
    calls++;
  };
  try {
    do {
      await timed(() => client.getClusterState({}));
      await timed(() => readClusterState(client));
      await timed(async () => {
        const victim = await client.getShuffle({ appId: VICTIM, shuffleId: 0 }).catch((e) => e);
        // Before the victim allocated, NOT_FOUND is the right answer; nothing else is.
        if (victim instanceof SluiceError) expect(victim.code).toBe('SLUICE_ERR_NOT_FOUND');
      });
      for (const path of ['/workers', '/apps', '/shuffles', `/shuffles?appId=${VICTIM}`])
        await timed(() => get(path));
    } while (!until());
  } finally {
    client.close();
  }
  return { calls, slowestMs };
}

/** The victim: a whole shuffle through the public API; returns what it read per partition. */
async function victim(): Promise<Map<number, string[]>> {
  const driver = await ShuffleDriver.start({ manager: cluster.managerAddress, appId: VICTIM });
  const client = new ShuffleClient({ driver: driver.driverAddress, pushBatchBytes: 8 * 1024 });
  try {
    await driver.registerShuffle({ shuffleId: 0, numMappers: MAPS, numPartitions: PARTITIONS });
    for (let mapId = 0; mapId < MAPS; mapId++) {
      const w = client.writer({
        appId: VICTIM,
        shuffleId: 0,
        mapId,
        attemptId: 0,
        numPartitions: PARTITIONS,
      });
      for (let i = 0; i < RECORDS_PER_MAP; i++) {
        const r = record(mapId, i);
        w.write(r.partition, r.bytes);
      }
      expect((await w.close()).discarded).toBe(false);
    }
    const read = new Map<number, string[]>();
    for (let p = 0; p < PARTITIONS; p++) {
      const got: string[] = [];
      for await (const r of client.reader({ appId: VICTIM, shuffleId: 0, partitionId: p }))
        got.push(r.toString('hex'));
      read.set(p, got.sort());
    }
    return read;
  } finally {
    await client.close();
    await driver.close();
  }
}

describe('a hostile app allocating 10^6-partition shuffles beside a victim', () => {
  it('is refused cleanly; the victim reads back exactly; other callers keep their deadlines', async () => {
    const attacker = new ManagerClient(cluster.managerAddress);
    let finished = false;
    try {
      const attack = hostile(attacker);
      const victimDone = victim();
      const probes = probe(() => finished);
      const [answers, read] = await Promise.all([attack, victimDone]).finally(() => {
        finished = true;
      });
      const { calls, slowestMs } = await probes;

      // Groups of 1 refused; ten shuffles of 10^6 partitions in 10^4 groups served, then the
      // partition quota (10^7 per app by default) refuses the eleventh.
      expect(answers).toEqual([
        'SLUICE_ERR_INVALID_ARGUMENT',
        ...Array<string>(10).fill('10000 groups'),
        'SLUICE_ERR_QUOTA_EXCEEDED',
      ]);
      expect(cluster.manager.manager.usage(HOSTILE)).toEqual({
        shuffles: 10,
        partitions: 10_000_000,
        groups: 100_000,
      });

      const want = new Map<number, string[]>();
      for (let mapId = 0; mapId < MAPS; mapId++)
        for (let i = 0; i < RECORDS_PER_MAP; i++) {
          const r = record(mapId, i);
          want.set(r.partition, [...(want.get(r.partition) ?? []), r.bytes.toString('hex')]);
        }
      for (let p = 0; p < PARTITIONS; p++)
        expect(read.get(p), `partition ${p}`).toEqual((want.get(p) ?? []).sort());

      expect(calls).toBeGreaterThan(7);
      expect(slowestMs).toBeLessThan(PROBE_DEADLINE_MS);
      const text = await (
        await fetch(`http://127.0.0.1:${cluster.manager.httpPort}/metrics`)
      ).text();
      expect(text).toContain(
        'sluice_manager_limit_refusals_total{limit="manager.maxGroupsPerShuffle",process="manager"} 1',
      );
      expect(text).toContain(
        'sluice_manager_limit_refusals_total{limit="manager.maxPartitionsPerApp",process="manager"} 1',
      );
    } finally {
      finished = true;
      attacker.close();
    }
  }, 120_000);
});
