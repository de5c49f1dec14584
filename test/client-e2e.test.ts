// End-to-end push shuffle on a real cluster (issue 4): a manager and three worker processes,
// a ShuffleDriver and ShuffleClients in this process. Records are derived from (mapId,
// attemptId, index) so the records of a losing attempt are recognisable; every partition
// read back must equal, as a multiset, exactly the records of the winning attempts.
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ShuffleClient,
  ShuffleDriver,
  type ShuffleClientOptions,
  type WriteResult,
} from '../src/client/index.js';
import { startCluster, type Cluster } from '../src/testing/cluster.js';

const MAPS = 20;
const PARTITIONS = 100;
const RECORDS_PER_MAP = 2_000;
const CLIENT: Partial<ShuffleClientOptions> = { pushBatchBytes: 16 * 1024 };

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster({ workers: 3, childWorkers: true });
}, 60_000);
afterAll(async () => {
  await cluster?.close();
}, 30_000);

/** Deterministic record i of (mapId, attemptId): 16..300 bytes, partition from its hash. */
function record(mapId: number, attemptId: number, i: number): { partition: number; bytes: Buffer } {
  const seed = createHash('sha256').update(`${mapId}/${attemptId}/${i}`).digest();
  const length = 16 + (seed.readUInt16BE(0) % 285);
  const bytes = Buffer.alloc(length);
  for (let at = 0; at < length; at += seed.length) seed.copy(bytes, at);
  bytes.write(`m${mapId}a${attemptId}i${i};`, 0, 'latin1');
  return { partition: seed.readUInt32BE(4) % PARTITIONS, bytes };
}

interface Job {
  readonly appId: string;
  readonly driver: ShuffleDriver;
  readonly client: ShuffleClient;
}

async function startJob(appId: string): Promise<Job> {
  const driver = await ShuffleDriver.start({ manager: cluster.managerAddress, appId });
  const handle = await driver.registerShuffle({
    shuffleId: 0,
    numMappers: MAPS,
    numPartitions: PARTITIONS,
    maxPartitionsPerGroup: 10,
  });
  const client = new ShuffleClient({ driver: handle.driverAddress, ...CLIENT });
  return { appId, driver, client };
}

async function runMap(
  job: Job,
  client: ShuffleClient,
  mapId: number,
  attemptId: number,
): Promise<WriteResult> {
  const w = client.writer({
    appId: job.appId,
    shuffleId: 0,
    mapId,
    attemptId,
    numPartitions: PARTITIONS,
  });
  for (let i = 0; i < RECORDS_PER_MAP; i++) {
    const r = record(mapId, attemptId, i);
    w.write(r.partition, r.bytes);
    if (i % 200 === 0) await w.flushIfNeeded();
  }
  return w.close();
}

/** Runs `maps` with at most `concurrency` at a time; `onDone` sees each finished map. */
async function runMaps(
  job: Job,
  maps: number[],
  concurrency: number,
  onDone?: (done: number) => void | Promise<void>,
) {
  const queue = [...maps];
  let done = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let m = queue.shift(); m !== undefined; m = queue.shift()) {
        const result = await runMap(job, job.client, m, 0);
        expect(result.discarded).toBe(false);
        await onDone?.(++done);
      }
    }),
  );
}

/** Expected hex records per partition for the winning attempt of each map. */
function expected(winners: Map<number, number>): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const [mapId, attemptId] of winners) {
    for (let i = 0; i < RECORDS_PER_MAP; i++) {
      const r = record(mapId, attemptId, i);
      out.set(r.partition, [...(out.get(r.partition) ?? []), r.bytes.toString('hex')]);
    }
  }
  return out;
}

async function readAll(
  job: Job,
): Promise<{ partitions: Map<number, string[]>; failovers: number }> {
  const partitions = new Map<number, string[]>();
  let failovers = 0;
  for (let p = 0; p < PARTITIONS; p++) {
    const reader = job.client.reader({ appId: job.appId, shuffleId: 0, partitionId: p });
    const got: string[] = [];
    for await (const r of reader) got.push(r.toString('hex'));
    partitions.set(p, got);
    failovers += reader.stats.failovers;
  }
  return { partitions, failovers };
}

