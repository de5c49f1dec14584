// A disk that starts failing (docs/architecture.md#storage-health). The failure is injected:
// the worker runs with test.diskFaultFile, and while `<dir>/FAIL_IO` exists every write,
// commit and probe on that disk fails with EIO — a fake, because a real disk cannot be made
// to fail on demand here (no device-mapper). What is real is everything above it: the health
// monitor, the storage choice, the heartbeats, the manager's allocation and the client's
// failover.
//
// One disk of two fails in the middle of the map stage: the files on it fail their writes,
// their pushes are answered FAILED and move to other workers, new files go to the other
// disk, and the manager sees the disk failing. Then the worker's last disk fails too: the
// manager allocates the next shuffle elsewhere. Everything reads back exactly.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../../../src/testing/wait-for.js';
import type { ProcessCluster } from '../../../src/testing/process-cluster.js';
import { check, resultOf, withCluster, withJob, type Scenario } from '../harness.js';

const FAULT = 'FAIL_IO';

/** The storage states the manager has for one worker's disks, by path. */
async function diskStates(cluster: ProcessCluster, workerId: string) {
  const state = await cluster.client.getClusterState({});
  const w = state.workers.find((x) => x.address?.workerId === workerId);
  return new Map((w?.load?.disks ?? []).map((d) => [d.path, d.state]));
}

export const diskFailing: Scenario = {
  name: 'a disk starts failing (I/O errors injected)',
  run: async (shape) => {
    const root = mkdtempSync(join(tmpdir(), 'sluice-failing-'));
    const [d0, d1] = [join(root, 'd0'), join(root, 'd1')];
    mkdirSync(d0);
    mkdirSync(d1);
    try {
      return await withCluster(
        {
          workers: 3,
          managerConfig: { 'manager.workerHeartbeatIntervalMs': 300 },
          perWorkerConfig: {
            'worker-2': {
              'test.diskFaultFile': FAULT,
              // Small writes: the victim writes (and fails) during the map stage.
              'worker.flushBytes': 32 * 1024,
              'storage.probeIntervalMs': 200,
            },
          },
          perWorkerDirs: { 'worker-2': [d0, d1] },
        },
        (cluster) =>
          withJob(
            cluster.managerAddress,
            'disk-failing',
            { shape, client: { compression: 'none' } },
            async (job) => {
              const victim = cluster.worker('worker-2');
              await job.runMaps(async (done) => {
                if (done === Math.ceil(shape.maps / 3)) writeFileSync(join(d0, FAULT), '');
              });
              check(
                job.driver!.shuffle(0).groups.some((g) => g.epoch > 0),
                'no group moved off the failing disk',
              );
              check(
                victim.output.some((l) => l.includes('storage not healthy') && l.includes(d0)),
                'the worker did not log its failing disk',
              );
              await waitFor(
                async () => (await diskStates(cluster, victim.workerId)).get(d0) === 'failing',
                {
                  timeoutMs: 10_000,
                  what: "the manager to see worker-2's disk d0 failing",
                },
              );
              check(
                (await diskStates(cluster, victim.workerId)).get(d1) === 'healthy',
                'the other disk is not reported healthy',
              );
              const outcome = await job.commit();
              check(outcome.lost.length === 0, `lost partitions ${outcome.lost.join(',')}`);
              const verified = await job.readAndVerify();

              // The last disk fails: the worker has no healthy storage, and the manager
              // places the next shuffle on the two others only.
              writeFileSync(join(d1, FAULT), '');
              await waitFor(
                async () => (await diskStates(cluster, victim.workerId)).get(d1) === 'failing',
                {
                  timeoutMs: 10_000,
                  what: "the manager to see worker-2's disk d1 failing",
                },
              );
              const next = await job.driver!.registerShuffle({
                shuffleId: 1,
                numMappers: 1,
                numPartitions: 20,
                maxPartitionsPerGroup: 2,
              });
              const used = new Set(
                next.groups.flatMap((g) => [g.primary?.workerId, g.replica?.workerId]),
              );
              check(
                !used.has(victim.workerId),
                'a group of the new shuffle went to the worker with no healthy disk',
              );
              return resultOf(job, verified);
            },
          ),
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  },
};
