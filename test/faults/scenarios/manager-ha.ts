// Manager failover in the middle of a shuffle (docs/architecture.md#high-availability): three
// managers on a three-server ZooKeeper ensemble, workers and the driver given all three
// addresses. The leader is killed with SIGKILL, or frozen with SIGSTOP past its ZooKeeper
// session timeout and thawed, during the map stage; the shuffle must finish with every record
// of the winners read back exactly once. The time from the kill to the first AllocateShuffle the
// new leader answers is measured.
import { retry } from '../../../src/common/flow/retry.js';
import { ManagerClient } from '../../../src/common/proto/manager-client.js';
import { HaProcessCluster, type HaClusterOptions } from '../../../src/testing/ha-cluster.js';
import { zooKeeperAvailable } from '../../../src/testing/zookeeper.js';
import {
  appIdFor,
  check,
  resultOf,
  withJob,
  type Scenario,
  type ScenarioResult,
} from '../harness.js';

const SESSION_MS = 3_000;

async function withHaCluster<T>(
  opts: HaClusterOptions,
  fn: (c: HaProcessCluster) => Promise<T>,
): Promise<T> {
  const cluster = await HaProcessCluster.start(opts);
  try {
    return await fn(cluster);
  } finally {
    await cluster.close();
  }
}

/**
 * Milliseconds from `since` to the first AllocateShuffle the cluster answers (through the
 * leader-following client), for a probe app of its own.
 */
async function timeToAllocate(cluster: HaProcessCluster, since: number): Promise<number> {
  const appId = appIdFor('probe');
  const client = new ManagerClient(cluster.managerAddress, {
    deadlineMs: 2_000,
    failoverTimeoutMs: 60_000,
  });
  try {
    // A new leader knows no worker until each has heartbeated it again: NO_WORKERS (retriable)
    // until then, which an engine retries the same way.
    await retry(
      async () => {
        await client.registerApp({ appId, priority: 3, name: 'probe', user: 'test' });
        await client.allocateShuffle({
          appId,
          shuffleId: 0,
          numMappers: 1,
          numPartitions: 4,
          replicate: true,
        });
      },
      { maxAttempts: 1_000, budgetMs: 60_000, baseDelayMs: 20, maxDelayMs: 100, what: 'probe' },
    );
    return Date.now() - since;
  } finally {
    await client.unregisterApp({ appId }).catch(() => undefined);
    client.close();
  }
}

const skipReason = (): string | undefined =>
  zooKeeperAvailable() ? undefined : 'ZooKeeper is not installed (Debian package zookeeper)';

export const leaderKill: Scenario = {
  name: 'manager leader kill -9 (HA)',
  skipReason,
  run: (shape) =>
    withHaCluster({ sessionTimeoutMs: SESSION_MS }, (cluster) =>
      withJob(cluster.managerAddress, 'leader-kill', { shape }, async (job) => {
        let failoverMs: Promise<number> | undefined;
        let killedLeader = -1;
        await job.runMaps(async (done) => {
          if (done !== Math.ceil(shape.maps / 4)) return;
          killedLeader = await cluster.waitForLeader();
          const at = Date.now();
          await cluster.signalManager(killedLeader, 'SIGKILL');
          failoverMs = timeToAllocate(cluster, at);
        });
        const ms = await failoverMs!;
        const next = await cluster.waitForLeader([killedLeader]);
        check(next !== killedLeader, 'the killed manager still leads');
        const outcome = await job.commit();
        check(outcome.lost.length === 0, `lost partitions ${outcome.lost.join(',')}`);
        const result: ScenarioResult = resultOf(job, await job.readAndVerify());
        return { ...result, measures: { failoverMs: ms } };
      }),
    ),
};

export const leaderPause: Scenario = {
  name: 'manager leader SIGSTOP past its session, then SIGCONT (HA)',
  skipReason,
  run: (shape) =>
    withHaCluster({ sessionTimeoutMs: SESSION_MS }, (cluster) =>
      withJob(cluster.managerAddress, 'leader-pause', { shape }, async (job) => {
        let paused = -1;
        let failoverMs = 0;
        let staleAnswer = '';
        await job.runMaps(async (done) => {
          if (done !== Math.ceil(shape.maps / 4)) return;
          paused = await cluster.waitForLeader();
          const at = Date.now();
          await cluster.signalManager(paused, 'SIGSTOP');
          // A write sent to the frozen leader waits in its socket until it thaws.
          const stale = new ManagerClient(cluster.managers[paused]!.address, {
            deadlineMs: SESSION_MS * 4,
            failoverTimeoutMs: 0,
            maxRedirects: 0,
          });
          const staleWrite = stale
            .registerApp({ appId: appIdFor('stale'), priority: 3, name: 's', user: 'test' })
            .then(
              () => 'OK',
              // The refusal, unwrapped from the one-pass client's RETRIES_EXCEEDED.
              (err: { code?: string; cause?: { code?: string } }) =>
                err.cause?.code ?? err.code ?? String(err),
            );
          failoverMs = await timeToAllocate(cluster, at);
          await cluster.waitForLeader([paused]);
          await cluster.signalManager(paused, 'SIGCONT');
          staleAnswer = await staleWrite;
          stale.close();
        });
        // The thawed manager must not have accepted the write it held while frozen.
        check(staleAnswer !== 'OK', 'the thawed old leader accepted a write');
        const state = await cluster.client.getClusterState({});
        check(
          !state.apps.some((a) => a.appId.startsWith('stale-')),
          'a write sent to the frozen leader reached the state',
        );
        const view = await cluster.view(paused);
        check(view?.role !== 'leader', `the thawed manager says it is ${view?.role}`);
        const outcome = await job.commit();
        check(outcome.lost.length === 0, `lost partitions ${outcome.lost.join(',')}`);
        const result = resultOf(job, await job.readAndVerify());
        return { ...result, measures: { failoverMs, staleRefusedWith: staleAnswer } };
      }),
    ),
};
