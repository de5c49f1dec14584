// `sluice admin`: the operator's commands over the manager's HTTP API (docs/operations.md#admin-cli).
// Tables by default, the API's JSON with --json. Exit codes: 0 done, 1 the manager refused
// (unknown worker, ...), 2 bad usage, 3 no manager reachable, 4 the admin token was refused.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, parseValue, type Config } from '../common/config/index.js';
import { ConfigError, SluiceError } from '../common/errors.js';
import { readSecretFile } from '../common/security/keys.js';
import { AdminClient } from './admin-client.js';
import {
  appTable,
  renderRows,
  shuffleTable,
  workerTable,
  type AppRow,
  type ShuffleRow,
  type WorkerRow,
} from './admin-tables.js';
import { parseFlags, renderHelp, type FlagSpec } from './flags.js';

export const ADMIN_USAGE = `sluice admin <command> [flags]

Commands:
  status                      the managers' roles, workers by state, apps, shuffles
  workers                     every worker with its state, memory, rates and disks
  apps                        live apps
  shuffles [--app ID]         allocated shuffles (of one app)
  decommission <workerId>     stop placing data on a worker; it exits once it holds none
               [--wait]       ... and wait until it has stopped
  recommission <workerId>     withdraw a decommission the worker has not finished

Exit codes: 0 done, 1 refused by the manager (or --wait timed out), 2 bad usage,
3 no manager reachable, 4 admin token missing or refused.`;

const ADMIN_FLAGS: readonly FlagSpec[] = [
  {
    flag: 'manager',
    doc: 'manager HTTP address(es) host:port[,host:port...] (default: manager.host:manager.httpPort, 127.0.0.1:9098)',
  },
  {
    flag: 'admin-token-file',
    key: 'security.adminTokenFile',
    doc: 'file with the admin token (default: .sluice/secrets/admin.token when it exists, as sluice dev writes it)',
  },
  { flag: 'json', doc: "print the API's JSON instead of a table", boolean: true },
  { flag: 'app', doc: 'shuffles: only this app' },
  { flag: 'wait', doc: 'decommission: wait until the worker has stopped', boolean: true },
  {
    flag: 'timeout',
    doc: 'decommission --wait: give up after this long (e.g. 10m; default: no limit)',
  },
];

/** Poll interval of decommission --wait. */
const WAIT_POLL_MS = 1_000;
/** What `sluice dev` writes (src/cli/dev.ts). */
const DEV_TOKEN_FILE = join('.sluice', 'secrets', 'admin.token');

export const ADMIN_EXIT = { ok: 0, refused: 1, usage: 2, unreachable: 3, token: 4 } as const;

interface Context {
  readonly client: AdminClient;
  readonly json: boolean;
  readonly options: Record<string, string[]>;
  readonly out: (text: string) => void;
}

/** Runs one admin command; returns the exit code (usage errors throw ConfigError). */
export async function runAdmin(
  argv: readonly string[],
  out: (text: string) => void = (t) => process.stdout.write(t),
): Promise<number> {
  const flags = parseFlags(argv, ADMIN_FLAGS);
  const [command, ...args] = flags.positionals;
  if (flags.help || command === undefined) {
    out(
      renderHelp(
        ADMIN_USAGE,
        'Operates a running Sluice cluster through its manager.',
        ADMIN_FLAGS,
      ),
    );
    return ADMIN_EXIT.ok;
  }
  const config = loadConfig({
    file: flags.configFile ?? process.env.SLUICE_CONFIG,
    env: process.env,
    flags: flags.config,
  });
  const ctx: Context = {
    client: new AdminClient(managers(config, flags.options.manager?.at(-1)), token(config)),
    json: flags.options.json !== undefined,
    options: flags.options,
    out,
  };
  try {
    await dispatch(ctx, command, args);
    return ADMIN_EXIT.ok;
  } catch (err) {
    if (!(err instanceof SluiceError) || err.code === 'SLUICE_ERR_CONFIG') throw err;
    process.stderr.write(`sluice admin: ${err.message}\n`);
    if (err.code === 'SLUICE_ERR_UNAVAILABLE') return ADMIN_EXIT.unreachable;
    if (err.code === 'SLUICE_ERR_UNAUTHENTICATED' || err.code === 'SLUICE_ERR_UNAUTHORIZED')
      return ADMIN_EXIT.token;
    return ADMIN_EXIT.refused;
  }
}

function managers(config: Config, flag: string | undefined): string[] {
  if (flag !== undefined) {
    const list = flag.split(',').map((s) => s.trim());
    if (list.some((m) => m === ''))
      throw new ConfigError('--manager', `empty address in ${JSON.stringify(flag)}`);
    return list;
  }
  const host = config['manager.host'] === '0.0.0.0' ? '127.0.0.1' : config['manager.host'];
  return [`${host}:${config['manager.httpPort']}`];
}

function token(config: Config): string | undefined {
  const file =
    config['security.adminTokenFile'] || (existsSync(DEV_TOKEN_FILE) ? DEV_TOKEN_FILE : '');
  return file ? readSecretFile(file, 'security.adminTokenFile').toString('utf8') : undefined;
}

