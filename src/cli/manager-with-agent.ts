// `sluice manager --agent` (docs/architecture.md#processes): the allocation agent embedded in the manager's process,
// reading that manager's cluster state for its shuffle-capacity guard. One signal handler
// stops both; a second signal aborts.
import { loadConfig, type Config } from '../common/config/index.js';
import { createLogger } from '../common/obs/logger.js';
import { exitOnStopSignals } from '../common/obs/stop-signals.js';
import { AgentServer } from '../agent/server.js';
import { ManagerServer } from '../manager/server.js';

export async function runManagerWithAgent(config: Config): Promise<void> {
  const log = createLogger({ name: 'sluice-manager', level: config['log.level'] });
  const manager = new ManagerServer({ config, logger: log });
  let agent: AgentServer | undefined;
  try {
    await manager.start();
    agent = new AgentServer({
      config: loadConfig({
        overrides: {
          ...config,
          'agent.managerAddress': `${config['manager.host']}:${manager.grpcPort}`,
        },
      }),
      logger: log.child({ component: 'agent' }),
    });
    await agent.start();
  } catch (err) {
    agent?.destroy();
    manager.destroy();
    throw err;
  }
  exitOnStopSignals(log, {
    close: () => Promise.all([agent?.close(), manager.close()]),
    destroy: () => {
      agent?.destroy();
      manager.destroy();
    },
  });
}
