// `sluice dev` / `npm start`: a local cluster under ./.sluice — a manager (SQLite state in
// .sluice/manager.db), three workers (data in .sluice/worker-N) and the allocation agent
// (history in .sluice/agent.db), all in this process, logs in .sluice/logs. Ctrl-C stops the
// agent and the workers gracefully, then the manager.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { destination } from 'pino';
import { loadConfig, type Config } from '../common/config/index.js';
import { createLogger } from '../common/obs/logger.js';
import { AgentServer } from '../agent/server.js';
import { ManagerServer } from '../manager/server.js';
import { WorkerServer } from '../worker/server.js';
import type { FlagSpec } from './flags.js';

export const DEV_FLAGS: readonly FlagSpec[] = [
  { flag: 'dir', doc: 'directory for state, data and logs (default ./.sluice)' },
  { flag: 'port', key: 'manager.grpcPort', doc: 'manager gRPC port (0 = pick a free one)' },
  { flag: 'http-port', key: 'manager.httpPort', doc: 'manager HTTP port (0 = pick a free one)' },
  { flag: 'workers', doc: 'number of workers (default 3)' },
];

const fileLogger = (dir: string, name: string, level: Config['log.level']) =>
  createLogger({
    name,
    level,
    destination: destination({ dest: join(dir, 'logs', `${name}.log`), mkdir: true, sync: true }),
  });

export async function runDev(config: Config, dir = '.sluice', workerCount = 3): Promise<void> {
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const level = config['log.level'];
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
    logger: fileLogger(dir, 'manager', level),
  });
  const workers: WorkerServer[] = [];
  let agent: AgentServer | undefined;
  const stopAll = async () => {
    await Promise.allSettled([agent?.close(), ...workers.map((w) => w.close())]);
    await manager.close();
  };
  try {
    await manager.start();
    const fixedPorts = config['manager.grpcPort'] !== 0;
    for (let i = 1; i <= workerCount; i++) {
      // Fixed ports from worker.controlPort (9197.., 9207.., 9217..) unless the manager's are free-picked.
      const base = fixedPorts ? config['worker.controlPort'] + 10 * (i - 1) : 0;
      const workerConfig = loadConfig({
        overrides: {
          ...config,
          'worker.id': `worker-${i}`,
          'worker.manager': `${managerConfig['manager.host']}:${manager.grpcPort}`,
          'worker.dirs': join(dir, `worker-${i}`),
          'worker.controlPort': base,
          'worker.dataPort': fixedPorts ? base + 1 : 0,
          'worker.httpPort': fixedPorts ? base + 2 : 0,
          'worker.memoryBudgetBytes': config['worker.memoryBudgetBytes'] || 512 * 1024 ** 2,
        },
      });
      const worker = new WorkerServer(workerConfig, fileLogger(dir, `worker-${i}`, level));
      workers.push(worker);
      await worker.start();
    }
    agent = new AgentServer({
      config: loadConfig({
        overrides: {
          ...config,
          'agent.managerAddress': `${managerConfig['manager.host']}:${manager.grpcPort}`,
          'agent.sqlitePath':
            config['agent.sqlitePath'] === '.sluice/agent.db'
              ? join(dir, 'agent.db')
              : config['agent.sqlitePath'],
          'agent.grpcPort': fixedPorts ? config['agent.grpcPort'] : 0,
          'agent.httpPort': fixedPorts ? config['agent.httpPort'] : 0,
        },
      }),
      logger: fileLogger(dir, 'agent', level),
    });
    await agent.start();
  } catch (err) {
    await stopAll().catch(() => undefined);
    throw err;
  }
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
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const host = managerConfig['manager.host'];
  process.stdout.write(
    [
      'Sluice dev cluster is up (Ctrl-C stops it):',
      `  manager gRPC   ${host}:${manager.grpcPort}`,
      `  manager HTTP   http://${host}:${manager.httpPort}/api/v1/workers   (also /metrics, /healthz, /readyz)`,
      ...workers.map(
        (w) =>
          `  ${w.workerId.padEnd(14)} data ${host}:${w.dataPort}  control ${host}:${w.controlPort}  http://${host}:${w.httpPort}/metrics`,
      ),
      `  agent gRPC     ${agent.address}   http://${host}:${agent.httpPort}/metrics`,
      `  state          ${managerConfig['manager.sqlitePath']}`,
      `  data           ${join(dir, 'worker-N')}`,
      `  logs           ${join(dir, 'logs')}/`,
      `  try a job      npx sluice job terasort --manager ${host}:${manager.grpcPort} --size 1GiB`,
      '',
    ].join('\n'),
  );
}
