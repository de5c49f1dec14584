// `sluice ess`: load config, start the node-local EssServer, close it on SIGTERM/SIGINT.
import type { Config } from '../common/config/index.js';
import { createLogger, type Logger } from '../common/obs/logger.js';
import { startDaemon } from '../common/obs/stop-signals.js';
import { EssServer } from './server.js';

export const ESS_FLAGS = [
  { flag: 'bind', key: 'ess.host', doc: 'address to listen on (0.0.0.0: every interface)' },
  { flag: 'host', key: 'ess.host', doc: 'same as --bind' },
  { flag: 'http-bind', key: 'ess.httpBind', doc: 'address the HTTP port listens on' },
  { flag: 'port', key: 'ess.dataPort', doc: 'data port (0 = pick a free one)' },
  { flag: 'http-port', key: 'ess.httpPort', doc: 'HTTP port for /metrics, /healthz, /readyz' },
  { flag: 'dir', key: 'ess.dir', doc: 'directory the executors of this node write map output to' },
  { flag: 'manager', key: 'ess.manager', doc: 'manager address(es): delete ended apps’ outputs' },
] as const;

export async function runEss(config: Config, logger?: Logger): Promise<EssServer> {
  const log = logger ?? createLogger({ name: 'sluice-ess', level: config['log.level'] });
  const server = new EssServer({ config, logger: log });
  return startDaemon(log, server);
}
