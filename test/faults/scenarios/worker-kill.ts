// Worker processes killed with SIGKILL (docs/architecture.md#lifecycle-of-one-shuffle failures while writing, docs/architecture.md#worker commit, docs/architecture.md#reads-and-failover
// reader failover): during the map stage, during the commit, during the reduce stage. Every
// group has a replica on another process, so nothing may be lost.
import { waitFor } from '../../../src/testing/wait-for.js';
import { check, resultOf, withCluster, withJob, type Scenario } from '../harness.js';

export const killDuringMaps: Scenario = {
  name: 'worker kill -9 during the map stage',
  run: (shape) =>
    withCluster({ workers: 3 }, (cluster) =>
      withJob(cluster.managerAddress, 'kill-maps', { shape }, async (job) => {
        const victim = cluster.worker('worker-3');
        await job.runMaps(async (done) => {
          if (done === Math.ceil(shape.maps / 3)) await victim.stop('SIGKILL');
        });
        const outcome = await job.commit();
        check(outcome.lost.length === 0, `lost partitions ${outcome.lost.join(',')}`);
        check(outcome.failedWorkers.has(victim.workerId), 'the killed worker committed');
        return resultOf(job, await job.readAndVerify());
      }),
    ),
};

export const killDuringCommit: Scenario = {
  name: 'worker kill -9 during commit',
  run: (shape) =>
    // The victim's disk is slow, so its commit (flush + index) lasts long enough to be hit.
    withCluster(
      { workers: 3, perWorkerConfig: { 'worker-1': { 'test.diskWriteBytesPerSec': 256 * 1024 } } },
      (cluster) =>
        withJob(cluster.managerAddress, 'kill-commit', { shape }, async (job) => {
          const victim = cluster.worker('worker-1');
          const commitStarted = () =>
            victim.output.some((l) => l.includes('"commit started"') && l.includes(job.appId));
          const killer = waitFor(commitStarted, {
            timeoutMs: 60_000,
            what: 'the commit to start on the victim',
          }).then(() => victim.stop('SIGKILL'));
          await job.runMaps();
          await killer;
          const outcome = await job.commit();
          check(outcome.lost.length === 0, `lost partitions ${outcome.lost.join(',')}`);
          check(
            outcome.failedWorkers.has(victim.workerId),
            'the killed worker finished its commit',
          );
          return resultOf(job, await job.readAndVerify());
        }),
    ),
};

export const killDuringReduce: Scenario = {
  name: 'worker kill -9 during the reduce stage',
  run: (shape) =>
    // Small chunks: each file spans several chunks, so a reader is cut in the middle of one.
    withCluster({ workers: 3, workerConfig: { 'worker.chunkBytes': 8 * 1024 } }, (cluster) =>
      withJob(cluster.managerAddress, 'kill-reduce', { shape }, async (job) => {
        await job.runMaps();
        const outcome = await job.commit();
        check(outcome.lost.length === 0, `lost partitions ${outcome.lost.join(',')}`);
        const victim = cluster.worker('worker-2');
        const v = await job.readAndVerify({
          onRead: async (n) => {
            if (n === Math.ceil(shape.partitions / 4)) await victim.stop('SIGKILL');
          },
        });
        // Readers pick a replica at random: some of the ~3/4 of reads left must have gone
        // to the dead worker first and failed over.
        check(v.failovers > 0, 'no reader failed over from the killed worker');
        return resultOf(job, v);
      }),
    ),
};
