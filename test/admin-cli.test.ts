// `sluice admin` (docs/operations.md#admin-cli) against a cluster of real processes with an
// admin token: decommissioning worker-2 while a job runs places nothing new on it, the job
// still reads back every record exactly once, and the worker stops (exit 0) once the job's app
// has ended, which `decommission --wait` reports; recommission brings a decommissioning worker
// back; an unknown worker, an unreachable manager and a wrong token are clear errors.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessCluster } from '../src/testing/process-cluster.js';
import { CLI_PATH } from '../src/testing/manager.js';
import { freePorts } from '../src/testing/zookeeper.js';
import { waitFor } from '../src/testing/wait-for.js';
import { FaultJob } from './faults/harness.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Starts `sluice admin ...`; `done` settles when it exits. */
function admin(args: readonly string[]): { done: Promise<Run>; stdout: () => string } {
  const child = spawn(process.execPath, [CLI_PATH, 'admin', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const done = once(child, 'exit').then(([code]) => ({ code: code as number, stdout, stderr }));
  return { done, stdout: () => stdout };
}

interface WorkerJson {
  workerId: string;
  state: string;
  servingState: string;
}

describe('sluice admin against a cluster of processes', () => {
  let cluster: ProcessCluster;
  let flags: string[];
  let scratch: string;

  beforeAll(async () => {
    cluster = await ProcessCluster.start({
      workers: 3,
      secure: true,
      // A stopped, decommissioned worker leaves the registry one lost timeout after its last beat.
      managerConfig: { 'manager.workerLostTimeoutMs': 3_000 },
    });
    flags = [
      '--manager',
      `127.0.0.1:${cluster.manager.httpPort}`,
      '--admin-token-file',
      cluster.adminTokenFile,
    ];
    scratch = mkdtempSync(join(tmpdir(), 'sluice-admin-test-'));
  }, 60_000);

  afterAll(async () => {
    await cluster?.close();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  const workers = async () =>
    JSON.parse((await admin(['workers', '--json', ...flags]).done).stdout) as WorkerJson[];
  const stateOf = async (id: string) => (await workers()).find((w) => w.workerId === id);

  it('decommission worker-2 --wait while a job runs: nothing new on it, exact read-back, then it stops', async () => {
    const job = await FaultJob.start(cluster.managerAddress, 'admin-decommission');
    let waiting: ReturnType<typeof admin> | undefined;
    try {
      const table = await admin(['workers', ...flags]).done;
      expect(table.code).toBe(0);
      expect(table.stdout).toMatch(/^WORKER\s+STATE\s+SERVING/);
      for (const id of ['worker-1', 'worker-2', 'worker-3'])
        expect(table.stdout).toMatch(new RegExp(`${id}\\s+healthy\\s+SERVING`));

      await job.runMaps(async (done) => {
        if (done !== Math.ceil(job.shape.maps / 2)) return;
        waiting = admin(['decommission', 'worker-2', '--wait', ...flags]);
        await waitFor(async () => (await stateOf('worker-2'))?.servingState === 'DECOMMISSIONING', {
          timeoutMs: 20_000,
          what: 'worker-2 to report DECOMMISSIONING',
        });
      });
      expect(waiting!.stdout()).toContain('worker-2: decommission requested');
      // --wait follows the steps (it polls every second).
      await waitFor(
        () => /worker-2: DECOMMISSIONING, holding \d+ shuffle/.test(waiting!.stdout()),
        {
          timeoutMs: 20_000,
          what: 'decommission --wait to report DECOMMISSIONING',
        },
      );

      // The manager places no new group on it.
      await cluster.client.registerApp({ appId: 'admin-probe' });
      const probe = await cluster.client.allocateShuffle({
        appId: 'admin-probe',
        shuffleId: 0,
        numMappers: 1,
        numPartitions: 12,
        replicate: true,
      });
      const placed = probe.groups.flatMap((g) => [g.primary?.workerId, g.replica?.workerId]);
      expect(placed).not.toContain('worker-2');
      expect(placed).toContain('worker-1');
      await cluster.client.unregisterApp({ appId: 'admin-probe' });

      const outcome = await job.commit();
      expect(outcome.lost).toEqual([]);
      const v = await job.readAndVerify();
      expect(v.records).toBe(job.shape.maps * job.shape.recordsPerMap);
      expect(job.failedTasks).toEqual([]);
      // Still held: worker-2 keeps serving until the app ends.
      expect(cluster.worker('worker-2').child.exitCode).toBeNull();
    } finally {
      await job.close();
    }
    // The app ended: its data is deleted, worker-2 holds nothing and exits 0.
    const run = await waiting!.done;
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/worker-2: stopped\n$/);
    expect(await cluster.worker('worker-2').exited()).toBe(0);
    // It leaves the registry rather than being reported lost.
    await waitFor(async () => (await stateOf('worker-2')) === undefined, {
      timeoutMs: 20_000,
      what: 'the manager to drop worker-2',
    });
    expect((await workers()).map((w) => `${w.workerId} ${w.state}`)).toEqual([
      'worker-1 healthy',
      'worker-3 healthy',
    ]);
  }, 180_000);

  it('recommission: a decommissioning worker that still holds data serves again', async () => {
    const job = await FaultJob.start(cluster.managerAddress, 'admin-recommission', {
      shape: {
        maps: 2,
        partitions: 4,
        recordsPerMap: 200,
        maxPartitionsPerGroup: 2,
        concurrency: 2,
      },
    });
    try {
      await job.runMaps();
      // It holds the job's data, so it cannot stop: --wait gives up after --timeout.
      const decom = await admin(['decommission', 'worker-3', '--wait', '--timeout', '3s', ...flags])
        .done;
      expect(decom.code).toBe(1);
      expect(decom.stderr).toMatch(
        /worker-3 still runs after 3s \(DECOMMISSIONING, holding 1 shuffle/,
      );
      await waitFor(async () => (await stateOf('worker-3'))?.servingState === 'DECOMMISSIONING', {
        timeoutMs: 20_000,
        what: 'worker-3 to report DECOMMISSIONING',
      });
      const re = await admin(['recommission', 'worker-3', ...flags]).done;
      expect(re).toMatchObject({ code: 0, stderr: '' });
      expect(re.stdout).toContain('worker-3: recommissioned');
      await waitFor(
        async () => {
          const w = await stateOf('worker-3');
          return w?.state === 'healthy' && w.servingState === 'SERVING';
        },
        { timeoutMs: 20_000, what: 'worker-3 to serve again' },
      );
    } finally {
      await job.close();
    }
    // Its data is deleted with the app, and it keeps running.
    await waitFor(
      () =>
        cluster
          .worker('worker-3')
          .output.some((l) => l.includes('admin-recommission') && l.includes('deleted data')),
      { timeoutMs: 20_000, what: "worker-3 to delete the app's data" },
    );
    expect(cluster.worker('worker-3').child.exitCode).toBeNull();
    expect((await stateOf('worker-3'))?.state).toBe('healthy');
  }, 120_000);

  it('a worker restarted after its decommission finished serves again', async () => {
    const first = await admin(['decommission', 'worker-1', '--wait', ...flags]).done;
    expect(first.code).toBe(0);
    expect(await cluster.worker('worker-1').exited()).toBe(0);
    // Straight back, while the manager still remembers the old process.
    const again = await cluster.startWorker('worker-1');
    await waitFor(async () => (await stateOf('worker-1'))?.state === 'healthy', {
      timeoutMs: 20_000,
      what: 'the restarted worker-1 to be healthy',
    });
    // Ten heartbeats later it still serves (a stale decommission would have stopped it).
    await new Promise((r) => setTimeout(r, 2_000));
    expect(again.child.exitCode).toBeNull();
    expect(await stateOf('worker-1')).toMatchObject({ state: 'healthy', servingState: 'SERVING' });
  }, 60_000);

  it('takes several --manager addresses and uses the one that leads', async () => {
    // A follower answers every /api/v1 call NOT_LEADER (503), as an HA manager does.
    const follower = createServer((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ error: { code: 'SLUICE_ERR_NOT_LEADER', message: 'not the leader' } }),
      );
    });
    follower.listen(0, '127.0.0.1');
    await once(follower, 'listening');
    try {
      const [dead] = await freePorts(1);
      const followerAddress = `127.0.0.1:${(follower.address() as AddressInfo).port}`;
      const leader = `127.0.0.1:${cluster.manager.httpPort}`;
      const list = [`127.0.0.1:${dead}`, followerAddress, leader].join(',');
      const status = await admin(['status', '--json', '--manager', list]).done;
      expect(status.code).toBe(0);
      expect(JSON.parse(status.stdout)).toMatchObject({ role: 'leader', ha: false });
      const none = await admin(['workers', '--manager', `127.0.0.1:${dead},${followerAddress}`])
        .done;
      expect(none.code).toBe(3);
      expect(none.stderr).toContain(`http://${followerAddress}: not the leader`);
    } finally {
      follower.close();
    }
  }, 60_000);

  it('says what is wrong: unknown worker, unreachable manager, refused token, bad usage', async () => {
    const unknown = await admin(['decommission', 'worker-9', ...flags]).done;
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(
      'worker worker-9 is not registered (registered: worker-1, worker-3)',
    );

    const [port] = await freePorts(1);
    const down = await admin(['workers', '--manager', `127.0.0.1:${port}`]).done;
    expect(down.code).toBe(3);
    expect(down.stderr).toContain(`cannot reach a leading manager (http://127.0.0.1:${port}`);
    expect(down.stderr).toContain('ECONNREFUSED');

    const wrong = join(scratch, 'wrong.token');
    writeFileSync(wrong, 'x'.repeat(64), { mode: 0o600 });
    const refused = await admin([
      'decommission',
      'worker-1',
      '--manager',
      `127.0.0.1:${cluster.manager.httpPort}`,
      '--admin-token-file',
      wrong,
    ]).done;
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain('the manager refused the admin token');
    expect((await stateOf('worker-1'))?.state).toBe('healthy');

    const usage = await admin(['decommission', ...flags]).done;
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('expects a worker id');
  }, 60_000);
});
