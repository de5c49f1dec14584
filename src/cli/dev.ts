// `sluice dev` / `npm start`: a local cluster under ./.sluice — a manager (SQLite state in
// .sluice/manager.db), three workers (data in .sluice/worker-N) and the allocation agent
// (history in .sluice/agent.db), all in this process, logs in .sluice/logs. Ctrl-C stops the
// agent and the workers gracefully, then the manager.
//
// `sluice dev --ha`: the same with three managers electing a leader on ZooKeeper
// (docs/architecture.md#high-availability), still in this process, on the ensemble given with
// --zk or on one local ZooKeeper server this command starts as a child process (data in
// .sluice/zk, kept across restarts) and stops last.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { loadConfig, type Config } from '../common/config/index.js';
import { ConfigError } from '../common/errors.js';
import { createSecretFile } from '../common/security/keys.js';
import { AgentServer } from '../agent/server.js';
import { ManagerServer } from '../manager/server.js';
import { WorkerServer } from '../worker/server.js';
import { waitFor } from '../testing/wait-for.js';
import {
  freePorts,
  startZooKeeperServer,
  zooKeeperClasspath,
  type ZooKeeperServer,
} from '../testing/zookeeper.js';
import { devLoggers, stdoutColour } from './dev-logs.js';
import type { FlagSpec } from './flags.js';

export const DEV_FLAGS: readonly FlagSpec[] = [
  { flag: 'dir', doc: 'directory for state, data and logs (default ./.sluice)' },
  { flag: 'port', key: 'manager.grpcPort', doc: 'manager gRPC port (0 = pick a free one)' },
  { flag: 'http-port', key: 'manager.httpPort', doc: 'manager HTTP port (0 = pick a free one)' },
  { flag: 'workers', doc: 'number of workers (default 3)' },
  {
    flag: 'ha',
    doc: 'three managers electing a leader on ZooKeeper (--zk, else a local ZooKeeper server)',
    boolean: true,
  },
  {
    flag: 'zk',
    doc: 'with --ha: ZooKeeper servers host:port,... (default: start one under <dir>/zk)',
  },
  { flag: 'zk-root', key: 'manager.zkRoot', doc: "with --ha: ZooKeeper path of Sluice's state" },
  {
    flag: 'logs',
    doc: "also print every daemon's log on stdout, one line per entry prefixed with the daemon",
    boolean: true,
  },
];

export interface DevOptions {
  /** Three managers on ZooKeeper instead of one on SQLite. */
  readonly ha?: boolean;
  /** With `ha`: the ensemble to use; undefined starts a local ZooKeeper server. */
  readonly zk?: string;
  /** Every daemon's log on stdout too (`--logs`). */
  readonly logs?: boolean;
}

type MakeLogger = ReturnType<typeof devLoggers>;

const HA_MANAGERS = 3;
/** The local ZooKeeper's client port unless it is taken. */
const ZK_PORT = 2181;
/** Time for a manager to reach ZooKeeper and join the election. */
const JOIN_TIMEOUT_MS = 20_000;
/** Time for one manager to lead and load its state (a crashed run's members expire first). */
const LEADER_TIMEOUT_MS = 30_000;

/** Workers and the agent of a dev cluster, given every manager's address. */
interface Members {
  readonly workers: WorkerServer[];
  agent?: AgentServer;
}

async function startWorkersAndAgent(
  config: Config,
  dir: string,
  workerCount: number,
  managerAddress: string,
  members: Members,
  logger: MakeLogger,
): Promise<AgentServer> {
  const fixedPorts = config['manager.grpcPort'] !== 0;
  for (let i = 1; i <= workerCount; i++) {
    // Fixed ports from worker.controlPort (9197.., 9207.., 9217..) unless the manager's are free-picked.
    const base = fixedPorts ? config['worker.controlPort'] + 10 * (i - 1) : 0;
    const workerConfig = loadConfig({
      overrides: {
        ...config,
        'worker.id': `worker-${i}`,
        'worker.manager': managerAddress,
        'worker.dirs': join(dir, `worker-${i}`),
        'worker.controlPort': base,
        'worker.dataPort': fixedPorts ? base + 1 : 0,
        'worker.httpPort': fixedPorts ? base + 2 : 0,
        'worker.memoryBudgetBytes': config['worker.memoryBudgetBytes'] || 512 * 1024 ** 2,
      },
    });
    const worker = new WorkerServer(workerConfig, logger(`worker-${i}`));
    members.workers.push(worker);
    await worker.start();
  }
  const agent = new AgentServer({
    config: loadConfig({
      overrides: {
        ...config,
        'agent.managerAddress': managerAddress,
        'agent.sqlitePath':
          config['agent.sqlitePath'] === '.sluice/agent.db'
            ? join(dir, 'agent.db')
            : config['agent.sqlitePath'],
        'agent.grpcPort': fixedPorts ? config['agent.grpcPort'] : 0,
        'agent.httpPort': fixedPorts ? config['agent.httpPort'] : 0,
      },
    }),
    logger: logger('agent'),
  });
  members.agent = agent;
  await agent.start();
  return agent;
}

