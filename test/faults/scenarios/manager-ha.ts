// Manager failover in the middle of a shuffle (docs/architecture.md#high-availability): three
// managers on a three-server ZooKeeper ensemble, workers and the driver given all three
// addresses. The leader is killed with SIGKILL, or frozen with SIGSTOP past its ZooKeeper
// session timeout and thawed, during the map stage; the shuffle must finish with every record
// of the winners read back exactly once. The time from the kill to the first AllocateShuffle the
// new leader answers is measured.
//
// ZooKeeper quorum loss (zkQuorumLoss): two of the three ZooKeeper servers are stopped for
// 10 s in the middle of the map stage, then started again on their ports and data. Maps keep
// pushing meanwhile (pushes need no manager); a manager write fails with a retriable
// STATE_UNAVAILABLE or NOT_LEADER (docs/architecture.md#zookeeper-layout); no manager exits;
// after the quorum is back the rest of the maps run and the shuffle finishes exactly.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { retry } from '../../../src/common/flow/retry.js';
import { ManagerClient } from '../../../src/common/proto/manager-client.js';
import { HaProcessCluster, type HaClusterOptions } from '../../../src/testing/ha-cluster.js';
import { zooKeeperAvailable } from '../../../src/testing/zookeeper.js';
import {
  appIdFor,
  check,
  resultOf,
  withClosing,
  withJob,
  type Scenario,
  type ScenarioResult,
} from '../harness.js';

const SESSION_MS = 3_000;

