// A worker that stops answering without dying (docs/architecture.md#lifecycle-of-one-shuffle: a push that times out moves the
// group): paused with SIGSTOP past the client's push timeout and resumed, and the network to
// one worker cut in the middle of the map stage and restored. Its late answers and the
// batches it took before the stall must not show up twice or from a losing attempt.
import { FakeNetworkLink } from '../../../src/testing/fake-network.js';
import { waitFor } from '../../../src/testing/wait-for.js';
import { check, resultOf, withCluster, withJob, type FaultJob, type Scenario } from '../harness.js';

const PUSH_TIMEOUT_MS = 1_000;

/** Waits until some group moved off `workerId` (the client gave up on it). */
export async function groupsMovedOff(job: FaultJob, workerId: string): Promise<void> {
  await waitFor(
    () =>
      job.driver!.shuffle(0).groups.some((g) => g.epoch > 0) &&
      job
        .driver!.shuffle(0)
        .groups.every((g) => g.primary?.workerId !== workerId && g.replica?.workerId !== workerId),
    { timeoutMs: 30_000, what: `every group to move off ${workerId}` },
  );
}

export const pausePastPushTimeout: Scenario = {
  name: 'worker SIGSTOP past the push timeout, then SIGCONT',
  run: (shape) =>
    withCluster({ workers: 3 }, (cluster) =>
      withJob(
        cluster.managerAddress,
        'pause',
        { shape, client: { pushTimeoutMs: PUSH_TIMEOUT_MS } },
        async (job) => {
          const victim = cluster.worker('worker-2');
          await job.runMaps(async (done) => {
            if (done !== Math.ceil(shape.maps / 4)) return;
            process.kill(victim.pid, 'SIGSTOP');
            try {
              await groupsMovedOff(job, victim.workerId);
            } finally {
              process.kill(victim.pid, 'SIGCONT');
            }
          });
          const outcome = await job.commit();
          check(outcome.lost.length === 0, `lost partitions ${outcome.lost.join(',')}`);
          return resultOf(job, await job.readAndVerify());
        },
      ),
    ),
};

export const networkCut: Scenario = {
  name: 'network cut to one worker mid-push, then restored',
  run: async (shape) => {
    const link = await FakeNetworkLink.listen();
    try {
      return await withCluster(
        { workers: 3, perWorkerConfig: { 'worker-2': { 'test.advertiseDataPort': link.port } } },
        async (cluster) => {
          const victim = cluster.worker('worker-2');
          link.target('127.0.0.1', victim.dataPort);
          return withJob(
            cluster.managerAddress,
            'netcut',
            { shape, client: { pushTimeoutMs: PUSH_TIMEOUT_MS } },
            async (job) => {
              await job.runMaps(async (done) => {
                if (done !== Math.ceil(shape.maps / 4)) return;
                link.cut();
                try {
                  await groupsMovedOff(job, victim.workerId);
                } finally {
                  link.restore();
                }
              });
              check(link.resets > 0, 'no connection crossed the link when it was cut');
              const outcome = await job.commit();
              check(outcome.lost.length === 0, `lost partitions ${outcome.lost.join(',')}`);
              // The reads go through the restored link (the victim holds committed files).
              return resultOf(job, await job.readAndVerify());
            },
          );
        },
      );
    } finally {
      await link.close();
    }
  },
};
