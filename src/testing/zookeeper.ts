// Real ZooKeeper servers for tests (docs/development.md#tests: real things, real child processes
// when a test needs kill -9): one standalone server or a three-server ensemble, each a
// `java ... QuorumPeerMain zoo.cfg` child listening on 127.0.0.1 only, on ports picked free,
// with its data and log in a temp dir. The ZooKeeper state store and leader election are tested
// against it: `kill('SIGSTOP')` freezes a server (a GC pause, a hung host), `kill('SIGKILL')`
// crashes it, `stop()`/`start()` restart it on the same ports and data.
//
// The configuration is for tests: fsync off (`forceSync=no`), small preallocation, a short
// tick (sessions may last 2..20 ticks), the admin server off (it would listen on 0.0.0.0:8080)
// and only the four-letter words the harness reads. Readiness is `srvr` answering a `Mode:`
// line; `ruok` answers "imok" before an ensemble member has joined a quorum.
//
// close() SIGKILLs every process it started, by PID, waits for each exit and removes the temp
// dir; call it in afterAll/afterEach. A process-exit hook kills whatever a crashed test left.
//
// `sluice dev --ha` starts its one local server through startZooKeeperServer() with durable
// settings instead (fsync on, default preallocation, a 2 s tick, old snapshots purged), its
// data in a directory it keeps; the spawning, readiness and stopping are the same.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './wait-for.js';

/** Where Debian's `zookeeper` package puts the server (its manifest lists its dependencies). */
export const ZOOKEEPER_JAR = '/usr/share/java/zookeeper.jar';
/** slf4j's simple binding, so the server's log reaches its log file instead of nowhere. */
const SLF4J_SIMPLE_JAR = '/usr/share/java/slf4j-simple.jar';
const HOST = '127.0.0.1';
const START_TIMEOUT_MS = 20_000;
/** A restarted ensemble member may take 7-8 s to rejoin; give it room on a busy machine. */
const RESTART_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 3_000;
/** The tests' class path: Debian's jar (its manifest lists its dependencies) and slf4j-simple. */
const DEBIAN_CLASSPATH = `${ZOOKEEPER_JAR}:${SLF4J_SIMPLE_JAR}`;

/** True when the ZooKeeper server jar is installed (CI installs it: .ci/run). */
export function zooKeeperAvailable(): boolean {
  return existsSync(ZOOKEEPER_JAR);
}

/**
 * The Java class path of an installed ZooKeeper server: an Apache release unpacked at
 * `ZOOKEEPER_HOME` (its jars in lib/, its logging configuration in conf/), else Debian's
 * `zookeeper` package; undefined when neither is there.
 */
export function zooKeeperClasspath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const home = env.ZOOKEEPER_HOME;
  if (home) return [join(home, 'lib', '*'), join(home, '*'), join(home, 'conf')].join(':');
  return zooKeeperAvailable() ? DEBIAN_CLASSPATH : undefined;
}

export interface ZooKeeperOptions {
  /** 1: a standalone server; 3: an ensemble (two must be up for a quorum). Default 1. */
  readonly servers?: 1 | 3;
  /** ZooKeeper's tick; sessions may last 2..20 ticks. Default 500 ms (sessions 1-10 s). */
  readonly tickTimeMs?: number;
}

/** One server of the ensemble; its ports and data survive stop()/start(). */
export interface ZooKeeperServer {
  /** 1-based, the server's `myid`. */
  readonly id: number;
  /** The client port, on 127.0.0.1. */
  readonly port: number;
  /** PID of the current process; undefined while stopped. */
  readonly pid: number | undefined;
  readonly running: boolean;
  /** Sends a signal to the running process (SIGKILL: crash, SIGSTOP/SIGCONT: freeze/thaw). */
  kill(signal: 'SIGKILL' | 'SIGSTOP' | 'SIGCONT'): void;
  /** Resolves when the process has exited (at once if it is not running). */
  exited(): Promise<void>;
  /** SIGTERM (SIGKILL after 3 s) and waits for the exit. */
  stop(): Promise<void>;
  /** Starts it again on the same ports and data; resolves once it serves (`srvr`). */
  start(): Promise<void>;
  /** The `Mode:` the server reports (standalone, leader, follower), undefined if none. */
  mode(): Promise<string | undefined>;
}

export interface ZooKeeperEnsemble {
  /** "127.0.0.1:port,127.0.0.1:port,..." for clients. */
  readonly connectString: string;
  readonly servers: readonly ZooKeeperServer[];
  /** The temp dir holding every server's config, data and log. */
  readonly dir: string;
  /** Kills every process this harness started and removes `dir`. Idempotent. */
  close(): Promise<void>;
}

/** Every ZooKeeper child alive, so the exit hook can kill what a crashed test left behind. */
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

