// Spark's own External Shuffle Service as the peer of scenario 5 (bench/README.md): the Java
// program in bench/spark-ess (SparkEss.java) run in three kinds of JVM — a writer of Spark's
// sort-shuffle layout, the server (Spark's TransportServer + ExternalBlockHandler, started once
// and kept for every run, like our ESS daemon), and a reader with Spark's
// ExternalBlockStoreClient. The server's CPU is read from /proc around the reader's timed phase.
//
//   bench ──write──▶ [writer JVM] ──▶ <dir>/blockmgr-sluice/<xx>/shuffle_S_M_0.{data,index}
//   bench ──spawn──▶ [server JVM] ◀── FetchShuffleBlocks / chunks ── [reader JVM] ◀── "go"
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { clearTimeout, setTimeout } from 'node:timers';
import { promisify } from 'node:util';
import { dropCaches } from './host.mjs';
import { processTreeCpuSeconds, startedLine } from './report.mjs';

const run = promisify(execFile);
const PROJECT = fileURLToPath(new URL('../spark-ess/', import.meta.url));
const MAIN = 'sluice.bench.SparkEss';
// What Spark itself passes to its JVMs on Java 17 (Netty and Spark's Platform reach into
// java.nio), and a heap that leaves the machine's memory to the rest of the bench.
const JVM_OPTIONS = [
  '-Xmx2g',
  '--add-opens=java.base/java.lang=ALL-UNNAMED',
  '--add-opens=java.base/java.nio=ALL-UNNAMED',
  '--add-opens=java.base/sun.nio.ch=ALL-UNNAMED',
  '--add-opens=java.base/java.util=ALL-UNNAMED',
  '-Dio.netty.tryReflectionSetAccessible=true',
  '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
];
/** The warm-up shuffle's maps: enough fetches for the JIT of both JVMs, a few MB of data. */
const WARMUP_MAPS = 4;
const WARMUP_SHUFFLE_BASE = 1000;

let classpath;

/**
 * Builds bench/spark-ess with Maven when needed (bench/spark-ess/build: offline first, then
 * online, ~100 MB of jars into ~/.m2 the first time) and returns the JVM classpath. Throws with
 * the build's output when java or mvn is missing or the build fails.
 */
export async function buildSparkEss() {
  if (classpath) return classpath;
  for (const tool of ['java', 'mvn'])
    await run('sh', ['-c', `command -v ${tool}`]).catch(() => {
      const err = new Error(`${tool} is not installed (Spark's ESS needs java 17+ and mvn)`);
      err.unavailable = true;
      throw err;
    });
  try {
    await run(join(PROJECT, 'build'), [], { maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    throw new Error(`bench/spark-ess/build failed: ${String(err.stderr || err.message).trim()}`);
  }
  const jars = readFileSync(join(PROJECT, 'target/classpath.txt'), 'utf8').trim();
  classpath = `${join(PROJECT, 'target/classes')}:${jars}`;
  return classpath;
}

function java(args, stdio) {
  return spawn('java', [...JVM_OPTIONS, '-cp', classpath, MAIN, ...args], { stdio });
}

/**
 * Runs `java SparkEss <args>` with stdin from the caller and resolves with the JSON lines it
 * printed; `onLine(event, child)` sees each one as it comes. Rejects with its stderr when it exits
 * non-zero.
 */
function runJava(args, onLine = () => undefined) {
  const child = java(args, ['pipe', 'pipe', 'pipe']);
  const events = [];
  const stderr = [];
  createInterface({ input: child.stderr }).on('line', (l) => stderr.push(l));
  createInterface({ input: child.stdout }).on('line', (line) => {
    const event = JSON.parse(line);
    events.push(event);
    onLine(event, child);
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) resolve(events);
      else
        reject(new Error(`spark-ess ${args[0]} exited (${code ?? signal}):\n${stderr.join('\n')}`));
    });
  });
}

/** Spark's ESS in its own JVM on 127.0.0.1; stop() closes its stdin and waits for the exit. */
export async function startSparkEss() {
  await buildSparkEss();
  const child = java(['serve'], ['pipe', 'pipe', 'pipe']);
  const started = await startedLine(child, '"spark ess started"', 'spark ess');
  return {
    pid: child.pid,
    port: started.port,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.stdin.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Writes `maps` x `partitions` blocks of `blockBytes` as shuffle `shuffleId` in Spark's layout
 * under `dir` (and the CRC-32 of every block beside it); resolves with the bytes written.
 */
export async function writeSparkShuffle({ dir, shuffleId, maps, partitions, blockBytes }) {
  await buildSparkEss();
  await mkdir(dir, { recursive: true });
  const args = ['write', '--dir', dir, '--shuffle', shuffleId, '--maps', maps];
  const [written] = await runJava(
    [...args, '--partitions', partitions, '--block-bytes', blockBytes].map(String),
  );
  return written.bytes;
}

/**
 * A reader JVM registers the executor of `dir` with `ess`, reads shuffle `warmupShuffle`
 * (`warmupMaps` maps) to warm both JVMs up, waits while the page cache is dropped, then times
 * reading every block of shuffle `shuffleId`: `reducers` at once, `inFlight` fetch requests of
 * `blocksPerRequest` blocks (default 1) each. The server's CPU over the timed phase is read
 * from /proc. Rejects when any block's size or CRC-32 differs from what was written.
 */
export async function readWithSpark(ess, o) {
  const args = [
    ['read', '--dir', o.dir, '--port', ess.port, '--shuffle', o.shuffleId, '--maps', o.maps],
    ['--partitions', o.partitions, '--block-bytes', o.blockBytes],
    ['--warmup-shuffle', o.warmupShuffle, '--warmup-maps', o.warmupMaps],
    ['--reducers', o.reducers, '--in-flight', o.inFlight],
    ['--blocks-per-request', o.blocksPerRequest ?? 1],
  ].flat();
  let cachesDropped = false;
  let cpuBefore;
  let ready;
  const events = await runJava(args.map(String), (event, child) => {
    if (event.event !== 'ready') return;
    ready = (async () => {
      cachesDropped = await dropCaches();
      cpuBefore = processTreeCpuSeconds(ess.pid);
      child.stdin.end('go\n');
    })();
  });
  await ready;
  const serverCpuSeconds = processTreeCpuSeconds(ess.pid) - cpuBefore;
  const read = events.find((e) => e.event === 'read');
  if (!read) throw new Error('spark-ess reader printed no result');
  return {
    bytesOut: read.bytes,
    fetches: read.blocks,
    readSeconds: read.seconds,
    readerCpuSeconds: read.readerCpuSeconds,
    serverCpuSeconds,
    cpuUsPerFetch: (serverCpuSeconds / read.blocks) * 1e6,
    cachesDropped,
  };
}

/**
 * One Spark ESS read phase on `dir` (removed afterwards): the shuffle and a small warm-up
 * shuffle written in Spark's layout, then readWithSpark.
 */
export async function sparkEssReadPhase(ess, o) {
  const warmup = { ...o, shuffleId: WARMUP_SHUFFLE_BASE + o.shuffleId, maps: WARMUP_MAPS };
  try {
    const writtenBytes = await writeSparkShuffle(o);
    await writeSparkShuffle(warmup);
    const read = await readWithSpark(ess, {
      ...o,
      warmupShuffle: warmup.shuffleId,
      warmupMaps: warmup.maps,
    });
    return { writtenBytes, ...read };
  } finally {
    await rm(o.dir, { recursive: true, force: true });
  }
}
