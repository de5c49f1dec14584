// Logs an operator can follow (docs/operations.md#logs): a job of thousands of pushed slices
// leaves a handful of info lines on the manager and the workers, one per lifecycle event
// (app registered, shuffle allocated, commits, app removed, data deleted), nothing per block;
// a decommission leaves one line per step.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessCluster } from '../src/testing/process-cluster.js';
import { waitFor } from '../src/testing/wait-for.js';
import { FaultJob } from './faults/harness.js';

interface Line {
  readonly level: number;
  readonly time: string;
  readonly msg: string;
  readonly name?: string;
  readonly appId?: string;
  readonly workerId?: string;
}

const INFO = 30;

function parse(lines: readonly string[]): Line[] {
  return lines.flatMap((l) => {
    try {
      return [JSON.parse(l) as Line];
    } catch {
      return [];
    }
  });
}

describe('lifecycle logs', () => {
  let cluster: ProcessCluster;
  const outputs = () => [
    cluster.manager.output,
    ...[...cluster.workers.values()].map((w) => w.output),
  ];
  /** Info-and-above lines logged by every daemon since `marks`, in time order. */
  const since = (marks: number[]) =>
    outputs()
      .flatMap((o, i) => parse(o.slice(marks[i])))
      .filter((l) => l.level >= INFO)
      .sort((a, b) => a.time.localeCompare(b.time));
  const marks = () => outputs().map((o) => o.length);

  beforeAll(async () => {
    cluster = await ProcessCluster.start({
      workers: 3,
      // A small budget and slow disks: pushes pause under the job's bursts, which must not add
      // info lines.
      workerConfig: {
        'worker.memoryBudgetBytes': 256 * 1024,
        'test.diskWriteBytesPerSec': 2 * 1024 ** 2,
      },
      managerConfig: { 'manager.workerLostTimeoutMs': 3_000 },
    });
  }, 60_000);

  afterAll(async () => {
    await cluster?.close();
  });

  /** A counter summed over every series of every worker. */
  async function workersTotal(counter: string): Promise<number> {
    let n = 0;
    for (const w of cluster.workers.values()) {
      const text = await (await fetch(`http://127.0.0.1:${w.httpPort}/metrics`)).text();
      for (const line of text.split('\n'))
        if (line.startsWith(`${counter}{`)) n += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return n;
  }

  it('a job of thousands of pushes logs O(1) info lines: one per lifecycle event', async () => {
    const start = marks();
    const pushedBefore = await workersTotal('sluice_worker_pushes_total');
    const job = await FaultJob.start(cluster.managerAddress, 'logs-job', {
      shape: {
        maps: 12,
        partitions: 40,
        recordsPerMap: 3_000,
        maxPartitionsPerGroup: 5,
        concurrency: 4,
      },
      client: { pushBatchBytes: 4 * 1024 },
    });
    try {
      await job.runMaps();
      expect((await job.commit()).lost).toEqual([]);
      await job.readAndVerify();
    } finally {
      await job.close();
    }
    // Every worker that held data deletes it on the manager's order (the last event).
    const holders = new Set(
      since(start)
        .filter((l) => l.msg === 'commit finished')
        .map((l) => l.name),
    );
    expect(holders.size).toBeGreaterThan(0);
    await waitFor(
      () =>
        since(start).filter((l) => l.msg === "deleted data on the manager's order").length >=
        holders.size,
      { timeoutMs: 20_000, what: 'the workers to delete the ended app' },
    );
    const pushed = (await workersTotal('sluice_worker_pushes_total')) - pushedBefore;
    expect(await workersTotal('sluice_worker_memory_transitions_total')).toBeGreaterThan(0);
    expect(pushed).toBeGreaterThan(2_000);

    const lines = since(start);
    const counts = new Map<string, number>();
    for (const l of lines) counts.set(l.msg, (counts.get(l.msg) ?? 0) + 1);
    // A few lines per worker per shuffle at most, however many blocks were pushed.
    expect(lines.length).toBeLessThanOrEqual(5 * cluster.workers.size + 5);
    for (const [msg, n] of counts) expect(n, msg).toBeLessThanOrEqual(2 * cluster.workers.size);
    for (const msg of [
      'app registered',
      'shuffle allocated',
      'commit finished',
      "deleted data on the manager's order",
    ])
      expect(counts.get(msg), msg).toBeGreaterThan(0);
    expect(lines.find((l) => l.msg.startsWith('app removed'))).toMatchObject({ appId: job.appId });
  }, 180_000);

  it('a decommission logs each step once', async () => {
    const start = marks();
    const res = await fetch(
      `http://127.0.0.1:${cluster.manager.httpPort}/api/v1/workers/worker-3/decommission`,
      { method: 'POST' },
    );
    expect(res.status).toBe(202);
    expect(await cluster.worker('worker-3').exited()).toBe(0);
    await waitFor(
      () =>
        since(start).some(
          (l) => l.msg === 'decommissioned worker stopped: dropped from the registry',
        ),
      { timeoutMs: 60_000, what: 'the manager to drop worker-3' },
    );
    // The manager's lines and worker-3's, but for deletions: worker-3 may still be deleting
    // the previous test's app (seen in a full-suite run), which is no step of a decommission.
    const msgs = since(start)
      .filter((l) => l.name === 'sluice-manager' || l.workerId === 'worker-3')
      .filter((l) => l.msg !== "deleted data on the manager's order")
      .map((l) => `${l.name}: ${l.msg}`);
    expect(msgs).toEqual([
      'sluice-manager: decommission requested: no new groups on the worker',
      'sluice-worker: decommissioning: no new allocations; stopping once no data is held',
      'sluice-manager: worker serving state changed',
      'sluice-worker: worker stopped',
      'sluice-worker: decommissioned: exiting',
      'sluice-manager: decommissioned worker stopped: dropped from the registry',
    ]);
  }, 90_000);
});
