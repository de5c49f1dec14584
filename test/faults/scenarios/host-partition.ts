// Hosts cut off for real (docs/development.md#multi-host-tests): five network namespaces on
// one bridge (src/testing/netns.ts) — the manager's host, three worker hosts, and the client's
// host where the driver and executors run (netns-job.ts). Every daemon listens on its
// namespace's address; workers advertise a host name and keep HTTP on their loopback. A
// shuffle with replication across hosts; in the middle of the map stage one host's link goes
// down (its veth end on the bridge: packets dropped both ways, nothing refused), later comes
// back, and every record of the winners must read back exactly once.
// Case A: a worker's host. Pushes to it time out and its groups move to other workers.
// Case B: the manager's host, for longer than the manager's worker-loss timeout: the manager
// declares every worker lost, the driver's and workers' calls to it fail, and the shuffle
// (which needs the manager only to move groups) goes on and finishes once it is back.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { PACKAGE_ROOT, spawnManager, type ManagerProcess } from '../../../src/testing/manager.js';
import { inNetns, NetnsLab, netnsUnavailable } from '../../../src/testing/netns.js';
import { waitFor } from '../../../src/testing/wait-for.js';
import { spawnWorker, type WorkerProcess } from '../../../src/testing/worker.js';
import {
  check,
  DataLossError,
  ScenarioAssertionError,
  WrongBytesError,
  type JobShape,
  type Scenario,
  type ScenarioResult,
} from '../harness.js';
import type { NetnsJobEvent, NetnsJobInput } from './netns-job.js';

const WORKER_HOSTS = ['h1', 'h2', 'h3'] as const;
const PUSH_TIMEOUT_MS = 1_000;
const HEARTBEAT_MS = 200;
const WORKER_LOST_MS = 2_000;
/** How long the manager's host stays cut off: past WORKER_LOST_MS, so workers are lost. */
const MANAGER_PARTITION_MS = 4_000;
/** The client job's whole run, partition included, is bounded by this. */
const JOB_DEADLINE_MS = 100_000;
const JOB_SCRIPT = join(import.meta.dirname, 'netns-job.ts');
const VITE_NODE = join(PACKAGE_ROOT, 'node_modules/vite-node/vite-node.mjs');
const ERRORS: Record<string, new (message: string) => Error> = {
  DataLossError,
  WrongBytesError,
  ScenarioAssertionError,
};

interface Processes {
  manager?: ManagerProcess;
  workers: WorkerProcess[];
}

async function startDaemons(lab: NetnsLab, root: string, procs: Processes): Promise<string> {
  const m = lab.host('manager');
  procs.manager = await spawnManager(
    [
      '--state',
      'sqlite',
      '--state-path',
      join(root, 'manager.db'),
      ...['--set', `manager.workerHeartbeatIntervalMs=${HEARTBEAT_MS}`],
      ...['--set', `manager.workerLostTimeoutMs=${WORKER_LOST_MS}`],
      ...['--set', 'manager.minFreeDiskBytes=0'],
    ],
    { netns: m.netns, host: m.address, timeoutMs: 30_000 },
  );
  const manager = procs.manager.address;
  const started = await Promise.allSettled(
    WORKER_HOSTS.map((name) => {
      const h = lab.host(name);
      return spawnWorker(
        {
          manager,
          dirs: [join(root, name, 'd0')],
          id: `worker-${name}`,
          netns: h.netns,
          args: ['--bind', h.address, '--advertise', h.hostname, '--http-bind', '127.0.0.1'],
        },
        30_000,
      );
    }),
  );
  for (const s of started) if (s.status === 'fulfilled') procs.workers.push(s.value);
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) throw failed.reason;
  return manager;
}

