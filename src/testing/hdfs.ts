// A real HDFS for tests (docs/development.md#tests: real things, real child processes): Hadoop's
// MiniDFSCluster, a NameNode and N DataNodes in one `java ... sluice.MiniHdfs` child
// (scripts/hdfs, built by .ci/install-hdfs), WebHDFS on, every listener on 127.0.0.1 on a
// port the OS picked, its data and log in a temp dir. The HDFS storage is tested against it:
// stopDataNode() in the middle of a write exercises the pipeline recovery, stopNameNode()
// an HDFS that does not answer.
//
// The launcher prints one JSON line when the cluster serves, then answers one JSON line per
// command written to its stdin (stopDataNode <i>, restartDataNode <i>, stopNameNode,
// restartNameNode, shutdown); stdin at EOF shuts it down too, so a test runner that dies
// never leaves a JVM behind. Its log (Hadoop's, on stderr) goes to `<dir>/minihdfs.log`;
// a failed start's error holds its tail.
//
// close() asks for a shutdown, SIGKILLs the JVM by PID if it has not exited within 5 s,
// waits for the exit and removes the temp dir; call it in afterAll. A process-exit hook
// kills whatever a crashed test left.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { PACKAGE_ROOT } from './manager.js';

/** The launcher's Maven project; `.ci/install-hdfs` builds it. */
export const HDFS_LAUNCHER_DIR = join(PACKAGE_ROOT, 'scripts', 'hdfs');
const CLASSES = join(HDFS_LAUNCHER_DIR, 'target', 'classes');
/** The Hadoop jars the launcher runs with (in ~/.m2), as `mvn dependency:build-classpath` wrote them. */
const CLASSPATH_FILE = join(HDFS_LAUNCHER_DIR, 'target', 'classpath.txt');
const HOST = '127.0.0.1';
/** A NameNode and three DataNodes start in ~6 s on an idle 2-core machine; a busy one is slower. */
const START_TIMEOUT_MS = 120_000;
/** A command (a DataNode or NameNode restart waits for it to serve). */
const COMMAND_TIMEOUT_MS = 90_000;
const STOP_GRACE_MS = 5_000;

/** True when the launcher is built and its jars are in ~/.m2 (CI: .ci/install-hdfs). */
export function hdfsAvailable(): boolean {
  if (!existsSync(join(CLASSES, 'sluice', 'MiniHdfs.class')) || !existsSync(CLASSPATH_FILE))
    return false;
  return readFileSync(CLASSPATH_FILE, 'utf8').trim().split(':').every(existsSync);
}

export interface MiniHdfsOptions {
  /** DataNodes to start. Default 3. */
  readonly dataNodes?: number;
  /** dfs.replication. Default 2 (min(2, dataNodes)). */
  readonly replication?: number;
  /** dfs.blocksize in bytes (a multiple of 512); default HDFS's own (128 MiB). */
  readonly blockSize?: number;
  /** Check permissions (simple auth: the user is WebHDFS's user.name; "/" is 777). Default true. */
  readonly permissions?: boolean;
  readonly startTimeoutMs?: number;
}

export interface MiniHdfsDataNode {
  readonly index: number;
  readonly running: boolean;
  readonly xferPort?: number;
  readonly httpPort?: number;
  readonly ipcPort?: number;
}

export interface MiniHdfs {
  /** http://127.0.0.1:PORT, the NameNode's HTTP server (WebHDFS under /webhdfs/v1). */
  readonly webhdfsUrl: string;
  /** The NameNode's HTTP port: the one Sluice's hdfs:// URLs name. */
  readonly httpPort: number;
  /** The NameNode's RPC port (Hadoop clients; Sluice does not use it). */
  readonly rpcPort: number;
  /** PID of the JVM. */
  readonly pid: number;
  /** The temp dir holding the cluster's data and log. */
  readonly dir: string;
  readonly dataNodes: readonly MiniHdfsDataNode[];
  /** `hdfs://127.0.0.1:<httpPort>/<root>` (a leading / in root is dropped). */
  url(root: string): string;
  /** Stops DataNode i (0-based, stable across stops and restarts); resolves once it is down. */
  stopDataNode(i: number): Promise<void>;
  /** Starts DataNode i again on its ports and data; resolves once it serves. */
  restartDataNode(i: number): Promise<void>;
  /** Stops the NameNode: WebHDFS refuses connections until restartNameNode(). */
  stopNameNode(): Promise<void>;
  /** Starts the NameNode again on the same ports; resolves once it is out of safe mode. */
  restartNameNode(): Promise<void>;
  /** The last lines of the cluster's log, for error messages. */
  logTail(lines?: number): string;
  /** Shuts the cluster down (SIGKILL after 5 s) and removes `dir`. Idempotent. */
  close(): Promise<void>;
}

