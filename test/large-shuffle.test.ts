// Large shuffles (docs/client.md#large-shuffles): one shuffle of 100 000 partitions on three
// workers, its CommitFiles answers in pages (a worker's whole answer would be over grpc-js's
// 4 MiB default receive limit); nothing acknowledged is reported lost, every partition's count
// checks out and a sample reads back exactly. Without replication, so that it stays a fast test:
// the commit's cost is per file, and `npm run bench:large` runs 10^3 to 10^6 partitions with
// replication. Pages of 7 files, bad page requests, and a driver whose message limit is too
// small for a page (an error naming the limit, not ShuffleDataLostError).
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShuffleClient, ShuffleDriver, type WriteResult } from '../src/client/index.js';
import { WorkerControlClient } from '../src/common/proto/worker-client.js';
import { startCluster, type Cluster } from '../src/testing/cluster.js';

const PARTITIONS = 100_000;
const MAPS = 2;
const SAMPLE = 200;

let cluster: Cluster;
beforeAll(async () => {
  // 100 000 partition files, each a data file and an index: in memory, not fsynced, so the
  // test measures Sluice rather than the disk.
  const tmp = process.env['TMPDIR'];
  if (existsSync('/dev/shm')) process.env['TMPDIR'] = '/dev/shm';
  try {
    cluster = await startCluster({
      workers: 3,
      // Child processes: the workers' per-file work runs on every core, not on the test's.
      childWorkers: true,
      workerConfig: { 'worker.fsyncOnCommit': false },
    });
  } finally {
    if (tmp === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = tmp;
  }
}, 60_000);
afterAll(async () => {
  await cluster?.close();
}, 60_000);

/** Records map `mapId` writes to partition `p`: 1 or 2, varying with both. */
const recordsOf = (mapId: number, p: number) => 1 + ((p * 7 + mapId) % 2);
const recordBytes = (mapId: number, p: number, i: number) => Buffer.from(`m${mapId}p${p}r${i}`);

async function writeMap(
  client: ShuffleClient,
  appId: string,
  mapId: number,
  partitions: number,
): Promise<WriteResult> {
  const w = client.writer({ appId, shuffleId: 0, mapId, attemptId: 0, numPartitions: partitions });
  for (let p = 0; p < partitions; p++) {
    for (let i = 0; i < recordsOf(mapId, p); i++) w.write(p, recordBytes(mapId, p, i));
    if (p % 1_000 === 0) await w.flushIfNeeded();
  }
  return w.close();
}

describe('a shuffle of 100 000 partitions', () => {
  it('commits with no lost partition and reads back exactly', async () => {
    const appId = 'large-shuffle';
    const driver = await ShuffleDriver.start({ manager: cluster.managerAddress, appId });
    const client = new ShuffleClient({ driver: driver.driverAddress });
    try {
      let t = performance.now();
      await driver.registerShuffle({
        shuffleId: 0,
        numMappers: MAPS,
        numPartitions: PARTITIONS,
        replication: false,
      });
      const allocateMs = performance.now() - t;

      t = performance.now();
      const results = await Promise.all(
        Array.from({ length: MAPS }, (_, m) => writeMap(client, appId, m, PARTITIONS)),
      );
      const writeMs = performance.now() - t;
      t = performance.now();
      const outcome = await driver.commitShuffle(0, 150_000);
      const commitMs = performance.now() - t;
      console.log(
        `large shuffle: ${PARTITIONS} partitions, ${MAPS} maps: AllocateShuffle ${allocateMs.toFixed(0)} ms, writes ${writeMs.toFixed(0)} ms, commit ${commitMs.toFixed(0)} ms`,
      );

      expect(outcome.lost).toEqual([]);
      expect(outcome.failedWorkers.size).toBe(0);
      // Every partition: the writers counted the records they were given, the driver's
      // winners account for the same bytes, and its worker committed a file.
      const bytesByPartition = new Float64Array(PARTITIONS);
      // (Counted, not one expect per partition: 300 000 expects take seconds.)
      let wrongCounts = 0;
      for (const [m, r] of results.entries()) {
        expect(r.discarded).toBe(false);
        expect(r.partitions).toHaveLength(PARTITIONS);
        let records = 0;
        for (const s of r.partitions) {
          if (s.records !== recordsOf(m, s.partition)) wrongCounts++;
          bytesByPartition[s.partition]! += s.bytes;
          records += s.records;
        }
        expect(r.records).toBe(records);
      }
      expect(wrongCounts).toBe(0);
      const winners = [...driver.shuffle(0).winners.values()];
      expect(winners).toHaveLength(MAPS);
      const driverBytes = new Float64Array(PARTITIONS);
      for (const w of winners)
        for (const [p, s] of w.partitions) driverBytes[p]! += Number(s.bytes);
      let missing = 0;
      let mismatched = 0;
      for (let p = 0; p < PARTITIONS; p++) {
        if (driverBytes[p] !== bytesByPartition[p]) mismatched++;
        const replicas = [...(outcome.files.get(p)?.values() ?? [])].flat();
        if (replicas.length !== 1) missing++;
      }
      expect({ mismatched, missing }).toEqual({ mismatched: 0, missing: 0 });

      // A deterministic sample, read back record for record.
      for (let k = 0; k < SAMPLE; k++) {
        const p = (k * 7_919) % PARTITIONS;
        const want: string[] = [];
        for (let m = 0; m < MAPS; m++)
          for (let i = 0; i < recordsOf(m, p); i++) want.push(recordBytes(m, p, i).toString());
        const got: string[] = [];
        for await (const r of client.reader({ appId, shuffleId: 0, partitionId: p }))
          got.push(Buffer.from(r).toString());
        expect(got.sort()).toEqual(want.sort());
      }
    } finally {
      await client.close();
      await driver.close();
    }
    // Most of it is the workers' per-file work (100 000 partition files).
  }, 240_000);
});

describe('a CommitFiles answer over the driver limit', () => {
  it('fails the commit with SLUICE_ERR_CONFIG naming the limit, not as lost data', async () => {
    const appId = 'too-small-limit';
    const partitions = 3_000;
    // Far below a page of 3 000 committed partitions (about 100 bytes each, 300 KB), above the
    // rest (the map's MapperEnd: 24 bytes a partition, 72 KB).
    const driver = await ShuffleDriver.start({
      manager: cluster.managerAddress,
      appId,
      maxMessageBytes: 128 * 1024,
      commitAttempts: 1,
      lostCommitAttempts: 1,
    });
    const client = new ShuffleClient({ driver: driver.driverAddress });
    try {
      await driver.registerShuffle({ shuffleId: 0, numMappers: 1, numPartitions: partitions });
      await writeMap(client, appId, 0, partitions);
      const err = await driver.commitShuffle(0, 30_000).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ code: 'SLUICE_ERR_CONFIG' });
      expect(String(err)).toMatch(/maxMessageBytes/);
      expect(String(err)).toMatch(/larger than max/);
      const read = async () => {
        for await (const _ of client.reader({ appId, shuffleId: 0, partitionId: 0 })) void _;
      };
      await expect(read()).rejects.toMatchObject({ code: 'SLUICE_ERR_CONFIG' });
    } finally {
      await client.close();
      await driver.close();
    }
  }, 30_000);
});

