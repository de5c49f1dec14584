// `sluice agent`: load config, start the AgentServer, close it on SIGTERM/SIGINT.
import type { Config } from '../common/config/index.js';
import { createLogger, type Logger } from '../common/obs/logger.js';
import { startDaemon } from '../common/obs/stop-signals.js';
import { AgentServer } from './server.js';

export const AGENT_FLAGS = [
  { flag: 'bind', key: 'agent.host', doc: 'address to listen on (0.0.0.0: every interface)' },
  { flag: 'host', key: 'agent.host', doc: 'same as --bind' },
  { flag: 'http-bind', key: 'agent.httpBind', doc: 'address the HTTP port listens on' },
  { flag: 'port', key: 'agent.grpcPort', doc: 'gRPC port (0 = pick a free one)' },
  { flag: 'http-port', key: 'agent.httpPort', doc: 'HTTP port for /metrics, /healthz, /readyz' },
  {
    flag: 'manager',
    key: 'agent.managerAddress',
    doc: 'manager host:port (or a comma-separated list) read for the guard',
  },
  { flag: 'state-path', key: 'agent.sqlitePath', doc: 'SQLite file of the stage history' },
] as const;

export async function runAgent(config: Config, logger?: Logger): Promise<AgentServer> {
  const log = logger ?? createLogger({ name: 'sluice-agent', level: config['log.level'] });
  const server = new AgentServer({ config, logger: log });
  return startDaemon(log, server);
}