function expectExactly(got: Map<number, string[]>, want: Map<number, string[]>): void {
  let total = 0;
  for (let p = 0; p < PARTITIONS; p++) {
    const a = [...(got.get(p) ?? [])].sort();
    const b = [...(want.get(p) ?? [])].sort();
    expect(a.length, `partition ${p} record count`).toBe(b.length);
    expect(digest(a), `partition ${p} checksum`).toBe(digest(b));
    expect(a).toEqual(b);
    total += a.length;
  }
  expect(total).toBe([...want.values()].reduce((n, v) => n + v.length, 0));
}

function digest(sortedHex: string[]): string {
  const h = createHash('sha256');
  for (const r of sortedHex) h.update(r);
  return h.digest('hex');
}

async function endJob(job: Job): Promise<void> {
  await job.client.close();
  await job.driver.close();
}

describe('end-to-end push shuffle on manager + 3 worker processes', () => {
  it('speculative attempts and a map retried after a failed push: exactly the winners come back', async () => {
    const job = await startJob('e2e-speculation');
    try {
      const winners = new Map<number, number>();
      // Map 7, attempt 0: its pushes to a stopped worker time out, the attempt fails.
      const stopped = cluster.processes[1]!;
      const impatient = new ShuffleClient({
        driver: job.driver.driverAddress,
        ...CLIENT,
        pushTimeoutMs: 300,
        pushAttempts: 1,
      });
      process.kill(stopped.pid, 'SIGSTOP');
      try {
        await expect(runMap(job, impatient, 7, 0)).rejects.toMatchObject({
          code: 'SLUICE_ERR_PUSH_FAILED',
        });
      } finally {
        process.kill(stopped.pid, 'SIGCONT');
        await impatient.close();
      }
      // The engine retries map 7 as attempt 1; maps 3 and 11 run twice at the same time.
      const speculative = [3, 11].map(async (m) => {
        const [a, b] = await Promise.all([
          runMap(job, job.client, m, 0),
          runMap(job, job.client, m, 1),
        ]);
        expect([a.discarded, b.discarded].sort()).toEqual([false, true]);
        winners.set(m, a.discarded ? 1 : 0);
      });
      const retried = runMap(job, job.client, 7, 1).then((r) => {
        expect(r.discarded).toBe(false);
        winners.set(7, 1);
      });
      const others = Array.from({ length: MAPS }, (_, m) => m).filter(
        (m) => ![3, 7, 11].includes(m),
      );
      await Promise.all([...speculative, retried, runMaps(job, others, 3)]);
      for (const m of others) winners.set(m, 0);

      const outcome = await job.driver.commitShuffle(0, 30_000);
      expect(outcome.lost).toEqual([]);
      const { partitions } = await readAll(job);
      expectExactly(partitions, expected(winners));
    } finally {
      await endJob(job);
    }
  }, 120_000);

  it("reads everything through the other replica when one worker's files are deleted", async () => {
    const job = await startJob('e2e-replica-loss');
    try {
      await runMaps(
        job,
        Array.from({ length: MAPS }, (_, m) => m),
        4,
      );
      await job.driver.commitShuffle(0, 30_000);
      const victim = cluster.processes[0]!;
      for (const dir of cluster.workerDirs(victim.workerId))
        rmSync(join(dir, job.appId), { recursive: true, force: true });
      const { partitions, failovers } = await readAll(job);
      expectExactly(partitions, expected(new Map(Array.from({ length: MAPS }, (_, m) => [m, 0]))));
      // Readers pick a replica at random: with ~2/3 of the groups on the victim, some reads
      // must have started there and failed over.
      expect(failovers).toBeGreaterThan(0);
    } finally {
      await endJob(job);
    }
  }, 120_000);

  it('survives a worker killed with SIGKILL in the middle of the map stage', async () => {
    const job = await startJob('e2e-worker-killed');
    try {
      const victim = cluster.processes[2]!;
      await runMaps(
        job,
        Array.from({ length: MAPS }, (_, m) => m),
        4,
        async (done) => {
          if (done === 8) await victim.stop('SIGKILL');
        },
      );
      const outcome = await job.driver.commitShuffle(0, 30_000);
      expect(outcome.lost).toEqual([]);
      expect(outcome.failedWorkers.has(victim.workerId)).toBe(true);
      // The groups the victim served moved to new epochs.
      expect(job.driver.shuffle(0).groups.some((g) => g.epoch > 0)).toBe(true);
      const { partitions } = await readAll(job);
      expectExactly(partitions, expected(new Map(Array.from({ length: MAPS }, (_, m) => [m, 0]))));
    } finally {
      await endJob(job);
    }
  }, 120_000);
});