describe('CommitFiles answers in pages', () => {
  it('a driver paging 7 files at a time gets every replica, and reads back exactly', async () => {
    const appId = 'commit-pages';
    const partitions = 100;
    const driver = await ShuffleDriver.start({
      manager: cluster.managerAddress,
      appId,
      commitPageSize: 7,
    });
    const client = new ShuffleClient({ driver: driver.driverAddress });
    try {
      await driver.registerShuffle({
        shuffleId: 0,
        numMappers: 2,
        numPartitions: partitions,
        replication: true,
      });
      await Promise.all([0, 1].map((m) => writeMap(client, appId, m, partitions)));
      const outcome = await driver.commitShuffle(0, 30_000);
      expect(outcome.lost).toEqual([]);
      expect(outcome.files.replicaCount).toBe(2 * partitions);
      for (let p = 0; p < partitions; p++) {
        const replicas = outcome.files.get(p)?.get(0) ?? [];
        expect(new Set(replicas.map((r) => r.worker?.workerId)).size).toBe(2);
        expect(replicas.every((r) => r.path?.endsWith(`/${p}-0.data`))).toBe(true);
      }
      for (const p of [0, 41, 99]) {
        const got: string[] = [];
        for await (const r of client.reader({ appId, shuffleId: 0, partitionId: p }))
          got.push(Buffer.from(r).toString());
        const want = [0, 1].flatMap((m) =>
          Array.from({ length: recordsOf(m, p) }, (_, i) => recordBytes(m, p, i).toString()),
        );
        expect(got.sort()).toEqual(want.sort());
      }
    } finally {
      await client.close();
      await driver.close();
    }
  }, 60_000);

  it('a page size past the limit is refused, by the driver and by a worker', async () => {
    await expect(
      ShuffleDriver.start({ manager: cluster.managerAddress, appId: 'x', commitPageSize: 100_001 }),
    ).rejects.toMatchObject({ code: 'SLUICE_ERR_INVALID_ARGUMENT' });
    const w = cluster.processes[0]!;
    const control = new WorkerControlClient(`127.0.0.1:${w.controlPort}`);
    try {
      // Whether or not this worker holds a group of the shuffle above (a CI run placed none
      // on it, and it answered an empty page), a bad page is refused.
      for (const [bad, field] of [
        [{ pageSize: 100_001, pageOffset: 0 }, /page_size/],
        [{ pageSize: 10, pageOffset: 1_000_000 }, /page_offset/],
      ] as const) {
        const err = await control.commitFiles({ appId: 'commit-pages', shuffleId: 0, ...bad }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toMatchObject({ code: 'SLUICE_ERR_INVALID_ARGUMENT' });
        expect(String(err)).toMatch(field);
      }
    } finally {
      control.close();
    }
  });
});
