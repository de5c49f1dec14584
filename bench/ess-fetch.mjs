// Our node-local ESS alone (bench/README.md, "ESS fetches"): how many FETCH_BLOCKS a `sluice ess`
// child process answers per second and how much of its CPU each one costs, without map tasks,
// a driver or record decoding in the way. Map outputs are written as scenario 5's ESS mode
// writes them (one data file + index per map, every partition one block of --block-bytes),
// the page cache is dropped (when root), then --readers child processes fetch every
// (map, partition) region the way the client's ESS reader does: one pooled connection per
// reader process, --reduce-concurrency partitions at once, each with --fetch-parallelism maps
// in flight; every answer's CRC and length are checked. The ESS's CPU is its utime + stime
// from /proc/<pid>/stat over the read phase.
//
//   npm run bench:ess                                  # 200 maps x 1000 partitions x 10 KiB, 3 runs
//   npm run bench:ess -- --maps 20 --partitions 200    # smaller
//   npm run bench:ess -- --cpu-prof /tmp/prof          # + a .cpuprofile of the ESS per run
//   npm run bench:ess -- --set ess.readConcurrency=32  # ESS configuration (repeatable)
//
// Imports the compiled code: `npm run bench:ess` builds first.
import { fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { DataConnection } from '../dist/client/net/data-connection.js';
import { encodeMapOutputIndex, mapOutputBase } from '../dist/common/map-output.js';
import { CLI_PATH } from '../dist/testing/manager.js';
import { writeBlock } from '../dist/common/wire/index.js';
import { dropCaches } from './lib/host.mjs';
import { fmt, formatTable, median, processCpuSeconds, writeResults } from './lib/report.mjs';
import { parseBytes } from './lib/bench-options.mjs';

const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
const APP = 'bench-ess-fetch';
const RANGE_BYTES = 8 * 1024 * 1024; // what the client's ESS reader asks for

const USAGE = `node bench/ess-fetch.mjs [options]
  --maps N                map outputs (default 200)
  --partitions N          partitions per map (default 1000)
  --block-bytes SIZE      bytes per (map, partition) region, one block (default 10KiB)
  --readers N             reader processes, one connection each (default 2, the executors)
  --reduce-concurrency N  partitions read at once per reader (default 8)
  --fetch-parallelism N   maps fetched at once per partition (default 16, essFetchParallelism)
  --runs N                read phases, each after a cache drop (default 3)
  --warm                  do not drop the page cache (the ESS's CPU floor, no disk waits)
  --dir DIR               where the map outputs go (default ./.sluice/bench-ess-XXXXXX, removed)
  --set KEY=VALUE         ESS configuration, repeatable
  --cpu-prof DIR          write a .cpuprofile of the ESS of each run to DIR
  --ess-cli LIST          comma-separated bin/sluice.js paths to compare (A/B), interleaved run by
                          run (default: this checkout's)
  --results DIR           JSON results (default bench/results); --no-results: none
`;

if (process.argv[2] === '--reader') await readerMain();
else await main();

function options() {
  const { values } = parseArgs({
    options: {
      maps: { type: 'string', default: '200' },
      partitions: { type: 'string', default: '1000' },
      'block-bytes': { type: 'string', default: '10KiB' },
      readers: { type: 'string', default: '2' },
      'reduce-concurrency': { type: 'string', default: '8' },
      'fetch-parallelism': { type: 'string', default: '16' },
      runs: { type: 'string', default: '3' },
      dir: { type: 'string' },
      set: { type: 'string', multiple: true, default: [] },
      'cpu-prof': { type: 'string' },
      'ess-cli': { type: 'string', default: CLI_PATH },
      results: { type: 'string', default: join(BENCH_DIR, 'results') },
      'no-results': { type: 'boolean', default: false },
      warm: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const int = (k) => {
    const n = Number(values[k]);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${k} must be a positive integer`);
    return n;
  };
  return {
    maps: int('maps'),
    partitions: int('partitions'),
    blockBytes: parseBytes(values['block-bytes']),
    readers: int('readers'),
    reduceConcurrency: int('reduce-concurrency'),
    fetchParallelism: int('fetch-parallelism'),
    runs: int('runs'),
    dir: values.dir,
    set: values.set,
    cpuProf: values['cpu-prof'],
    clis: values['ess-cli'].split(','),
    warm: values.warm,
    results: values['no-results'] ? undefined : values.results,
  };
}

/** Writes `maps` outputs of `partitions` one-block regions; returns the bytes written. */
function writeMapOutputs(dir, o) {
  const payloads = Array.from({ length: 16 }, () => randomBytes(o.blockBytes));
  let total = 0;
  for (let mapId = 0; mapId < o.maps; mapId++) {
    const base = mapOutputBase(dir, { appId: APP, shuffleId: 0, mapId, attemptId: 0 });
    mkdirSync(join(base, '..'), { recursive: true });
    const fd = openSync(`${base}.data`, 'w');
    const offsets = [0];
    let pending = [];
    let pendingBytes = 0;
    for (let p = 0; p < o.partitions; p++) {
      const stored = payloads[(mapId + p) % payloads.length];
      const meta = { mapId, attemptId: 0, batchId: p, rawLength: stored.length, codec: 0 };
      for (const part of writeBlock(meta, stored)) {
        pending.push(part);
        pendingBytes += part.length;
      }
      offsets.push(offsets.at(-1) + 32 + stored.length);
      if (pendingBytes >= 4 * 1024 * 1024 || p === o.partitions - 1) {
        writeSync(fd, Buffer.concat(pending, pendingBytes));
        total += pendingBytes;
        pending = [];
        pendingBytes = 0;
      }
    }
    closeSync(fd);
    const ifd = openSync(`${base}.index`, 'w');
    writeSync(ifd, encodeMapOutputIndex(offsets));
    closeSync(ifd);
  }
  return total;
}

/** `sluice ess` as a child process, profiled through the preload when asked. */
async function spawnEss(cli, dir, o, profDir) {
  const env = { ...process.env };
  if (profDir) {
    const preload = pathToFileURL(join(BENCH_DIR, 'lib/cpu-profile-preload.mjs')).href;
    env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --import=${preload}`.trim();
    env.BENCH_CPU_PROF_DIR = profDir;
  }
  const args = ['ess', '--dir', dir, '--port', '0', '--http-port', '0'];
  for (const kv of o.set) args.push('--set', kv);
  const child = spawn(process.execPath, [cli, ...args, '--log-level', 'info'], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const started = await new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.includes('"ess started"')) resolve(JSON.parse(line));
    });
    child.once('exit', (code) =>
      reject(new Error(`sluice ess exited (${code}) before it started`)),
    );
  });
  return {
    pid: child.pid,
    cli,
    port: started.dataPort,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM'); // graceful: the profile is written on exit
      await once(child, 'exit');
    },
  };
}

