// `sluice manager`: load config, start the ManagerServer, close it on SIGTERM/SIGINT.
import type { Config } from '../common/config/index.js';
import { createLogger, type Logger } from '../common/obs/logger.js';
import { startDaemon } from '../common/obs/stop-signals.js';
import { ManagerServer } from './server.js';

export const MANAGER_FLAGS = [
  { flag: 'bind', key: 'manager.host', doc: 'address to listen on (0.0.0.0: every interface)' },
  { flag: 'host', key: 'manager.host', doc: 'same as --bind' },
  { flag: 'http-bind', key: 'manager.httpBind', doc: 'address the HTTP port listens on' },
  { flag: 'port', key: 'manager.grpcPort', doc: 'gRPC port (0 = pick a free one)' },
  {
    flag: 'http-port',
    key: 'manager.httpPort',
    doc: 'HTTP port for /metrics, /healthz, /readyz, /api/v1 (0 = free)',
  },
  { flag: 'state', key: 'manager.state', doc: 'state store: sqlite | memory | zookeeper (HA)' },
  {
    flag: 'zk',
    key: 'manager.zkConnect',
    doc: 'ZooKeeper servers host:port,host:port,... (with --state zookeeper)',
  },
  {
    flag: 'zk-root',
    key: 'manager.zkRoot',
    doc: "ZooKeeper path under which Sluice's state lives",
  },
  {
    flag: 'advertise',
    key: 'manager.advertiseHost',
    doc: 'host other managers send callers to when this one leads (HA)',
  },
  { flag: 'advertise-host', key: 'manager.advertiseHost', doc: 'same as --advertise' },
  { flag: 'state-path', key: 'manager.sqlitePath', doc: 'SQLite file of the sqlite state store' },
  {
    flag: 'policy',
    key: 'manager.allocationPolicy',
    doc: 'allocation policy: load-aware | round-robin',
  },
] as const;

export async function runManager(config: Config, logger?: Logger): Promise<ManagerServer> {
  const log = logger ?? createLogger({ name: 'sluice-manager', level: config['log.level'] });
  const server = new ManagerServer({ config, logger: log });
  return startDaemon(log, server);
}