async function dispatch(ctx: Context, command: string, args: readonly string[]): Promise<void> {
  const expect = (n: number, what: string) => {
    if (args.length !== n)
      throw new ConfigError(command, `expects ${what} (see sluice admin --help)`);
  };
  switch (command) {
    case 'status':
      expect(0, 'no argument');
      return status(ctx);
    case 'workers':
      expect(0, 'no argument');
      return print(
        ctx,
        await ctx.client.list<WorkerRow>('/api/v1/workers', 'workers'),
        workerTable,
      );
    case 'apps':
      expect(0, 'no argument');
      return print(ctx, await ctx.client.list<AppRow>('/api/v1/apps', 'apps'), appTable);
    case 'shuffles': {
      expect(0, 'no argument (--app ID filters)');
      const app = ctx.options.app?.at(-1);
      const query = app === undefined ? '' : `?appId=${encodeURIComponent(app)}`;
      return print(
        ctx,
        await ctx.client.list<ShuffleRow>(`/api/v1/shuffles${query}`, 'shuffles'),
        shuffleTable,
      );
    }
    case 'decommission':
      expect(1, 'a worker id');
      return decommission(ctx, args[0]!);
    case 'recommission': {
      expect(1, 'a worker id');
      const reply = await workerAction(ctx, args[0]!, 'recommission');
      ctx.out(
        ctx.json
          ? `${JSON.stringify(reply)}\n`
          : `${args[0]}: recommissioned; it serves again from its next heartbeat\n`,
      );
      return;
    }
    default:
      throw new ConfigError(command, `unknown admin command\n\nUsage: ${ADMIN_USAGE}\n`);
  }
}

function print<T>(
  ctx: Context,
  rows: readonly T[],
  table: (rows: readonly T[]) => string[][],
): void {
  ctx.out(ctx.json ? `${JSON.stringify(rows, null, 2)}\n` : renderRows(table(rows)));
}

async function status(ctx: Context): Promise<void> {
  const [cluster, workers, apps, shuffles] = await Promise.all([
    ctx.client.get('/api/v1/cluster') as Promise<{ role: string; ha: boolean; leader: unknown }>,
    ctx.client.list<WorkerRow>('/api/v1/workers', 'workers'),
    ctx.client.list('/api/v1/apps', 'apps'),
    ctx.client.list('/api/v1/shuffles', 'shuffles'),
  ]);
  const byState = new Map<string, number>();
  for (const w of workers) byState.set(w.state, (byState.get(w.state) ?? 0) + 1);
  const summary = {
    role: cluster.role,
    ha: cluster.ha,
    leader: cluster.leader,
    workers: Object.fromEntries(byState),
    apps: apps.length,
    shuffles: shuffles.length,
  };
  if (ctx.json) return ctx.out(`${JSON.stringify(summary, null, 2)}\n`);
  const states = ['healthy', 'decommissioning', 'lost'].map((s) => `${byState.get(s) ?? 0} ${s}`);
  ctx.out(
    renderRows(
      [
        ['manager', `${cluster.role}${cluster.ha ? ' (HA)' : ''}`],
        ['workers', states.join(', ')],
        ['apps', String(apps.length)],
        ['shuffles', String(shuffles.length)],
      ],
      false,
    ),
  );
}

/** POSTs a worker action; an unknown worker's error lists the registered ones. */
async function workerAction(ctx: Context, workerId: string, action: string): Promise<unknown> {
  try {
    return await ctx.client.post(`/api/v1/workers/${encodeURIComponent(workerId)}/${action}`);
  } catch (err) {
    if (!(err instanceof SluiceError) || err.code !== 'SLUICE_ERR_NOT_FOUND') throw err;
    const known = (await ctx.client.list<WorkerRow>('/api/v1/workers', 'workers')).map(
      (w) => w.workerId,
    );
    throw new SluiceError(
      err.code,
      `${err.message} (registered: ${known.length > 0 ? known.join(', ') : 'none'})`,
    );
  }
}

async function findWorker(ctx: Context, workerId: string): Promise<WorkerRow | undefined> {
  const workers = await ctx.client.list<WorkerRow>('/api/v1/workers', 'workers');
  return workers.find((w) => w.workerId === workerId);
}

async function decommission(ctx: Context, workerId: string): Promise<void> {
  const timeout = ctx.options.timeout?.at(-1);
  const timeoutMs = timeout === undefined ? 0 : (parseValue(TIMEOUT_ENTRY, timeout) as number);
  const reply = await workerAction(ctx, workerId, 'decommission');
  if (ctx.json) ctx.out(`${JSON.stringify(reply)}\n`);
  else
    ctx.out(
      `${workerId}: decommission requested; no new data goes to it, and it stops once it holds none\n`,
    );
  if (ctx.options.wait === undefined) return;
  const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : Infinity;
  let last = '';
  let worker: WorkerRow | undefined;
  for (;;) {
    worker = await findWorker(ctx, workerId);
    const gone = !worker || worker.state === 'lost' || worker.servingState === 'SHUTTING_DOWN';
    if (gone && (!worker || !(await answers(worker)))) break;
    const step = !worker
      ? ''
      : worker.servingState === 'SERVING'
        ? 'waiting for its next heartbeat to carry the decommission'
        : `${worker.servingState}, holding ${worker.activeShuffles} shuffle(s)`;
    if (step !== last && !ctx.json) ctx.out(`${workerId}: ${step}\n`);
    last = step;
    if (Date.now() > deadline)
      throw new SluiceError(
        'SLUICE_ERR_TIMEOUT',
        `${workerId} still runs after ${timeout} (${step})`,
      );
    await new Promise((r) => setTimeout(r, WAIT_POLL_MS));
  }
  if (!ctx.json) ctx.out(`${workerId}: stopped\n`);
}

const TIMEOUT_ENTRY = {
  key: '--timeout',
  type: 'duration',
  default: 0,
  doc: '',
  category: 'cli',
} as const;

/** Whether the worker's HTTP port still answers (a stopped worker's does not). */
async function answers(w: WorkerRow): Promise<boolean> {
  try {
    await fetch(`http://${w.host}:${w.httpPort}/healthz`, { signal: AbortSignal.timeout(2_000) });
    return true;
  } catch {
    return false;
  }
}
