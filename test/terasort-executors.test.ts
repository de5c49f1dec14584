// `sluice job terasort --executors N`: the driver stays in the CLI process and the map and
// reduce tasks run in N executor processes, each with one ShuffleClient built from the shuffle
// handle. The job validates (global order, count, checksum of every record), every executor
// ran tasks, an authenticated cluster needs nothing more (the handle carries the credential),
// and a crashed executor fails the job with a clear error, leaving no executor behind.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../src/testing/cluster.js';
import { CLI_PATH } from '../src/testing/manager.js';
import { ProcessCluster } from '../src/testing/process-cluster.js';
import { waitFor } from '../src/testing/wait-for.js';
import { runSmallTerasort } from './small-terasort.js';

interface Report {
  valid: boolean;
  records: number;
  executors: number;
  executorTasks: { executor: number; pid: number; maps: number; reduces: number }[];
  mapCpu: { executorSeconds: number | null; driverSeconds: number };
  reduceCpu: { executorSeconds: number | null; driverSeconds: number };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function expectGone(pids: readonly number[]): Promise<void> {
  await waitFor(() => pids.every((pid) => !alive(pid)), {
    what: `executor processes ${pids.join(', ')} to be gone`,
  });
}

/** Starts a 64 MiB job with 2 executors; resolves once it printed the executors' pids. */
async function startBigJob(manager: string) {
  const job = spawn(
    process.execPath,
    [
      CLI_PATH,
      'job',
      'terasort',
      '--manager',
      manager,
      '--size',
      '64MiB',
      '--maps',
      '8',
      '--partitions',
      '8',
      '--executors',
      '2',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = once(job, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const out = { text: '' };
  job.stdout.on('data', (b: Buffer) => (out.text += b.toString()));
  job.stderr.on('data', (b: Buffer) => (out.text += b.toString()));
  try {
    const pids = await waitFor(
      () => /executors started \(pids (\d+), (\d+)\)/.exec(out.text)?.slice(1).map(Number),
      { what: `executor pids in:\n${out.text}` },
    );
    return { job, exited, out, pids };
  } catch (err) {
    job.kill('SIGKILL');
    throw err;
  }
}

describe('sluice job terasort --executors', () => {
  let cluster: Cluster | ProcessCluster | undefined;
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });

  it('runs the tasks in 2 executor processes, validates, reports each executor and leaves none behind', async () => {
    cluster = await startCluster({ workers: 2 });
    const { code, stdout, output } = await runSmallTerasort(cluster.managerAddress, [
      '--executors',
      '2',
      '--json',
    ]);
    expect(code, output).toBe(0);
    const report = JSON.parse(stdout) as Report;
    expect(report.valid).toBe(true);
    expect(report.records).toBe(83886);
    expect(report.executors).toBe(2);
    const tasks = report.executorTasks;
    expect(tasks.map((e) => e.executor)).toEqual([1, 2]);
    expect(new Set(tasks.map((e) => e.pid)).size).toBe(2);
    for (const e of tasks) expect(e.maps + e.reduces).toBeGreaterThan(0);
    expect(tasks.reduce((n, e) => n + e.maps, 0)).toBe(4);
    expect(tasks.reduce((n, e) => n + e.reduces, 0)).toBe(8);
    expect(report.mapCpu.executorSeconds).toBeGreaterThan(0);
    expect(report.reduceCpu.executorSeconds).toBeGreaterThan(0);
    expect(report.mapCpu.driverSeconds).toBeGreaterThanOrEqual(0);
    await expectGone(tasks.map((e) => e.pid));
  });

  it('works against an authenticated cluster: the executors use the credential of the shuffle handle', async () => {
    cluster = await ProcessCluster.start({ workers: 2, secure: true });
    const { code, output } = await runSmallTerasort(cluster.managerAddress, ['--executors', '2']);
    expect(code, output).toBe(0);
    expect(output).toMatch(/validation +OK: global order, 83886 records/);
    expect(output).toMatch(
      /map stage +[\d.]+ s +[\d.]+ GB\/s +CPU-s\/GB: executors [\d.]+, driver [\d.]+/,
    );
    const pids = [...output.matchAll(/executor \d +pid (\d+): \d+ maps, \d+ reduces/g)].map((m) =>
      Number(m[1]),
    );
    expect(pids).toHaveLength(2);
    await expectGone(pids);
  });

  it('fails the job with a clear error when an executor crashes, and kills the other one', async () => {
    cluster = await startCluster({ workers: 2 });
    const { job, exited, out, pids } = await startBigJob(cluster.managerAddress);
    try {
      process.kill(pids[0]!, 'SIGKILL');
      const [code] = await exited;
      expect(code, out.text).toBe(1);
      expect(out.text).toMatch(
        new RegExp(
          `sluice: executor 1 \\(pid ${pids[0]}\\) exited with SIGKILL during the (start|map) stage`,
        ),
      );
      await expectGone(pids);
    } finally {
      if (job.exitCode === null && job.signalCode === null) job.kill('SIGKILL');
    }
  });

  it('SIGTERM to the job kills its executors', async () => {
    cluster = await startCluster({ workers: 2 });
    const { job, exited, pids } = await startBigJob(cluster.managerAddress);
    try {
      job.kill('SIGTERM');
      const [, signal] = await exited;
      expect(signal).toBe('SIGTERM');
      await expectGone(pids);
    } finally {
      if (job.exitCode === null && job.signalCode === null) job.kill('SIGKILL');
    }
  });
});