/** CPU seconds of a process: user and system, of its main thread and of all its threads. */
function cpuSplit(pid) {
  const fields = (path) => {
    const stat = readFileSync(path, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return [Number(f[11]) / 100, Number(f[12]) / 100]; // utime, stime (USER_HZ = 100)
  };
  try {
    const [mainUser, mainSys] = fields(`/proc/${pid}/task/${pid}/stat`);
    const [user, sys] = fields(`/proc/${pid}/stat`);
    return { user, sys, main: mainUser + mainSys };
  } catch {
    return { user: NaN, sys: NaN, main: NaN };
  }
}

/** Caches dropped, a fresh ESS from `cli`, one read phase, checked; one row of the table. */
async function oneRun(cli, dir, o, bytes, run) {
  const dropped = o.warm ? false : await dropCaches();
  const ess = await spawnEss(cli, dir, o, o.cpuProf);
  let r;
  try {
    r = await readPhase(ess, o);
  } finally {
    await ess.stop();
  }
  const expected = o.maps * o.partitions;
  if (r.fetches !== expected || r.bytes !== bytes)
    throw new Error(`read ${r.fetches} fetches / ${r.bytes} B, expected ${expected} / ${bytes}`);
  console.log(
    `run ${run + 1} ${cli}: ${r.fetches} fetches in ${r.seconds.toFixed(2)} s = ` +
      `${Math.round(r.fetchesPerSecond)}/s, ESS CPU ${Math.round(r.essUsPerFetch)} us/fetch ` +
      `(${(r.essCpuShare * 100).toFixed(0)}% of a core; user ${Math.round(r.essUserUsPerFetch)}, ` +
      `sys ${Math.round(r.essSysUsPerFetch)}, JS thread ${Math.round(r.essMainThreadUsPerFetch)})${dropped ? '' : ', caches NOT dropped'}`,
  );
  return { run, cli, cachesDropped: dropped, essPid: ess.pid, ...r };
}

/** One read phase: readers fetch every region once; returns rates and CPU. */
async function readPhase(ess, o) {
  const parts = Array.from({ length: o.readers }, (_, i) =>
    Array.from({ length: o.partitions }, (_, p) => p).filter((p) => p % o.readers === i),
  );
  const readers = parts.map(() => fork(fileURLToPath(import.meta.url), ['--reader']));
  const ready = readers.map((r) => once(r, 'message'));
  await Promise.all(ready);
  const essCpu0 = processCpuSeconds(ess.pid);
  const split0 = cpuSplit(ess.pid);
  const readerCpu0 = readers.map((r) => processCpuSeconds(r.pid));
  const started = performance.now();
  const results = await Promise.all(
    readers.map(async (r, i) => {
      const answer = once(r, 'message');
      r.send({
        port: ess.port,
        // The readers speak the wire of the build under test (A/B across protocol changes).
        wire: pathToFileURL(join(dirname(ess.cli), '../dist/common/wire/index.js')).href,
        partitions: parts[i],
        maps: o.maps,
        reduceConcurrency: o.reduceConcurrency,
        fetchParallelism: o.fetchParallelism,
      });
      const [msg] = await answer;
      if (msg.error) throw new Error(`reader ${i}: ${msg.error}`);
      return { ...msg, cpu: processCpuSeconds(r.pid) - readerCpu0[i] };
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const essCpu = processCpuSeconds(ess.pid) - essCpu0;
  const split1 = cpuSplit(ess.pid);
  await Promise.all(readers.map((r) => (r.send({ exit: true }), once(r, 'exit'))));
  const fetches = results.reduce((n, r) => n + r.fetches, 0);
  const bytes = results.reduce((n, r) => n + r.bytes, 0);
  const latencies = results.flatMap((r) => r.latencyMs).sort((a, b) => a - b);
  return {
    seconds,
    fetches,
    bytes,
    fetchesPerSecond: fetches / seconds,
    gbps: bytes / seconds / 1e9,
    essCpuSeconds: essCpu,
    essCpuShare: essCpu / seconds,
    essUsPerFetch: (essCpu / fetches) * 1e6,
    // Where the ESS's CPU went: user vs kernel, its JS thread vs the others (libuv's pool).
    essUserUsPerFetch: ((split1.user - split0.user) / fetches) * 1e6,
    essSysUsPerFetch: ((split1.sys - split0.sys) / fetches) * 1e6,
    essMainThreadUsPerFetch: ((split1.main - split0.main) / fetches) * 1e6,
    readerCpuSeconds: results.reduce((n, r) => n + r.cpu, 0),
    p50Ms: latencies[Math.floor(latencies.length * 0.5)],
    p99Ms: latencies[Math.floor(latencies.length * 0.99)],
  };
}

async function main() {
  const o = options();
  const root = o.dir ?? join(process.cwd(), '.sluice');
  mkdirSync(root, { recursive: true });
  const dir = o.dir ?? (await mkdtemp(join(root, 'bench-ess-')));
  const rows = [];
  try {
    let t = performance.now();
    const bytes = writeMapOutputs(dir, o);
    console.log(
      `wrote ${o.maps} map outputs x ${o.partitions} partitions x ${o.blockBytes} B ` +
        `(${(bytes / 1e9).toFixed(2)} GB) in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );
    for (let run = 0; run < o.runs; run++) {
      // Interleaved, alternating which goes first: this machine is shared.
      const order = o.clis.map((_, i) => i);
      if (run % 2 === 1) order.reverse();
      for (const c of order) rows.push(await oneRun(o.clis[c], dir, o, bytes, run));
    }
    const table = o.clis.map((cli) => {
      const mine = rows.filter((r) => r.cli === cli);
      const m = (k) => median(mine.map((r) => r[k]));
      return [
        cli,
        Math.round(m('fetchesPerSecond')),
        fmt(m('gbps')),
        fmt(m('essUsPerFetch'), 1),
        fmt(m('essCpuShare') * 100, 0),
        fmt(m('readerCpuSeconds'), 1),
        fmt(m('p50Ms'), 1),
        fmt(m('p99Ms'), 1),
      ];
    });
    console.log(`medians of ${o.runs} runs:`);
    console.log(
      formatTable(
        [
          'ESS',
          'fetches/s',
          'GB/s',
          'ESS us/fetch',
          'ESS core %',
          'reader CPU-s',
          'p50 ms',
          'p99 ms',
        ],
        table,
      ),
    );
    if (o.cpuProf) {
      const profiles = readdirSync(o.cpuProf).filter((f) => f.endsWith('.cpuprofile'));
      console.log(`ESS profiles in ${o.cpuProf}: ${profiles.join(', ')}`);
      console.log(`summarise: node bench/cpuprofile-top.mjs ${join(o.cpuProf, profiles[0] ?? '')}`);
    }
    if (o.results) {
      const file = await writeResults(o.results, 'ess-fetch', { options: o, runs: rows });
      console.log(`results: ${file}`);
    }
  } finally {
    if (!o.dir) rmSync(dir, { recursive: true, force: true });
  }
}

/** A reader process: one connection, partitions `reduceConcurrency` at a time. */
async function readerMain() {
  process.send({ ready: true });
  const [job] = await once(process, 'message');
  try {
    job.codec = await import(job.wire);
    const conn = await DataConnection.connect({
      host: '127.0.0.1',
      port: job.port,
      peer: 'ess',
      connectTimeoutMs: 10_000,
      maxFrameBytes: 64 * 1024 * 1024,
    });
    const stats = { fetches: 0, bytes: 0, latencyMs: [] };
    const queue = [...job.partitions];
    const reducers = Array.from({ length: job.reduceConcurrency }, async () => {
      for (let p = queue.shift(); p !== undefined; p = queue.shift())
        await readPartition(conn, p, job, stats);
    });
    await Promise.all(reducers);
    conn.close();
    process.send(stats);
  } catch (err) {
    process.send({ error: err.stack ?? String(err) });
  }
  await once(process, 'message'); // { exit }
  process.exit(0);
}

/** Every map's region of partition `p`, `fetchParallelism` maps in flight (as EssReader). */
async function readPartition(conn, partition, job, stats) {
  let next = 0;
  const fetchOne = async () => {
    for (let mapId = next++; mapId < job.maps; mapId = next++) {
      const sent = performance.now();
      const ref = { appId: APP, shuffleId: 0, mapId, attemptId: 0, partition, priority: 3 };
      const frame = await conn.request(
        (id) => job.codec.encodeFetchBlocksFrame(id, { ...ref, offset: 0, maxLength: RANGE_BYTES }),
        60_000,
      );
      const header = job.codec.decodeBlocksFrame(frame); // checks the body's CRC
      if (header.partitionLength !== frame.body.length)
        throw new Error(
          `map ${mapId} partition ${partition}: ${frame.body.length} of ${header.partitionLength} B`,
        );
      if (stats.latencyMs.length < 20_000) stats.latencyMs.push(performance.now() - sent);
      stats.fetches++;
      stats.bytes += frame.body.length;
    }
  };
  await Promise.all(Array.from({ length: job.fetchParallelism }, fetchOne));
}
