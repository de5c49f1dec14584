// `sluice dev` / `npm start`: a local cluster under ./.sluice. Today it runs the manager
// (SQLite state in .sluice/manager.db, logs in .sluice/logs); workers and the agent join it
// as their issues land.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { destination } from 'pino';
import { loadConfig, type Config } from '../common/config/index.js';
import { createLogger } from '../common/obs/logger.js';
import { runManager } from '../manager/main.js';
import type { FlagSpec } from './flags.js';

export const DEV_FLAGS: readonly FlagSpec[] = [
  { flag: 'dir', doc: 'directory for state, data and logs (default ./.sluice)' },
  { flag: 'port', key: 'manager.grpcPort', doc: 'manager gRPC port (0 = pick a free one)' },
  { flag: 'http-port', key: 'manager.httpPort', doc: 'manager HTTP port (0 = pick a free one)' },
];

export async function runDev(config: Config, dir = '.sluice'): Promise<void> {
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const devConfig = loadConfig({
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
  const logFile = join(dir, 'logs', 'manager.log');
  const logger = createLogger({
    name: 'sluice-manager',
    level: devConfig['log.level'],
    destination: destination({ dest: logFile, mkdir: true, sync: true }),
  });
  const manager = await runManager(devConfig, logger);
  const host = devConfig['manager.host'];
  process.stdout.write(
    [
      'Sluice dev cluster is up (Ctrl-C stops it):',
      `  manager gRPC   ${host}:${manager.grpcPort}`,
      `  manager HTTP   http://${host}:${manager.httpPort}/api/v1/workers   (also /metrics, /healthz, /readyz)`,
      `  state          ${devConfig['manager.sqlitePath']}`,
      `  logs           ${logFile}`,
      '  workers and the allocation agent are not part of this release yet (see README).',
      '',
    ].join('\n'),
  );
}
