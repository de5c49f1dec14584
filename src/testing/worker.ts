// Workers for tests and benchmarks: in-process (WorkerServer) or as a child process of the
// built CLI (kill -9 / restart tests). Both listen on 127.0.0.1 with ports picked by the OS.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { loadConfig, type ConfigKey } from '../common/config/index.js';
import { SILENT_LOGGER, type Logger } from '../common/obs/logger.js';
import { WorkerServer } from '../worker/server.js';
import { CLI_PATH } from './manager.js';
import { inNetns } from './netns.js';

export interface StartWorkerOptions {
  readonly manager: string;
  readonly dirs: readonly string[];
  readonly id?: string;
  readonly config?: Partial<Record<ConfigKey, unknown>>;
  readonly logger?: Logger;
}

export async function startWorker(opts: StartWorkerOptions): Promise<WorkerServer> {
  const config = loadConfig({
    overrides: {
      'worker.manager': opts.manager,
      'worker.dirs': opts.dirs.join(','),
      'worker.id': opts.id ?? '',
      'worker.dataPort': 0,
      'worker.controlPort': 0,
      'worker.httpPort': 0,
      'worker.memoryBudgetBytes': 256 * 1024 ** 2,
      'log.level': 'silent',
      ...opts.config,
    },
  });
  const worker = new WorkerServer(config, opts.logger ?? SILENT_LOGGER);
  try {
    await worker.start();
  } catch (err) {
    await worker.close().catch(() => undefined);
    throw err;
  }
  return worker;
}

export interface WorkerProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly workerId: string;
  readonly dataPort: number;
  readonly controlPort: number;
  readonly httpPort: number;
  readonly output: string[];
  stop(signal?: NodeJS.Signals): Promise<number | string>;
  /** Waits for the process to exit on its own; resolves with the exit code or signal. */
  exited(): Promise<number | string>;
}

export interface SpawnWorkerOptions {
  readonly manager: string;
  /** Data directories; none (with `--remote` in args) is a remote-only worker. */
  readonly dirs: readonly string[];
  readonly id: string;
  readonly args?: readonly string[];
  /** Network namespace to run in (src/testing/netns.ts); default: this process's. */
  readonly netns?: string;
  /** Added to the environment the worker inherits (e.g. AWS_ACCESS_KEY_ID for an S3 tier). */
  readonly env?: Readonly<Record<string, string>>;
  /** Ports to listen on (a restart on the previous process's ports); default: picked by the OS. */
  readonly ports?: {
    readonly dataPort: number;
    readonly controlPort: number;
    readonly httpPort: number;
  };
}

/** Runs `sluice worker` as a child; resolves once it logged "worker started". */
export async function spawnWorker(
  opts: SpawnWorkerOptions,
  timeoutMs = 20_000,
): Promise<WorkerProcess> {
  const argv = [
    CLI_PATH,
    'worker',
    '--manager',
    opts.manager,
    '--id',
    opts.id,
    '--data-port',
    String(opts.ports?.dataPort ?? 0),
    '--control-port',
    String(opts.ports?.controlPort ?? 0),
    '--http-port',
    String(opts.ports?.httpPort ?? 0),
  ];
  for (const d of opts.dirs) argv.push('--dir', d);
  for (const arg of opts.args ?? []) argv.push(arg);
  argv.push('--log-level', 'info');
  const command = inNetns(opts.netns, process.execPath, argv);
  const child = spawn(command.file, command.args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: opts.env ? { ...process.env, ...opts.env } : process.env,
  });
  const output: string[] = [];
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  createInterface({ input: child.stderr! }).on('line', (l) => output.push(l));
  const started = new Promise<{ dataPort: number; controlPort: number; httpPort: number }>(
    (resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`worker did not start in ${timeoutMs} ms:\n${output.join('\n')}`)),
        timeoutMs,
      );
      createInterface({ input: child.stdout! }).on('line', (line) => {
        output.push(line);
        if (!line.includes('"worker started"')) return;
        clearTimeout(timer);
        resolve(JSON.parse(line) as { dataPort: number; controlPort: number; httpPort: number });
      });
      void exited.then(([code, signal]) => {
        clearTimeout(timer);
        reject(
          new Error(`worker exited (${code ?? signal}) before starting:\n${output.join('\n')}`),
        );
      });
    },
  );
  let ports: { dataPort: number; controlPort: number; httpPort: number };
  try {
    ports = await started;
  } catch (err) {
    if (child.exitCode === null) child.kill('SIGKILL');
    throw err;
  }
  return {
    child,
    pid: child.pid!,
    workerId: opts.id,
    dataPort: ports.dataPort,
    controlPort: ports.controlPort,
    httpPort: ports.httpPort,
    output,
    async exited() {
      const [code, sig] = await exited;
      return code ?? sig ?? 'unknown';
    },
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const [code, sig] = await exited;
      return code ?? sig ?? 'unknown';
    },
  };
}
