// `sluice worker`: load config, start the WorkerServer, stop gracefully on SIGTERM/SIGINT
// (docs/architecture.md#worker: HARD_SPLIT to new pushes, finish commits, exit 0).
import type { Config } from '../common/config/index.js';
import { createLogger, type Logger } from '../common/obs/logger.js';
import { exitOnStopSignals } from '../common/obs/stop-signals.js';
import { WorkerServer } from './server.js';

export const WORKER_FLAGS = [
  {
    flag: 'manager',
    key: 'worker.manager',
    doc: 'manager gRPC address host:port, or a comma-separated list of every manager',
  },
  {
    flag: 'dir',
    key: 'worker.dirs',
    doc: 'data directory, one per disk (repeat for several disks)',
    repeatable: true,
  },
  {
    flag: 'remote',
    key: 'storage.remote',
    doc: 'remote tier: hdfs://namenode:httpPort/path or s3://bucket/prefix (without --dir: remote-only)',
  },
  { flag: 'id', key: 'worker.id', doc: 'stable worker id (default <hostname>-<data port>)' },
  {
    flag: 'bind',
    key: 'worker.bind',
    doc: 'address the data and control ports listen on (0.0.0.0: every interface)',
  },
  {
    flag: 'advertise',
    key: 'worker.advertise',
    doc: 'host name or address clients reach this worker by (default: the bind address)',
  },
  { flag: 'http-bind', key: 'worker.httpBind', doc: 'address the HTTP port listens on' },
  { flag: 'host', key: 'worker.host', doc: 'older shorthand: the default of --bind' },
  {
    flag: 'data-port',
    key: 'worker.dataPort',
    doc: 'framed TCP port for pushes and fetches (0 = free)',
  },
  {
    flag: 'control-port',
    key: 'worker.controlPort',
    doc: 'gRPC port of WorkerControlService (0 = free)',
  },
  {
    flag: 'http-port',
    key: 'worker.httpPort',
    doc: 'HTTP port for /metrics, /healthz, /readyz (0 = free)',
  },
  {
    flag: 'memory',
    key: 'worker.memoryBudgetBytes',
    doc: 'memory budget, e.g. 4GiB (default 25% of RAM)',
  },
  { flag: 'rack', key: 'worker.rack', doc: 'rack label for replica placement' },
] as const;

export async function runWorker(config: Config, logger?: Logger): Promise<WorkerServer> {
  const log = logger ?? createLogger({ name: 'sluice-worker', level: config['log.level'] });
  const worker = new WorkerServer(config, log);
  try {
    await worker.start();
  } catch (err) {
    await worker.close().catch(() => undefined);
    throw err;
  }
  void worker.decommissioned.then(() => {
    log.info({ workerId: worker.workerId }, 'decommissioned: exiting');
    process.exit(0);
  });
  exitOnStopSignals(log, worker);
  return worker;
}
