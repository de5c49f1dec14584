// The client side of the host-partition scenarios (host-partition.ts): runs inside the
// client's network namespace (`ip netns exec <ns> vite-node netns-job.ts <input JSON>`),
// so every byte it pushes and reads crosses the veth links and the bridge. Talks to the
// scenario over stdio: JSON lines on stdout ({"event": ...}), commands on stdin ("down",
// "up"). On failure it prints {"event":"error","name":...} so the scenario can rethrow the
// same class (DataLossError, WrongBytesError, ...) for the chaos table.
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { readClusterState } from '../../../src/common/proto/cluster-state.js';
import { ManagerClient } from '../../../src/common/proto/manager-client.js';
import { createLogger } from '../../../src/common/obs/logger.js';
import { waitFor } from '../../../src/testing/wait-for.js';
import { check, resultOf, withJob, type JobShape } from '../harness.js';
import { groupsMovedOff } from './worker-stall.js';

export interface NetnsJobInput {
  readonly manager: string;
  /** The client namespace's address: the driver listens there. */
  readonly clientAddress: string;
  readonly shape: JobShape;
  readonly pushTimeoutMs: number;
  /**
   * Each worker's id, the name it advertises, its HTTP port (bound to its loopback) and the
   * ports it listens on at its host's address (data, control).
   */
  readonly workers: readonly {
    id: string;
    hostname: string;
    httpPort: number;
    hostPorts: readonly number[];
  }[];
  /** After this many maps finished: ask for the partition. */
  readonly partitionAt: number;
  /** The worker cut off (case A); absent when the manager's host is (case B). */
  readonly victim?: string;
}

export type NetnsJobEvent =
  | { event: 'partition' }
  | { event: 'moved' }
  | { event: 'result'; result: ReturnType<typeof resultOf> }
  | { event: 'error'; name: string; message: string };

const say = (e: NetnsJobEvent) => console.log(JSON.stringify(e));
// The client library's log lines (JSON, stdout): the scenario shows their tail on a failure.
const logger = createLogger({ name: 'netns-job', level: 'info' });

const commands: string[] = [];
let wake: (() => void) | undefined;
createInterface({ input: process.stdin }).on('line', (line) => {
  commands.push(line.trim());
  wake?.();
});
async function command(want: string): Promise<void> {
  for (;;) {
    const got = commands.shift();
    if (got === want) return;
    if (got !== undefined) throw new Error(`expected "${want}" on stdin, got "${got}"`);
    await new Promise<void>((r) => (wake = r));
  }
}

/** Resolves with the connection error's code, or 'connected'. */
function tryConnect(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host, port, timeout: 3_000 });
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('timeout', () => {
      s.destroy();
      resolve('timeout');
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

async function main(input: NetnsJobInput) {
  // Every worker registered under the name it advertises (not its bind address).
  const manager = new ManagerClient(input.manager, { deadlineMs: 5_000 });
  try {
    await waitFor(
      async () => {
        const state = await readClusterState(manager).catch(() => undefined);
        return input.workers.every((w) =>
          state?.workers.some(
            (s) =>
              s.state === 'healthy' &&
              s.address?.workerId === w.id &&
              s.address.host === w.hostname,
          ),
        );
      },
      { timeoutMs: 30_000, what: 'every worker healthy under its advertised name' },
    );
  } finally {
    manager.close();
  }
  // Their HTTP ports listen on each host's loopback only: not reachable from here. The kernel
  // may give the loopback listener the same port number as one on the host's address (seen
  // once in a chaos run): then this connects to that other server, and says nothing.
  for (const w of input.workers) {
    if (w.hostPorts.includes(w.httpPort)) continue;
    const got = await tryConnect(w.hostname, w.httpPort);
    check(got === 'ECONNREFUSED', `${w.id}'s HTTP port from another host: ${got}`);
  }
  return withJob(
    input.manager,
    'netns',
    {
      shape: input.shape,
      // A host dropping packets fails pushes in flight after pushTimeoutMs, but each new
      // connection to it after connectTimeoutMs (10 s by default): with the default, groups
      // pushed only after the cut moved one connect timeout at a time, past 30 s in 1 of 30
      // chaos runs (ss showed the client's SYNs to the unplugged worker, 10 s apart).
      client: { pushTimeoutMs: input.pushTimeoutMs, connectTimeoutMs: 2_000, logger },
      driver: { host: input.clientAddress, logger },
    },
    async (job) => {
      const byId = new Map(input.workers.map((w) => [w.id, w.hostname]));
      for (const g of job.driver!.shuffle(0).groups) {
        const [p, r] = [g.primary?.workerId, g.replica?.workerId];
        check(p && r && byId.get(p) !== byId.get(r), `group ${g.groupId}: ${p} / ${r}`);
      }
      await job.runMaps(async (done) => {
        if (done !== input.partitionAt) return;
        say({ event: 'partition' });
        await command('down');
        if (input.victim) {
          await groupsMovedOff(job, input.victim);
          say({ event: 'moved' });
        }
        await command('up');
      });
      const outcome = await job.commit();
      check(outcome.lost.length === 0, `lost partitions ${outcome.lost.join(',')}`);
      return resultOf(job, await job.readAndVerify());
    },
  );
}

try {
  const result = await main(JSON.parse(process.argv[2]!) as NetnsJobInput);
  say({ event: 'result', result });
  process.exit(0);
} catch (err) {
  const e = err instanceof Error ? err : new Error(String(err));
  say({ event: 'error', name: e.name, message: e.stack ?? e.message });
  process.exit(1);
}
