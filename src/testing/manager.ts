// Managers for tests and benchmarks: in-process (fast, inspectable) or as a child process of
// the built CLI (for kill -9 and restart tests). Both listen on 127.0.0.1 port 0.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { loadConfig, type ConfigKey } from '../common/config/index.js';
import { SILENT_LOGGER, type Logger } from '../common/obs/logger.js';
import type { Clock } from '../manager/cluster-manager.js';
import { ManagerServer } from '../manager/server.js';
import type { StateStore } from '../manager/state/index.js';
import { inNetns } from './netns.js';

/** The package root (src/testing and dist/testing are both two levels down). */
export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI_PATH = join(PACKAGE_ROOT, 'bin/sluice.js');

export interface StartManagerOptions {
  readonly config?: Partial<Record<ConfigKey, unknown>>;
  readonly store?: StateStore;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

export async function startManager(options: StartManagerOptions = {}): Promise<ManagerServer> {
  const config = loadConfig({
    overrides: {
      'manager.grpcPort': 0,
      'manager.httpPort': 0,
      'manager.state': 'memory',
      'manager.minFreeDiskBytes': 0,
      'log.level': 'silent',
      ...options.config,
    },
  });
  const server = new ManagerServer({
    config,
    logger: options.logger ?? SILENT_LOGGER,
    store: options.store,
    clock: options.clock,
  });
  try {
    await server.start();
  } catch (err) {
    server.destroy();
    throw err;
  }
  return server;
}

export interface ManagerProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly address: string;
  /** Every stdout/stderr line so far (JSON log lines). */
  readonly output: string[];
  /** Sends the signal and waits for the exit; resolves with the exit code or signal. */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

export interface SpawnManagerOptions {
  readonly timeoutMs?: number;
  /** Network namespace to run in (src/testing/netns.ts); default: this process's. */
  readonly netns?: string;
  /** The address it listens on (`--bind`), part of `address`; default 127.0.0.1. */
  readonly host?: string;
}

/** Runs `sluice manager` (the built CLI) as a child and waits for its "manager started" line. */
export async function spawnManager(
  args: readonly string[],
  { timeoutMs = 15_000, netns, host = '127.0.0.1' }: SpawnManagerOptions = {},
): Promise<ManagerProcess> {
  // The ports are read from the info-level "manager started" line, so info is forced (last wins).
  const argv = [
    CLI_PATH,
    'manager',
    '--port',
    '0',
    '--http-port',
    '0',
    '--bind',
    host,
    ...args,
    '--log-level',
    'info',
  ];
  const command = inNetns(netns, process.execPath, argv);
  const child = spawn(command.file, command.args, {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  createInterface({ input: child.stderr! }).on('line', (line) => output.push(line));
  const started = new Promise<{ grpcPort: number; httpPort: number }>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(new Error(`manager did not start within ${timeoutMs} ms:\n${output.join('\n')}`)),
      timeoutMs,
    );
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output.push(line);
      if (!line.includes('"manager started"')) return;
      clearTimeout(timer);
      const { grpcPort, httpPort } = JSON.parse(line) as { grpcPort: number; httpPort: number };
      resolve({ grpcPort, httpPort });
    });
    void exited.then(([code, signal]) => {
      clearTimeout(timer);
      reject(
        new Error(`manager exited (${code ?? signal}) before starting:\n${output.join('\n')}`),
      );
    });
  });
  let ports: { grpcPort: number; httpPort: number };
  try {
    ports = await started;
  } catch (err) {
    if (child.exitCode === null) child.kill('SIGKILL');
    throw err;
  }
  return {
    child,
    pid: child.pid!,
    ...ports,
    address: `${host}:${ports.grpcPort}`,
    output,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const [code, sig] = await exited;
      return code ?? sig ?? 'unknown';
    },
  };
}
