// Node-local ESS daemons for tests and benchmarks (docs/architecture.md#ess-mode), in this process, listening on
// 127.0.0.1 with ports the OS picks, serving `dir`.
import { loadConfig, type ConfigKey } from '../common/config/index.js';
import { SILENT_LOGGER, type Logger } from '../common/obs/logger.js';
import { EssServer } from '../ess/server.js';

export async function startEss(opts: {
  dir: string;
  config?: Partial<Record<ConfigKey, unknown>>;
  logger?: Logger;
}): Promise<EssServer> {
  const config = loadConfig({
    overrides: {
      'ess.dir': opts.dir,
      'ess.dataPort': 0,
      'ess.httpPort': 0,
      'log.level': 'silent',
      ...opts.config,
    },
  });
  const ess = new EssServer({ config, logger: opts.logger ?? SILENT_LOGGER });
  try {
    await ess.start();
  } catch (err) {
    ess.destroy();
    throw err;
  }
  return ess;
}
