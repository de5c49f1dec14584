// Committed files damaged on disk (docs/protocol.md#block-format CRCs, docs/architecture.md#reads-and-failover): a data file
// truncated or a byte flipped on one replica is detected and the partition is served whole
// from the other replica; with both replicas damaged the read fails (CorruptShuffleDataError
// for flipped bytes) and never yields a record no winner wrote.
import { open, truncate } from 'node:fs/promises';
import {
  CorruptShuffleDataError,
  type FetchFailedError,
  type CommitOutcome,
} from '../../../src/client/index.js';
import {
  check,
  resultOf,
  withCluster,
  withJob,
  WrongBytesError,
  type FaultJob,
  type Scenario,
} from '../harness.js';

async function flipByte(path: string, at: number): Promise<void> {
  const f = await open(path, 'r+');
  try {
    const b = Buffer.alloc(1);
    await f.read(b, 0, 1, at);
    b[0] = b[0]! ^ 0xff;
    await f.write(b, 0, 1, at);
  } finally {
    await f.close();
  }
}

type Damage = 'flip' | 'truncate';

async function damage(how: Damage, file: { path: string; length: number }): Promise<void> {
  if (how === 'flip') await flipByte(file.path, Math.floor(file.length / 2));
  else await truncate(file.path, Math.floor(file.length / 2));
}

/** The committed replicas of every partition that has exactly one epoch with two replicas. */
function twoReplicaPartitions(outcome: CommitOutcome) {
  const out: { partition: number; replicas: { path: string; length: number }[] }[] = [];
  for (const [partition, byEpoch] of outcome.files) {
    if (byEpoch.size !== 1) continue;
    const replicas = [...byEpoch.values()][0]!;
    if (replicas.length !== 2 || replicas.some((r) => Number(r.length) < 1024)) continue;
    out.push({
      partition,
      replicas: replicas.map((r) => ({ path: r.path!, length: Number(r.length) })),
    });
  }
  return out.sort((a, b) => a.partition - b.partition);
}

/**
 * Reads a partition whose replicas are all damaged: it must fail with one of `allowed`, and
 * every record it yielded before failing must be one a winner wrote.
 */
async function expectDamagedRead(
  job: FaultJob,
  partition: number,
  allowed: readonly (typeof CorruptShuffleDataError | typeof FetchFailedError)[],
): Promise<void> {
  const expected = job.expected().get(partition) ?? new Map<string, number>();
  const reader = job.client.reader({ appId: job.appId, shuffleId: 0, partitionId: partition });
  try {
    for await (const r of reader) {
      if (!expected.has(r.toString('latin1')))
        throw new WrongBytesError(
          `partition ${partition}: a damaged read yielded a foreign record`,
        );
    }
  } catch (err) {
    if (err instanceof WrongBytesError) throw err;
    check(
      allowed.some((cls) => err instanceof cls),
      `partition ${partition}: expected ${allowed.map((c) => c.name).join(' or ')}, got ${String(err)}`,
    );
    return;
  }
  throw new WrongBytesError(`partition ${partition}: both replicas damaged and the read succeeded`);
}

export const damagedFiles: Scenario = {
  name: 'data files truncated / byte flipped after commit',
  run: (shape) =>
    withCluster({ workers: 3, workerConfig: { 'worker.chunkBytes': 8 * 1024 } }, (cluster) =>
      withJob(cluster.managerAddress, 'corrupt', { shape }, async (job) => {
        await job.runMaps();
        const outcome = await job.commit();
        check(outcome.lost.length === 0, `lost partitions ${outcome.lost.join(',')}`);
        const candidates = twoReplicaPartitions(outcome);
        check(candidates.length >= 6, `only ${candidates.length} partitions have two replicas`);
        // One replica damaged: half the partitions truncated, half with a flipped byte, on
        // the first or second replica in turn. Two partitions get both replicas damaged.
        const [bothFlipped, bothTruncated, ...one] = candidates;
        for (const [i, c] of one.entries())
          await damage(i % 2 === 0 ? 'flip' : 'truncate', c.replicas[i % 4 < 2 ? 0 : 1]!);
        for (const r of bothFlipped!.replicas) await damage('flip', r);
        for (const r of bothTruncated!.replicas) await damage('truncate', r);

        const intact = Array.from({ length: shape.partitions }, (_, p) => p).filter(
          (p) => p !== bothFlipped!.partition && p !== bothTruncated!.partition,
        );
        const read = await job.read({ partitions: intact });
        // Readers start on a random replica: ~half the damaged reads begin on the bad one.
        check(read.failovers > 0, 'no reader failed over from a damaged replica');
        const v = job.verify(read);
        await expectDamagedRead(job, bothFlipped!.partition, [CorruptShuffleDataError]);
        // A truncated file is shorter than its index: the worker answers CORRUPT_FILE.
        await expectDamagedRead(job, bothTruncated!.partition, [CorruptShuffleDataError]);
        return resultOf(job, v);
      }),
    ),
};