/** Runs netns-job.ts in the client's namespace and plays the partition it asks for. */
async function runJob(
  lab: NetnsLab,
  input: NetnsJobInput,
  cut: string,
): Promise<{ result: ScenarioResult; upAt: number }> {
  const measures: Record<string, number> = {};
  const command = inNetns(lab.host('client').netns, process.execPath, [
    VITE_NODE,
    JOB_SCRIPT,
    JSON.stringify(input),
  ]);
  const client = spawn(command.file, command.args, {
    cwd: PACKAGE_ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const exited = once(client, 'exit');
  // The client's log lines and stderr, the last of which explain a failure.
  const output: string[] = [];
  const keep = (l: string) => output.push(l) > 60 && output.shift();
  createInterface({ input: client.stderr! }).on('line', keep);
  // A client stuck past this is killed, so everything is cleaned up.
  const deadline = setTimeout(() => client.kill('SIGKILL'), JOB_DEADLINE_MS);
  let result: ScenarioResult | undefined;
  let failure: { name: string; message: string } | undefined;
  let downAt = 0;
  let upAt = 0;
  const send = (line: string) => client.stdin!.write(`${line}\n`);
  try {
    for await (const line of createInterface({ input: client.stdout! })) {
      if (!line.startsWith('{"event"')) {
        keep(line);
        continue;
      }
      const e = JSON.parse(line) as NetnsJobEvent;
      if (e.event === 'partition') {
        await lab.linkDown(cut);
        downAt = Date.now();
        send('down');
        if (input.victim) continue; // up once its groups moved
        await sleep(MANAGER_PARTITION_MS);
      }
      if (e.event === 'partition' || e.event === 'moved') {
        if (e.event === 'moved') measures.groupsMovedMs = Date.now() - downAt;
        await lab.linkUp(cut);
        measures.partitionMs = Date.now() - downAt;
        upAt = Date.now();
        send('up');
      } else if (e.event === 'result') result = e.result;
      else if (e.event === 'error') failure = e;
    }
  } finally {
    clearTimeout(deadline);
    if (client.exitCode === null && client.signalCode === null) client.kill('SIGKILL');
    await exited;
    await lab.linkUp(cut).catch(() => undefined);
  }
  const tail = `\nlast lines of the client job:\n${output.join('\n')}`;
  if (failure) throw new (ERRORS[failure.name] ?? Error)(failure.message + tail);
  if (!result) throw new Error(`the client job ended without a result${tail}`);
  if (!downAt) throw new ScenarioAssertionError('the job never asked for the partition');
  return { result: { ...result, measures }, upAt };
}

function hostPartition(name: string, cut: 'manager' | 'h2'): Scenario {
  return {
    name,
    skipReason: netnsUnavailable,
    async run(shape: JobShape): Promise<ScenarioResult> {
      const lab = await NetnsLab.create(['manager', ...WORKER_HOSTS, 'client']);
      const root = mkdtempSync(join(tmpdir(), 'sluice-netns-'));
      const procs: Processes = { workers: [] };
      try {
        const manager = await startDaemons(lab, root, procs);
        const input: NetnsJobInput = {
          manager,
          clientAddress: lab.host('client').address,
          shape,
          pushTimeoutMs: PUSH_TIMEOUT_MS,
          workers: procs.workers.map((w, i) => ({
            id: w.workerId,
            hostname: lab.host(WORKER_HOSTS[i]!).hostname,
            httpPort: w.httpPort,
            hostPorts: [w.dataPort, w.controlPort],
          })),
          partitionAt: Math.ceil(shape.maps / 4),
          victim: cut === 'manager' ? undefined : `worker-${cut}`,
        };
        const { result, upAt } = await runJob(lab, input, cut);
        if (cut !== 'manager') return result;
        // Every worker was lost while cut off, and heartbeats again once back.
        const log = procs.manager!.output;
        const count = (what: string) => log.filter((l) => l.includes(`"${what}"`)).length;
        const lost = count('worker lost: no heartbeat');
        check(lost === WORKER_HOSTS.length, `the manager declared ${lost} workers lost`);
        await waitFor(
          () =>
            count('lost worker is heartbeating again') + count('worker registered') ===
            WORKER_HOSTS.length * 2,
          { timeoutMs: 60_000, what: 'the lost workers heartbeating again' },
        );
        const recoveredMs = Date.now() - upAt;
        return { ...result, measures: { ...result.measures, workersLost: lost, recoveredMs } };
      } finally {
        await Promise.allSettled(procs.workers.map((w) => w.stop('SIGKILL')));
        await procs.manager?.stop('SIGKILL');
        await lab.close();
        rmSync(root, { recursive: true, force: true });
      }
    },
  };
}

export const workerHostPartition = hostPartition(
  "a worker's host unplugged mid-map (network namespaces), then back",
  'h2',
);
export const managerHostPartition = hostPartition(
  "the manager's host unplugged mid-map past the worker-loss timeout, then back",
  'manager',
);