/** Ports the OS reports free on 127.0.0.1, all held open together so they are distinct. */
export async function freePorts(n: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < n; i++) {
      const server = createServer();
      servers.push(server);
      server.listen(0, HOST);
      await once(server, 'listening');
      ports.push((server.address() as { port: number }).port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

/** Sends a four-letter word and returns the answer ('' if none within `timeoutMs`). */
export async function fourLetterWord(port: number, word: string, timeoutMs = 1_000) {
  return new Promise<string>((resolve) => {
    const chunks: Buffer[] = [];
    const socket = createConnection({ host: HOST, port });
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const timer = setTimeout(done, timeoutMs);
    socket.on('connect', () => socket.end(word));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', done);
    socket.on('error', done);
  });
}

interface Ports {
  readonly client: number;
  readonly quorum: number;
  readonly election: number;
}

function zooCfg(
  dataDir: string,
  ports: Ports,
  all: readonly Ports[],
  tickTimeMs: number,
  durable = false,
) {
  const lines = [
    `tickTime=${tickTimeMs}`,
    'initLimit=20',
    'syncLimit=10',
    `dataDir=${dataDir}`,
    `clientPort=${ports.client}`,
    `clientPortAddress=${HOST}`,
    // Else Jetty serves the admin API on 0.0.0.0:8080.
    'admin.enableServer=false',
    '4lw.commands.whitelist=ruok,srvr,stat,mntr',
    ...(durable
      ? // Data kept across restarts: fsync on (the default), the last 3 snapshots kept.
        ['autopurge.snapRetainCount=3', 'autopurge.purgeInterval=1']
      : [
          'preAllocSize=1024',
          // Tests only: a transaction is acknowledged before it reaches the disk.
          'forceSync=no',
        ]),
    'maxClientCnxns=0',
  ];
  if (all.length > 1) {
    all.forEach((p, i) => lines.push(`server.${i + 1}=${HOST}:${p.quorum}:${p.election}`));
  }
  return `${lines.join('\n')}\n`;
}

class ServerProcess implements ZooKeeperServer {
  readonly id: number;
  readonly port: number;
  readonly #dir: string;
  readonly #classpath: string;
  readonly #logPath: string;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();

  /** `dir` holds zoo.cfg; the log goes to `logPath` (default `<dir>/zookeeper.log`). */
  constructor(
    id: number,
    port: number,
    dir: string,
    classpath = DEBIAN_CLASSPATH,
    logPath?: string,
  ) {
    this.id = id;
    this.port = port;
    this.#dir = dir;
    this.#classpath = classpath;
    this.#logPath = logPath ?? join(dir, 'zookeeper.log');
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  kill(signal: 'SIGKILL' | 'SIGSTOP' | 'SIGCONT'): void {
    const child = this.#child;
    if (child === undefined) throw new Error(`ZooKeeper server ${this.id} is not running`);
    child.kill(signal);
  }

  exited(): Promise<void> {
    return this.#exited;
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    child.kill('SIGTERM');
    // A frozen JVM only sees the SIGTERM once it runs again.
    child.kill('SIGCONT');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await this.#exited;
    clearTimeout(timer);
  }

  async start(timeoutMs = RESTART_TIMEOUT_MS): Promise<void> {
    if (this.#child !== undefined) {
      throw new Error(`ZooKeeper server ${this.id} is running (after kill(), await exited())`);
    }
    const log = openSync(this.#logPath, 'a');
    let child: ChildProcess;
    try {
      child = spawn(
        'java',
        [
          '-Xmx128m',
          '-XX:+UseSerialGC',
          '-XX:TieredStopAtLevel=1',
          '-cp',
          this.#classpath,
          'org.apache.zookeeper.server.quorum.QuorumPeerMain',
          join(this.#dir, 'zoo.cfg'),
        ],
        { stdio: ['ignore', log, log] },
      );
    } finally {
      closeSync(log);
    }
    this.#child = child;
    LIVE_CHILDREN.add(child);
    installExitHook();
    this.#exited = new Promise((resolve) => {
      const onExit = () => {
        LIVE_CHILDREN.delete(child);
        if (this.#child === child) this.#child = undefined;
        resolve();
      };
      child.once('exit', onExit);
      // A spawn failure (no `java`) emits 'error' and maybe no 'exit'.
      child.once('error', onExit);
    });
    try {
      await waitFor(
        async () => {
          if (this.#child !== child) {
            throw new Error(
              `ZooKeeper server ${this.id} exited while starting:\n${this.logTail()}`,
            );
          }
          return (await this.mode()) !== undefined;
        },
        {
          timeoutMs,
          intervalMs: 100,
          what: `ZooKeeper server ${this.id} to serve on ${this.port}`,
        },
      );
    } catch (err) {
      if (this.#child === child) {
        child.kill('SIGKILL');
        await this.#exited;
      }
      throw err instanceof Error && !err.message.includes('exited while starting')
        ? new Error(`${err.message}\n${this.logTail()}`, { cause: err })
        : err;
    }
  }

  async mode(): Promise<string | undefined> {
    const answer = await fourLetterWord(this.port, 'srvr');
    return /^Mode: (\S+)/m.exec(answer)?.[1];
  }

  /** The last lines of the server's log, for error messages. */
  logTail(lines = 30): string {
    try {
      return readFileSync(this.#logPath, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }
}

class Ensemble implements ZooKeeperEnsemble {
  readonly connectString: string;
  readonly servers: readonly ServerProcess[];
  readonly dir: string;
  #closing: Promise<void> | undefined;

  constructor(dir: string, servers: readonly ServerProcess[]) {
    this.dir = dir;
    this.servers = servers;
    this.connectString = servers.map((s) => `${HOST}:${s.port}`).join(',');
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const server of this.servers) {
        // SIGKILL also ends a SIGSTOPped process; exited() waits for the reaping.
        if (server.running) server.kill('SIGKILL');
      }
      await Promise.all(this.servers.map((s) => s.exited()));
      rmSync(this.dir, { recursive: true, force: true });
    })();
    return this.#closing;
  }
}

/**
 * Starts `servers` ZooKeeper servers on 127.0.0.1 and resolves once each serves clients (an
 * ensemble: once each has joined the quorum). Throws, leaving nothing behind, if one does
 * not start within 20 s; the message holds the end of its log.
 */
export async function startZooKeeper(options: ZooKeeperOptions = {}): Promise<ZooKeeperEnsemble> {
  const n = options.servers ?? 1;
  const tickTimeMs = options.tickTimeMs ?? 500;
  if (!zooKeeperAvailable()) {
    throw new Error(`ZooKeeper is not installed (${ZOOKEEPER_JAR}): apt-get install zookeeper`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'sluice-zk-'));
  const flat = await freePorts(n * 3);
  const ports: Ports[] = Array.from({ length: n }, (_, i) => ({
    client: flat[i * 3]!,
    quorum: flat[i * 3 + 1]!,
    election: flat[i * 3 + 2]!,
  }));
  const servers = ports.map((p, i) => {
    const serverDir = join(dir, `server-${i + 1}`);
    const dataDir = join(serverDir, 'data');
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, 'myid'), `${i + 1}\n`);
    writeFileSync(join(serverDir, 'zoo.cfg'), zooCfg(dataDir, p, ports, tickTimeMs));
    return new ServerProcess(i + 1, p.client, serverDir);
  });
  const ensemble = new Ensemble(dir, servers);
  // allSettled: close() must not run while a server is still being spawned.
  const started = await Promise.allSettled(servers.map((s) => s.start(START_TIMEOUT_MS)));
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) {
    await ensemble.close();
    throw failed.reason;
  }
  return ensemble;
}

export interface ZooKeeperServerOptions {
  /** Holds zoo.cfg (rewritten on every start) and the data, in `<dir>/data` (kept). */
  readonly dir: string;
  /** The client port, on 127.0.0.1. */
  readonly port: number;
  /** The server's log (appended to); default `<dir>/zookeeper.log`. */
  readonly logPath?: string;
  /** Default: zooKeeperClasspath(). */
  readonly classpath?: string;
  /** Default 2000 ms, ZooKeeper's own (sessions may last 4..40 s). */
  readonly tickTimeMs?: number;
  readonly timeoutMs?: number;
}

/**
 * Starts one standalone ZooKeeper server that keeps its data (fsync on), for `sluice dev --ha`,
 * and resolves once it serves (`srvr`). Throws, leaving no process, if it does not start in
 * time; the message holds the end of its log. Stop it with stop() (SIGTERM, then SIGKILL).
 */
export async function startZooKeeperServer(
  options: ZooKeeperServerOptions,
): Promise<ZooKeeperServer> {
  const classpath = options.classpath ?? zooKeeperClasspath();
  if (classpath === undefined) {
    throw new Error(
      `ZooKeeper is not installed (${ZOOKEEPER_JAR}, or set ZOOKEEPER_HOME): apt-get install zookeeper`,
    );
  }
  const dataDir = join(options.dir, 'data');
  mkdirSync(dataDir, { recursive: true });
  const ports = { client: options.port, quorum: 0, election: 0 };
  writeFileSync(
    join(options.dir, 'zoo.cfg'),
    zooCfg(dataDir, ports, [ports], options.tickTimeMs ?? 2_000, true),
  );
  const server = new ServerProcess(1, options.port, options.dir, classpath, options.logPath);
  await server.start(options.timeoutMs ?? START_TIMEOUT_MS);
  return server;
}