/** Every launcher alive, so the exit hook can kill what a crashed test left behind. */
const LIVE_CHILDREN = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of LIVE_CHILDREN) {
      if (child.pid !== undefined) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    }
  });
}

interface ReadyLine {
  readonly ready: true;
  readonly webhdfs: string;
  readonly rpcPort: number;
  readonly pid: number;
  readonly dataNodes: MiniHdfsDataNode[];
}

interface AnswerLine {
  readonly ok: boolean;
  readonly cmd: string;
  readonly error?: string;
  readonly dataNode?: MiniHdfsDataNode;
}

class Cluster implements MiniHdfs {
  readonly webhdfsUrl: string;
  readonly httpPort: number;
  readonly rpcPort: number;
  readonly pid: number;
  readonly dir: string;
  readonly #dataNodes: MiniHdfsDataNode[];
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;
  readonly #logPath: string;
  /** Callers waiting for the answer to a command, in the order the commands went out. */
  readonly #answers: ((answer: AnswerLine | Error) => void)[];
  /** Commands go out one at a time. */
  #queue: Promise<unknown> = Promise.resolve();
  #closing: Promise<void> | undefined;

  constructor(
    ready: ReadyLine,
    dir: string,
    logPath: string,
    child: ChildProcess,
    exited: Promise<void>,
    answers: ((answer: AnswerLine | Error) => void)[],
  ) {
    this.webhdfsUrl = ready.webhdfs;
    this.httpPort = Number(new URL(ready.webhdfs).port);
    this.rpcPort = ready.rpcPort;
    this.pid = ready.pid;
    this.dir = dir;
    this.#dataNodes = ready.dataNodes.slice();
    this.#logPath = logPath;
    this.#child = child;
    this.#exited = exited;
    this.#answers = answers;
  }

  get dataNodes(): readonly MiniHdfsDataNode[] {
    return this.#dataNodes;
  }

  url(root: string): string {
    return `hdfs://${HOST}:${this.httpPort}/${root.replace(/^\/+/, '')}`;
  }

  async stopDataNode(i: number): Promise<void> {
    await this.#command(`stopDataNode ${i}`);
    this.#dataNodes[i] = { index: i, running: false };
  }

  async restartDataNode(i: number): Promise<void> {
    const answer = await this.#command(`restartDataNode ${i}`);
    if (answer.dataNode) this.#dataNodes[i] = answer.dataNode;
  }

  async stopNameNode(): Promise<void> {
    await this.#command('stopNameNode');
  }

  async restartNameNode(): Promise<void> {
    await this.#command('restartNameNode');
  }

  logTail(lines = 40): string {
    return logTail(this.#logPath, lines);
  }

  #command(line: string): Promise<AnswerLine> {
    const run = this.#queue.then(
      () =>
        new Promise<AnswerLine>((resolve, reject) => {
          if (this.#closing !== undefined || this.#child.exitCode !== null) {
            reject(new Error(`MiniHdfs is not running (${line})`));
            return;
          }
          const timer = setTimeout(() => {
            const i = this.#answers.indexOf(answer);
            if (i >= 0) this.#answers.splice(i, 1);
            reject(
              new Error(
                `MiniHdfs did not answer "${line}" within ${COMMAND_TIMEOUT_MS} ms:\n${this.logTail()}`,
              ),
            );
          }, COMMAND_TIMEOUT_MS);
          const answer = (a: AnswerLine | Error) => {
            clearTimeout(timer);
            if (a instanceof Error) reject(a);
            else if (!a.ok) reject(new Error(`MiniHdfs "${line}" failed: ${a.error}`));
            else resolve(a);
          };
          this.#answers.push(answer);
          this.#child.stdin!.write(`${line}\n`);
        }),
    );
    this.#queue = run.catch(() => undefined);
    return run;
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      const child = this.#child;
      if (child.exitCode === null && child.signalCode === null) {
        child.stdin!.end('shutdown\n');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
        await this.#exited;
        clearTimeout(timer);
      }
      rmSync(this.dir, { recursive: true, force: true });
    })();
    return this.#closing;
  }
}

