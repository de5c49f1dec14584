// The worker's budget of partition files open for writing (worker.maxOpenFiles,
// docs/architecture.md#open-files). A partition's file stays open from its first flush to the
// commit, so a shuffle of many partitions whose data outgrows memory held a descriptor per
// partition and failed its files with EMFILE past the process's limit: acknowledged data lost
// on that worker. Here a worker process limited to 256 descriptors (prlimit) takes 600
// partitions that each flush before the commit: with no effective budget some files fail
// (the case is real), with a budget of 64 nothing is lost and every record reads back.
import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { ShuffleClient, ShuffleDriver } from '../src/client/index.js';
import { ProcessCluster } from '../src/testing/process-cluster.js';

const PARTITIONS = 600;
const RECORDS_PER_PARTITION = 6;
/**
 * 1 000 incompressible bytes (the client compresses blocks: repeated bytes would shrink to
 * nothing), derived from (p, i): 6 KB a partition, past the 4 KiB flush size.
 */
function record(p: number, i: number): Buffer {
  const out = Buffer.alloc(1_000);
  let x = (p * 7_919 + i * 104_729 + 1) >>> 0;
  for (let k = 0; k < out.length; k++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[k] = x & 0xff;
  }
  return out;
}

let cluster: ProcessCluster | undefined;
const closing: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closing.splice(0).reverse()) await close();
  await cluster?.close();
  cluster = undefined;
});

async function run(maxOpenFiles: number) {
  cluster = await ProcessCluster.start({
    workers: 1,
    workerConfig: { 'worker.flushBytes': 4096, 'worker.maxOpenFiles': maxOpenFiles },
  });
  const worker = cluster.worker('worker-1');
  execFileSync('prlimit', ['--pid', String(worker.pid), '--nofile=256:256']);
  const appId = `open-files-${maxOpenFiles}`;
  const driver = await ShuffleDriver.start({ manager: cluster.managerAddress, appId });
  const client = new ShuffleClient({ driver: driver.driverAddress });
  closing.push(
    () => driver.close(),
    () => client.close(),
  );
  await driver.registerShuffle({
    shuffleId: 0,
    numMappers: 1,
    numPartitions: PARTITIONS,
    replication: false,
  });
  const w = client.writer({
    appId,
    shuffleId: 0,
    mapId: 0,
    attemptId: 0,
    numPartitions: PARTITIONS,
  });
  for (let i = 0; i < RECORDS_PER_PARTITION; i++) {
    for (let p = 0; p < PARTITIONS; p++) w.write(p, record(p, i));
    await w.flushIfNeeded();
  }
  await w.close();
  const outcome = await driver.commitShuffle(0, 60_000);
  const read = async (p: number) => {
    const got: string[] = [];
    for await (const r of client.reader({ appId, shuffleId: 0, partitionId: p }))
      got.push(Buffer.from(r).toString('hex'));
    return got;
  };
  return { outcome, read };
}

describe('a worker limited to 256 open descriptors, 600 partitions flushed before the commit', () => {
  it('with no effective budget (maxOpenFiles 100 000), files fail with EMFILE and data is lost', async () => {
    const { outcome } = await run(100_000);
    expect(outcome.lost.length).toBeGreaterThan(0);
    expect(cluster!.worker('worker-1').output.join('\n')).toMatch(/EMFILE/);
  }, 120_000);

  it('with maxOpenFiles 64, nothing is lost and every record reads back', async () => {
    const { outcome, read } = await run(64);
    expect(outcome.lost).toEqual([]);
    for (let p = 0; p < PARTITIONS; p++) {
      const want = Array.from({ length: RECORDS_PER_PARTITION }, (_, i) =>
        record(p, i).toString('hex'),
      );
      expect((await read(p)).sort()).toEqual(want.sort());
    }
  }, 120_000);
});