/** Ctrl-C (and SIGTERM) runs `stopAll` and exits; a second one exits at once. */
function stopOnSignals(stopAll: () => Promise<void>, signals: readonly NodeJS.Signals[]): void {
  let stopping = false;
  const stop = () => {
    if (stopping) process.exit(1);
    stopping = true;
    process.stdout.write('stopping the dev cluster...\n');
    stopAll().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  for (const signal of signals) process.on(signal, stop);
}

function memberLines(host: string, workers: readonly WorkerServer[], agent: AgentServer) {
  return [
    ...workers.map(
      (w) =>
        `  ${w.workerId.padEnd(14)} data ${host}:${w.dataPort}  control ${host}:${w.controlPort}  http://${host}:${w.httpPort}/metrics`,
    ),
    `  agent gRPC     ${agent.address}   http://${host}:${agent.httpPort}/metrics`,
  ];
}

export async function runDev(
  config: Config,
  dir = '.sluice',
  workerCount = 3,
  options: DevOptions = {},
): Promise<void> {
  if (options.zk !== undefined && !options.ha) throw new ConfigError('--zk', 'needs --ha');
  mkdirSync(join(dir, 'logs'), { recursive: true });
  config = withDevSecrets(config, dir);
  const logger = devLoggers(
    dir,
    config['log.level'],
    options.logs ? { write: (t) => process.stdout.write(t), colour: stdoutColour() } : undefined,
  );
  if (options.ha) return runDevHa(config, dir, workerCount, options.zk, logger);
  const managerConfig = loadConfig({
    overrides: {
      ...config,
      'manager.state': 'sqlite',
      'manager.sqlitePath':
        config['manager.sqlitePath'] === '.sluice/manager.db'
          ? join(dir, 'manager.db')
          : config['manager.sqlitePath'],
      // A laptop's disk may be nearly full; dev should still allocate.
      'manager.minFreeDiskBytes': 0,
    },
  });
  const manager = new ManagerServer({
    config: managerConfig,
    logger: logger('manager'),
  });
  const members: Members = { workers: [] };
  const stopAll = async () => {
    await Promise.allSettled([members.agent?.close(), ...members.workers.map((w) => w.close())]);
    await manager.close();
  };
  let agent: AgentServer;
  try {
    await manager.start();
    const address = `${managerConfig['manager.host']}:${manager.grpcPort}`;
    agent = await startWorkersAndAgent(config, dir, workerCount, address, members, logger);
  } catch (err) {
    await stopAll().catch(() => undefined);
    throw err;
  }
  stopOnSignals(stopAll, ['SIGINT', 'SIGTERM']);
  const host = managerConfig['manager.host'];
  process.stdout.write(
    [
      'Sluice dev cluster is up (Ctrl-C stops it):',
      `  manager gRPC   ${host}:${manager.grpcPort}`,
      `  manager HTTP   http://${host}:${manager.httpPort}/api/v1/workers   (also /metrics, /healthz, /readyz)`,
      `  dashboard      http://${host}:${manager.httpPort}/`,
      ...memberLines(host, members.workers, agent),
      ...securityLines(config, `${host}:${manager.httpPort}`),
      `  state          ${managerConfig['manager.sqlitePath']}`,
      `  data           ${join(dir, 'worker-N')}`,
      `  logs           ${join(dir, 'logs')}/`,
      `  try a job      npx sluice job terasort --manager ${host}:${manager.grpcPort} --size 1GiB`,
      '',
    ].join('\n'),
  );
}

/**
 * A dev cluster runs authenticated (docs/operations.md#security): unless secret files are
 * configured, it uses <dir>/secrets/cluster.secret and admin.token, created on the first run
 * (mode 0600, directory 0700) and kept, so clients and scripts can read them.
 */
function withDevSecrets(config: Config, dir: string): Config {
  const secrets = join(dir, 'secrets');
  mkdirSync(secrets, { recursive: true, mode: 0o700 });
  const file = (key: 'security.clusterSecretFile' | 'security.adminTokenFile', name: string) => {
    if (config[key]) return config[key];
    const path = join(secrets, name);
    createSecretFile(path);
    return path;
  };
  return loadConfig({
    overrides: {
      ...config,
      'security.clusterSecretFile': file('security.clusterSecretFile', 'cluster.secret'),
      'security.adminTokenFile': file('security.adminTokenFile', 'admin.token'),
    },
  });
}

function securityLines(config: Config, httpAddress: string): string[] {
  const token = config['security.adminTokenFile'];
  // `sluice admin` finds .sluice/secrets/admin.token and 127.0.0.1:9098 by itself.
  const flags = [
    httpAddress === '127.0.0.1:9098' ? '' : ` --manager ${httpAddress}`,
    token === join('.sluice', 'secrets', 'admin.token') ? '' : ` --admin-token-file ${token}`,
  ].join('');
  return [
    `  security       cluster secret ${config['security.clusterSecretFile']}, admin token ${token}`,
    `  admin          npx sluice admin workers${flags}   (also status, apps, shuffles, decommission <worker>)`,
  ];
}

/** True when nothing listens on 127.0.0.1:`port`. */
async function portFree(port: number): Promise<boolean> {
  const server = createServer();
  server.listen(port, '127.0.0.1');
  try {
    await once(server, 'listening');
    return true;
  } catch {
    return false;
  } finally {
    server.close();
  }
}

/** Whether `pid` is a running ZooKeeper server started with `cfg` (where /proc can tell). */
function zooKeeperRunning(pid: number, cfg: string): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(cfg);
  } catch {
    return !existsSync('/proc/self');
  }
}