function withHaCluster<T>(
  opts: HaClusterOptions,
  fn: (c: HaProcessCluster) => Promise<T>,
): Promise<T> {
  return withClosing(() => HaProcessCluster.start(opts), fn);
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

/** How long the ZooKeeper ensemble has no quorum in zkQuorumLoss. */
const QUORUM_LOSS_MS = 10_000;

/** What a refused manager write said: the manager's own answer inside the client's wrapper. */
interface Refusal {
  readonly code: string;
  readonly retriable: boolean;
  readonly ms: number;
}

/**
 * One RegisterApp of a probe app through a one-pass client of `address` (no failover budget,
 * no redirects: each manager is asked once; the last one's answer is the error). Resolves
 * with the refusal, or 'OK' if it was accepted. A leader without ZooKeeper answers after its store's timeout (the session
 * timeout), hence the deadline above it.
 */
async function probeWrite(address: string): Promise<Refusal | 'OK'> {
  const client = new ManagerClient(address, {
    deadlineMs: SESSION_MS * 2,
    failoverTimeoutMs: 0,
    maxRedirects: 0,
  });
  const at = Date.now();
  try {
    await client.registerApp({ appId: appIdFor('qprobe'), priority: 3, name: 'q', user: 'test' });
    return 'OK';
  } catch (err) {
    // The one-pass client wraps the last manager's answer in RETRIES_EXCEEDED.
    const e = err as { code?: string; retriable?: boolean; cause?: unknown };
    const answer = (
      e.code === 'SLUICE_ERR_RETRIES_EXCEEDED' && e.cause !== undefined ? e.cause : e
    ) as { code?: string; retriable?: boolean };
    return {
      code: answer.code ?? String(err),
      retriable: answer.retriable === true,
      ms: Date.now() - at,
    };
  } finally {
    client.close();
  }
}

/**
 * Each manager process is alive: not exited, and its /proc state neither zombie nor dead.
 * (A manager that aborted but lingers would fail the /api/v1/cluster check instead.)
 */
function checkManagersAlive(cluster: HaProcessCluster, when: string): void {
  for (const [i, m] of cluster.managers.entries()) {
    check(
      m.child.exitCode === null && m.child.signalCode === null,
      `${when}: manager ${i} (pid ${m.pid}) exited with ${m.child.exitCode ?? m.child.signalCode}`,
    );
    let state = '';
    try {
      state = /^State:\s+(\S)/m.exec(readFileSync(`/proc/${m.pid}/status`, 'utf8'))?.[1] ?? '?';
    } catch {
      state = 'gone';
    }
    check(
      state !== 'Z' && state !== 'X' && state !== 'gone',
      `${when}: manager ${i} (pid ${m.pid}) is in state ${state}:\n${m.output.slice(-20).join('\n')}`,
    );
  }
}

/**
 * Two of three ZooKeeper servers stopped with stop() (SIGTERM, their sockets closed) rather
 * than frozen with SIGSTOP: the survivor sees its peers' connections close at once and stops
 * serving, so the quorum is gone for the whole 10 s; a frozen peer is only given up after
 * syncLimit (5 s here) while its open sockets swallow requests. And two frozen servers that
 * include the ZooKeeper leader still form a quorum when thawed, whose session tracker then
 * expires every session idle for 10 s: that is a frozen ensemble, not a lost quorum. After a
 * restart a new ZooKeeper leader is elected and gives every session a fresh timeout, so the
 * managers' sessions come back (docs/architecture.md#high-availability). The stopped servers
 * are the ZooKeeper leader and one follower.
 */
export const zkQuorumLoss: Scenario = {
  name: 'ZooKeeper quorum lost for 10 s during the map stage (HA)',
  skipReason,
  run: (shape) =>
    withHaCluster({ sessionTimeoutMs: SESSION_MS }, (cluster) =>
      withJob(cluster.managerAddress, 'zk-quorum', { shape }, async (job) => {
        const third = Math.ceil(shape.maps / 3);
        const all = Array.from({ length: shape.maps }, (_, m) => m);
        await job.runMaps(undefined, all.slice(0, third));
        const leader = cluster.managers[await cluster.waitForLeader()]!.address;

        const modes = await Promise.all(cluster.zk.servers.map((s) => s.mode()));
        const zkLeader = Math.max(0, modes.indexOf('leader'));
        const stopped = [zkLeader, (zkLeader + 1) % cluster.zk.servers.length];
        const t0 = Date.now();
        await Promise.all(stopped.map((i) => cluster.zk.servers[i]!.stop()));
        const downAt = Date.now();

        // Maps push during the outage; probes ask the managers for a write meanwhile.
        const duringMaps = job.runMaps(undefined, all.slice(third, 2 * third));
        const refusals: Refusal[] = [];
        const leaderRefusals: Refusal[] = [];
        // The leader steps down after a session timeout without ZooKeeper: probes before and
        // after. One that finds a leader still waiting on its store takes up to a session
        // timeout, so none starts in the last one.
        while (Date.now() - downAt < QUORUM_LOSS_MS - SESSION_MS) {
          // Through every address (what callers do), and the leader alone: the last answer of
          // the first is a follower's whenever the leader is not the last address tried.
          const [answer, leaderAnswer] = await Promise.all([
            probeWrite(cluster.managerAddress),
            probeWrite(leader),
          ]);
          check(answer !== 'OK', 'a manager accepted a write while ZooKeeper had no quorum');
          check(leaderAnswer !== 'OK', 'the leader accepted a write while ZooKeeper had no quorum');
          refusals.push(answer);
          leaderRefusals.push(leaderAnswer);
          await sleep(500);
        }
        for (const r of [...refusals, ...leaderRefusals]) {
          check(
            (r.code === 'SLUICE_ERR_STATE_UNAVAILABLE' || r.code === 'SLUICE_ERR_NOT_LEADER') &&
              r.retriable,
            `a write without quorum failed with ${r.code} (retriable: ${r.retriable})`,
          );
          check(r.ms < SESSION_MS * 2, `a write without quorum took ${r.ms} ms to fail`);
        }
        check(refusals.length > 0, 'no write was probed during the outage');
        await sleep(Math.max(0, QUORUM_LOSS_MS - (Date.now() - downAt)));
        checkManagersAlive(cluster, 'after 10 s without quorum');

        const outageMs = Date.now() - downAt;
        await Promise.all(stopped.map((i) => cluster.zk.servers[i]!.start()));
        const quorumAt = Date.now();
        const recoveryMs = await timeToAllocate(cluster, quorumAt);
        await duringMaps;
        await job.runMaps(undefined, all.slice(2 * third));

        const outcome = await job.commit();
        check(outcome.lost.length === 0, `lost partitions ${outcome.lost.join(',')}`);
        const result = resultOf(job, await job.readAndVerify());
        checkManagersAlive(cluster, 'after the quorum came back');
        for (let i = 0; i < cluster.managers.length; i++)
          check((await cluster.view(i)) !== undefined, `manager ${i} no longer answers HTTP`);
        await cluster.waitForLeader();
        return {
          ...result,
          measures: {
            stopMs: downAt - t0,
            outageMs,
            restartMs: quorumAt - downAt - outageMs,
            recoveryMs,
            probes: refusals.length,
            refusedWith: [...new Set(refusals.map((r) => r.code))].join('|'),
            leaderRefusedWith: leaderRefusals
              .map((r) => r.code.replace('SLUICE_ERR_', ''))
              .join(','),
            probeMaxMs: Math.max(...refusals.map((r) => r.ms), ...leaderRefusals.map((r) => r.ms)),
          },
        };
      }),
    ),
};
