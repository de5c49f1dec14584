// The processes of the test Ceph cluster (ceph.ts): daemons in the foreground as direct
// children, tools run to their end, each with its output in a log file whose tail goes into
// error messages. A process-exit hook SIGKILLs every child still alive and removes every
// cluster dir not closed, so a crashed test leaves nothing behind (orphans would wait for
// PID 1, which reaps them late here).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where Debian's packages put the daemons and tools. */
export const BIN = '/usr/bin';
/** One command-line tool (ceph, radosgw-admin) run. */
const TOOL_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 2_000;

/** Every Ceph child alive and every cluster's dir, for the exit hook: what a crashed test left. */
const LIVE_CHILDREN = new Set<ChildProcess>();
/** Cluster dirs not yet removed by close(). */
export const LIVE_DIRS = new Set<string>();
let exitHookInstalled = false;

export function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of LIVE_CHILDREN) {
      try {
        if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    for (const dir of LIVE_DIRS) rmSync(dir, { recursive: true, force: true });
  });
}

function spawnTracked(command: string, args: readonly string[], log: string): ChildProcess {
  const fd = openSync(log, 'a');
  let child: ChildProcess;
  try {
    child = spawn(join(BIN, command), args, { stdio: ['pipe', fd, fd] });
  } finally {
    closeSync(fd);
  }
  LIVE_CHILDREN.add(child);
  installExitHook();
  const forget = () => LIVE_CHILDREN.delete(child);
  child.once('exit', forget);
  child.once('error', forget);
  return child;
}

/** The last lines of a log file, for error messages. */
function tail(path: string, lines = 25): string {
  try {
    const text = readFileSync(path, 'utf8').trimEnd();
    return `--- ${path}\n${text.split('\n').slice(-lines).join('\n')}`;
  } catch {
    return `--- ${path}: (no log)`;
  }
}

/** One long-running daemon (ceph-mon, ceph-osd, radosgw) in the foreground. */
export class Daemon {
  readonly name: string;
  readonly #logs: readonly string[];
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;
  #running = true;

  /** `logs`: its stdout/stderr file first, then Ceph's own log file. */
  constructor(name: string, command: string, args: readonly string[], logs: readonly string[]) {
    this.name = name;
    this.#logs = logs;
    this.#child = spawnTracked(command, args, logs[0]!);
    this.#exited = new Promise((resolve) => {
      const onExit = () => {
        this.#running = false;
        resolve();
      };
      this.#child.once('exit', onExit);
      // A spawn failure emits 'error' and maybe no 'exit'.
      this.#child.once('error', onExit);
    });
  }

  get pid(): number | undefined {
    return this.#running ? this.#child.pid : undefined;
  }

  get running(): boolean {
    return this.#running;
  }

  kill(signal: NodeJS.Signals): void {
    if (this.#running) this.#child.kill(signal);
  }

  exited(): Promise<void> {
    return this.#exited;
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#child.kill('SIGTERM');
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), STOP_GRACE_MS);
    await this.#exited;
    clearTimeout(timer);
  }

  logTail(): string {
    return this.#logs.map((log) => tail(log)).join('\n');
  }
}

/** Runs a tool to its end; rejects with its output on a non-zero exit or after the timeout. */
export async function runTool(
  dir: string,
  command: string,
  args: readonly string[],
  input = '',
  timeoutMs = TOOL_TIMEOUT_MS,
): Promise<string> {
  const log = join(dir, 'log', `${command}.out`);
  const child = spawn(join(BIN, command), args, { stdio: ['pipe', 'pipe', 'pipe'] });
  LIVE_CHILDREN.add(child);
  installExitHook();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));
  child.stdin.on('error', () => undefined);
  child.stdin.end(input);
  const timer = setTimeout(() => child.kill('SIGKILL'), Math.min(timeoutMs, TOOL_TIMEOUT_MS));
  try {
    // 'close', not 'exit': every byte of its output has been read by then.
    const [code, signal] = (await Promise.race([
      once(child, 'close'),
      once(child, 'error').then(([e]) => Promise.reject(e as Error)),
    ])) as [number | null, NodeJS.Signals | null];
    const stdout = Buffer.concat(out).toString('utf8');
    const stderr = Buffer.concat(err).toString('utf8');
    writeFileSync(log, `$ ${command} ${args.join(' ')}\n${stdout}${stderr}\n`, { flag: 'a' });
    if (code !== 0) {
      const why = signal ? `killed by ${signal} (timed out?)` : `exit ${code}`;
      throw new Error(`${command} ${args.join(' ')}: ${why}\n${stderr.trim()}`);
    }
    return stdout;
  } finally {
    clearTimeout(timer);
    LIVE_CHILDREN.delete(child);
  }
}