/**
 * Starts the dev cluster's own ZooKeeper server: data in `<dir>/zk` (kept), log in
 * `<dir>/logs/zookeeper.log`, on 127.0.0.1:2181 or a free port when 2181 is taken or every
 * port is free-picked (`--port 0`). Refuses
 * while a server an earlier `sluice dev --ha` left behind still runs on that data.
 */
async function startLocalZooKeeper(dir: string, pickPort: boolean): Promise<ZooKeeperServer> {
  const classpath = zooKeeperClasspath();
  if (classpath === undefined) {
    throw new ConfigError(
      '--ha',
      'needs ZooKeeper: give an ensemble with --zk host:port,... or install one locally ' +
        '(Debian: apt-get install zookeeper; or set ZOOKEEPER_HOME to an Apache release)',
    );
  }
  const zkDir = resolve(dir, 'zk');
  const pidFile = join(zkDir, 'zookeeper.pid');
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0 && zooKeeperRunning(pid, join(zkDir, 'zoo.cfg'))) {
      throw new Error(
        `a ZooKeeper server an earlier sluice dev started on ${zkDir} still runs (PID ${pid}); stop it first: kill ${pid}`,
      );
    }
  }
  let port = pickPort ? 0 : ZK_PORT;
  if (port === 0 || !(await portFree(port))) {
    port = (await freePorts(1))[0]!;
    if (!pickPort)
      process.stdout.write(`port ${ZK_PORT} is taken: ZooKeeper listens on 127.0.0.1:${port}\n`);
  }
  const server = await startZooKeeperServer({
    dir: zkDir,
    port,
    classpath,
    logPath: resolve(dir, 'logs', 'zookeeper.log'),
  });
  writeFileSync(pidFile, `${server.pid}\n`);
  return server;
}

async function stopLocalZooKeeper(dir: string, server: ZooKeeperServer): Promise<void> {
  await server.stop();
  rmSync(join(dir, 'zk', 'zookeeper.pid'), { force: true });
}

interface ClusterView {
  readonly role: string;
  readonly leader: { grpc: string } | null;
}

/** Waits until one manager leads and serves (/readyz); returns its index. */
async function waitForLeader(host: string, managers: readonly ManagerServer[]): Promise<number> {
  return waitFor(
    async () => {
      for (const [i, m] of managers.entries()) {
        const base = `http://${host}:${m.httpPort}`;
        try {
          const view = (await (await fetch(`${base}/api/v1/cluster`)).json()) as ClusterView;
          if (view.role === 'leader' && (await fetch(`${base}/readyz`)).status === 200) return i;
        } catch {
          // Not answering yet.
        }
      }
      return undefined;
    },
    { timeoutMs: LEADER_TIMEOUT_MS, intervalMs: 200, what: 'a manager to lead' },
  );
}

