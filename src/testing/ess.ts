// Node-local ESS daemons for tests and benchmarks (docs/architecture.md#ess-mode), in this process, listening on
// 127.0.0.1 with ports the OS picks, serving `dir`.
import { mkdtempSync, rmSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type ConfigKey } from '../common/config/index.js';
import { SILENT_LOGGER, type Logger } from '../common/obs/logger.js';
import { EssServer } from '../ess/server.js';
import { startCluster, type Cluster } from './cluster.js';

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

/** Map outputs (index files) of one shuffle of an app under an ESS directory; 0 when none. */
export async function outputsOf(dir: string, appId: string, shuffleId: number): Promise<number> {
  const files = await readdir(join(dir, appId, String(shuffleId))).catch(() => []);
  return files.filter((f) => f.endsWith('.index')).length;
}

/** A manager without workers and one ESS serving a fresh temp dir: an ESS-mode test's node. */
export interface EssNode {
  readonly cluster: Cluster;
  readonly dir: string;
  readonly ess: EssServer;
  /** Stops both and deletes the dir. */
  close(): Promise<void>;
}

export async function startEssNode(o: {
  prefix: string;
  config?: Partial<Record<ConfigKey, unknown>>;
  managerConfig?: Partial<Record<ConfigKey, unknown>>;
  /** The ESS is given the manager's address (`ess.manager`: it sweeps ended apps). */
  knowsManager?: boolean;
}): Promise<EssNode> {
  const cluster = await startCluster({ workers: 0, managerConfig: o.managerConfig });
  const dir = mkdtempSync(join(tmpdir(), o.prefix));
  try {
    const manager = o.knowsManager ? { 'ess.manager': cluster.managerAddress } : {};
    const ess = await startEss({ dir, config: { ...manager, ...o.config } });
    return {
      cluster,
      dir,
      ess,
      close: async () => {
        await ess.close();
        await cluster.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await cluster.close();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
