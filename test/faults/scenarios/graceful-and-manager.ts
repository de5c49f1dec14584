// Planned and unplanned restarts of the control plane's pieces: a worker stopped gracefully
// (SIGTERM, docs/architecture.md#worker: HARD_SPLIT to new pushes, exit 0) in the middle of the map stage must
// fail no task; the manager killed with SIGKILL and restarted on the same SQLite file
// (docs/architecture.md#cluster-manager) in the middle of the map stage must let the running shuffle finish.
import { check, resultOf, withCluster, withJob, type Scenario } from '../harness.js';

export const gracefulWorkerStop: Scenario = {
  name: 'worker SIGTERM during a shuffle',
  run: (shape) =>
    withCluster({ workers: 3 }, (cluster) =>
      withJob(cluster.managerAddress, 'sigterm', { shape }, async (job) => {
        const victim = cluster.worker('worker-1');
        let exit: Promise<number | string> | undefined;
        await job.runMaps((done) => {
          if (done === Math.ceil(shape.maps / 3)) exit = victim.stop('SIGTERM');
        });
        check((await exit) === 0, `the worker exited with ${String(await exit)}, not 0`);
        const outcome = await job.commit();
        check(outcome.lost.length === 0, `lost partitions ${outcome.lost.join(',')}`);
        // resultOf fails the scenario on any failed map attempt: "no failed task".
        return resultOf(job, await job.readAndVerify());
      }),
    ),
};

export const managerRestart: Scenario = {
  name: 'manager kill -9 and restart on the same SQLite file',
  run: (shape) =>
    withCluster({ workers: 3 }, (cluster) =>
      withJob(cluster.managerAddress, 'mgr-restart', { shape }, async (job) => {
        const down = Math.ceil(shape.maps / 4);
        let killed: Promise<void> | undefined;
        await job.runMaps(async (done) => {
          // Maps keep pushing while the manager is down: pushes need no manager.
          if (done === down) await (killed = cluster.killManager());
          if (done === down + 2) {
            await killed;
            await cluster.restartManager();
          }
        });
        const outcome = await job.commit();
        check(outcome.lost.length === 0, `lost partitions ${outcome.lost.join(',')}`);
        const state = await cluster.client.getClusterState({});
        check(
          state.apps.some((a) => a.appId === job.appId),
          'the restarted manager does not know the running app',
        );
        await cluster.waitForWorkers(3);
        return resultOf(job, await job.readAndVerify());
      }),
    ),
};