function logTail(path: string, lines: number): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Starts a MiniDFSCluster and resolves once the NameNode and every DataNode serve. Throws,
 * leaving no process and no temp dir behind, if it does not within 2 minutes; the message
 * holds the end of its log.
 */
export async function startMiniHdfs(options: MiniHdfsOptions = {}): Promise<MiniHdfs> {
  if (!hdfsAvailable()) {
    throw new Error(
      `the MiniDFSCluster launcher is not built (${CLASSPATH_FILE}): run .ci/install-hdfs`,
    );
  }
  const dataNodes = options.dataNodes ?? 3;
  const replication = options.replication ?? Math.min(2, dataNodes);
  const dir = mkdtempSync(join(tmpdir(), 'sluice-hdfs-'));
  const javaTmp = join(dir, 'tmp');
  mkdirSync(javaTmp);
  const logPath = join(dir, 'minihdfs.log');
  const classpath = `${CLASSES}:${readFileSync(CLASSPATH_FILE, 'utf8').trim()}`;
  const args = [
    '-Xmx512m',
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    '-Djava.net.preferIPv4Stack=true',
    `-Djava.io.tmpdir=${javaTmp}`,
    '-cp',
    classpath,
    'sluice.MiniHdfs',
    '--base-dir',
    join(dir, 'cluster'),
    '--datanodes',
    String(dataNodes),
    '--replication',
    String(replication),
    ...(options.blockSize === undefined ? [] : ['--block-size', String(options.blockSize)]),
    ...(options.permissions === false ? [] : ['--permissions']),
  ];
  const log = openSync(logPath, 'a');
  let child: ChildProcess;
  try {
    child = spawn('java', args, { stdio: ['pipe', 'pipe', log] });
  } finally {
    closeSync(log);
  }
  LIVE_CHILDREN.add(child);
  installExitHook();
  const answers: ((answer: AnswerLine | Error) => void)[] = [];
  let onReady: ((ready: ReadyLine) => void) | undefined;
  let onGone: ((err: Error) => void) | undefined;
  const exited = new Promise<void>((resolve) => {
    const onExit = (code?: number | null, signal?: string | null) => {
      LIVE_CHILDREN.delete(child);
      const gone = new Error(
        `MiniHdfs exited (code ${code ?? '-'}, signal ${signal ?? '-'}):\n${logTail(logPath, 40)}`,
      );
      onGone?.(gone);
      for (const answer of answers.splice(0)) answer(gone);
      resolve();
    };
    child.once('exit', onExit);
    // A spawn failure (no `java`) emits 'error' and maybe no 'exit'.
    child.once('error', (err) => {
      onGone?.(err);
      onExit();
    });
  });
  // Writes to the stdin of a JVM that died are refused with EPIPE; 'exit' reports it.
  child.stdin!.on('error', () => undefined);
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let message: ReadyLine | AnswerLine;
    try {
      message = JSON.parse(line) as ReadyLine | AnswerLine;
    } catch {
      return; // Not one of the launcher's lines.
    }
    if ('ready' in message) onReady?.(message);
    else answers.shift()?.(message);
  });

  const timeoutMs = options.startTimeoutMs ?? START_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  try {
    const ready = await new Promise<ReadyLine>((resolve, reject) => {
      onReady = resolve;
      onGone = reject;
      timer = setTimeout(
        () =>
          reject(
            new Error(`MiniHdfs did not start within ${timeoutMs} ms:\n${logTail(logPath, 40)}`),
          ),
        timeoutMs,
      );
    });
    return new Cluster(ready, dir, logPath, child, exited, answers);
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
    throw err;
  } finally {
    clearTimeout(timer);
    onReady = undefined;
    onGone = undefined;
  }
}