/** Rejects after `ms` with `message` unless `promise` settles first. */
async function within<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(message)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function runDevHa(
  config: Config,
  dir: string,
  workerCount: number,
  zkGiven: string | undefined,
  logger: MakeLogger,
): Promise<void> {
  const host = config['manager.host'];
  const fixedPorts = config['manager.grpcPort'] !== 0;
  let zk: ZooKeeperServer | undefined;
  const managers: ManagerServer[] = [];
  const members: Members = { workers: [] };
  // Agent and workers first, then the managers, then ZooKeeper, which they all need.
  const stopAll = async () => {
    await Promise.allSettled([members.agent?.close(), ...members.workers.map((w) => w.close())]);
    await Promise.allSettled(managers.map((m) => m.close()));
    if (zk) await stopLocalZooKeeper(dir, zk);
  };
  // From the start, so a signal while starting stops ZooKeeper too; SIGHUP as well: a closed
  // terminal must not leave the ZooKeeper child behind.
  stopOnSignals(stopAll, ['SIGINT', 'SIGTERM', 'SIGHUP']);
  let agent: AgentServer;
  let zkConnect: string;
  let leader: number;
  try {
    if (zkGiven === undefined) zk = await startLocalZooKeeper(dir, !fixedPorts);
    zkConnect = zkGiven ?? `127.0.0.1:${zk!.port}`;
    for (let i = 0; i < HA_MANAGERS; i++) {
      // Fixed ports 9097/9098, 9107/9108, 9117/9118 unless free-picked (--port 0).
      const managerConfig = loadConfig({
        overrides: {
          ...config,
          'manager.state': 'zookeeper',
          'manager.zkConnect': zkConnect,
          'manager.grpcPort': fixedPorts ? config['manager.grpcPort'] + 10 * i : 0,
          'manager.httpPort':
            fixedPorts && config['manager.httpPort'] !== 0
              ? config['manager.httpPort'] + 10 * i
              : 0,
          // A laptop's disk may be nearly full; dev should still allocate.
          'manager.minFreeDiskBytes': 0,
        },
      });
      const manager = new ManagerServer({
        config: managerConfig,
        logger: logger(`manager-${i + 1}`),
      });
      managers.push(manager);
      await within(
        manager.start(),
        JOIN_TIMEOUT_MS,
        `manager-${i + 1} could not join the election on ZooKeeper ${zkConnect} within ${JOIN_TIMEOUT_MS / 1000} s (is it up?)`,
      );
    }
    leader = await waitForLeader(host, managers);
    const addresses = managers.map((m) => `${host}:${m.grpcPort}`).join(',');
    agent = await startWorkersAndAgent(config, dir, workerCount, addresses, members, logger);
  } catch (err) {
    await stopAll().catch(() => undefined);
    throw err;
  }
  const addresses = managers.map((m) => `${host}:${m.grpcPort}`).join(',');
  const zkWhat = zk
    ? `started by sluice dev, data in ${join(dir, 'zk')}, log in ${join(dir, 'logs', 'zookeeper.log')}`
    : 'given with --zk';
  process.stdout.write(
    [
      'Sluice dev cluster is up, highly available (Ctrl-C stops it):',
      ...managers.map(
        (m, i) =>
          `  manager-${i + 1}      gRPC ${host}:${m.grpcPort}  HTTP http://${host}:${m.httpPort}/api/v1/cluster${i === leader ? '   (leader)' : ''}`,
      ),
      `  leader         manager-${leader + 1} ${host}:${managers[leader]!.grpcPort}   (now: GET /api/v1/cluster on any manager)`,
      `  zookeeper      ${zkConnect}${config['manager.zkRoot']}   (${zkWhat})`,
      ...securityLines(config, `${host}:${managers[leader]!.httpPort}`),
      ...memberLines(host, members.workers, agent),
      `  data           ${join(dir, 'worker-N')}`,
      `  logs           ${join(dir, 'logs')}/`,
      `  try a job      npx sluice job terasort --manager ${addresses} --size 1GiB`,
      '',
    ].join('\n'),
  );
}
