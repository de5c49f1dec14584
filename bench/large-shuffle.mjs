// How a shuffle's cost grows with its partitions and its map tasks (bench/README.md, "Large
// shuffles"): one shuffle per row on a fresh cluster of real processes (a manager on SQLite and
// `--workers` workers, replication on), driven by a ShuffleDriver and writers in this process
// through the public client API. Each map writes `recordsOf(map, p)` (1 or 2) small records to
// each partition it covers: every partition with `--maps` maps, or with `--maps-grid` each map
// covering `--partitions-per-map` consecutive partitions (by default all of them: 10^4 tasks x
// 10^4 partitions is 10^8 blocks, about half an hour here; a smaller slice is a wide stage
// where each task writes a few partitions).
//
// Per row: AllocateShuffle (registerShuffle) time; the writes, with the blocks they pushed per
// second and the CPU seconds they took in this process (the writers and the driver) and in the
// workers together; the commit (last MapperEnd to the driver's outcome, every worker's
// CommitFiles pages), in wall time and in the workers' CPU time (steadier than wall time on a
// shared machine); the driver's memory (heap +
// off-heap after forced GCs with every client closed, minus the same before the driver
// started: what it holds for the committed shuffle, its gRPC server and clients included);
// the manager's and the busiest worker's peak RSS (VmHWM); and the check:
// every partition's record count from the writers is what the map wrote, every partition
// written has a committed file on each replica, and `--sample` partitions read back exactly.
//
// Writes bench/results/large-shuffle-<timestamp>.json. Imports dist/: `npm run bench:large`
// builds first. Run with node --expose-gc (the npm script does).
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ShuffleClient, ShuffleDriver } from '../dist/client/index.js';
import { DriverClient } from '../dist/client/driver/driver-client.js';
import { ProcessCluster } from '../dist/testing/process-cluster.js';
import { parseBytes } from './lib/bench-options.mjs';
import { formatTable, processCpuSeconds } from './lib/report.mjs';

const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
const USAGE = `Usage: npm run bench:large -- [options]

  --partitions LIST        shuffles of LIST partitions, every map writing every partition
                           (default 1000,10000,100000,1000000)
  --maps N                 maps of those shuffles (default 2)
  --maps-grid LIST         also shuffles of --grid-partitions partitions with LIST maps, each
                           map writing --partitions-per-map of them (default 1000,10000)
  --grid-partitions N      (default 10000)
  --partitions-per-map N   (default: all of them)
  --workers N              worker processes (default 3)
  --worker-memory SIZE     each worker's memory budget (worker.memoryBudgetBytes; default
                           2GiB: the default, a quarter of the host's memory, lets three
                           workers and the bench outgrow a 24 GiB host in a dense shuffle)
  --parallel N             maps writing at once (default 8)
  --sample N               partitions read back record for record per row (default 100)
  --no-replication         one copy of every partition
  --worker-cpu-prof DIR    V8 CPU profiles of the workers (stopped with SIGTERM) into DIR
  -h, --help`;

const { values: opt } = parseArgs({
  options: {
    partitions: { type: 'string', default: '1000,10000,100000,1000000' },
    maps: { type: 'string', default: '2' },
    'maps-grid': { type: 'string', default: '1000,10000' },
    'grid-partitions': { type: 'string', default: '10000' },
    'partitions-per-map': { type: 'string' },
    workers: { type: 'string', default: '3' },
    'worker-memory': { type: 'string', default: '2GiB' },
    parallel: { type: 'string', default: '8' },
    sample: { type: 'string', default: '100' },
    'no-replication': { type: 'boolean', default: false },
    'worker-cpu-prof': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opt.help) {
  console.log(USAGE);
  process.exit(0);
}
if (typeof globalThis.gc !== 'function') {
  console.error('run with node --expose-gc (npm run bench:large does)');
  process.exit(2);
}
const list = (s) => (s ? s.split(',').map((x) => positive(x)) : []);
function positive(x) {
  const n = Number(x);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`not a positive integer: ${x}\n\n${USAGE}`);
    process.exit(2);
  }
  return n;
}
const workers = positive(opt.workers);
const workerMemory = parseBytes(opt['worker-memory']);
const parallel = positive(opt.parallel);
const sample = positive(opt.sample);
const replication = !opt['no-replication'];
const gridPartitions = positive(opt['grid-partitions']);
const perMap = Math.min(gridPartitions, positive(opt['partitions-per-map'] ?? gridPartitions));

/** Records map `m` writes to partition `p`: 1 or 2, varying with both. */
const recordsOf = (m, p) => 1 + ((p * 7 + m) % 2);
const record = (m, p, i) => Buffer.from(`m${m}p${p}r${i}`);

/** The partitions map `m` of `maps` writes: all, or a slice of `perMap` spread by map id. */
const coverage = (partitions, maps, slice) => (m) => {
  if (!slice) return { from: 0, count: partitions };
  return { from: Math.floor((m * partitions) / maps) % partitions, count: perMap };
};

/**
 * Heap and off-heap bytes after full GCs. External memory (Buffers' backing stores) is freed
 * after the GC that finds it unreachable, on a later turn: a single gc() right after a client
 * closed still counted that client's buffers.
 */
async function retainedBytes() {
  for (let i = 0; i < 3; i++) {
    globalThis.gc();
    await sleep(50);
  }
  const m = process.memoryUsage();
  return m.heapUsed + m.external; // external includes arrayBuffers
}

/**
 * ReallocateGroup through the driver, as a writer does when a push to its group fails: group 0
 * moved REALLOCATIONS times before any write (each from the epoch the last one gave). Returns
 * the median milliseconds of a call.
 */
const REALLOCATIONS = 5;
async function timeReallocations(driverAddress, appId) {
  const dc = new DriverClient(driverAddress, 30_000);
  try {
    const { groups } = await dc.getShuffleGroups(appId, 0);
    let epoch = groups.find((g) => g.groupId === 0).epoch;
    const ms = [];
    for (let i = 0; i < REALLOCATIONS; i++) {
      const t = performance.now();
      const { group } = await dc.reallocate({ appId, shuffleId: 0, groupId: 0, oldEpoch: epoch });
      ms.push(performance.now() - t);
      epoch = group.epoch;
    }
    return ms.sort((a, b) => a - b)[REALLOCATIONS >> 1];
  } finally {
    dc.close();
  }
}

/** CPU seconds (user + system, every thread) the workers have used so far. */
function workersCpuSeconds(cluster) {
  let total = 0;
  for (const w of cluster.workers.values()) total += processCpuSeconds(w.pid) ?? NaN;
  return total;
}

function peakRss(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

async function mapLimit(n, limit, f) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, limit) }, async () => {
      while (next < n) await f(next++);
    }),
  );
}

async function row({ partitions, maps, slice }) {
  const cluster = await ProcessCluster.start({
    workers,
    // Data in the page cache, not fsynced: the row measures Sluice, not the disk.
    workerConfig: { 'worker.fsyncOnCommit': false, 'worker.memoryBudgetBytes': workerMemory },
    perWorkerEnv: profiled(),
  });
  const appId = `large-${partitions}-${maps}`;
  const covers = coverage(partitions, maps, slice);
  let result;
  let withDriver = 0;
  try {
    const before = await retainedBytes();
    const driver = await ShuffleDriver.start({ manager: cluster.managerAddress, appId });
    // The writers' client is closed before the driver's memory is measured; reads use another.
    let client = new ShuffleClient({ driver: driver.driverAddress });
    try {
      let t = performance.now();
      await driver.registerShuffle({
        shuffleId: 0,
        numMappers: maps,
        numPartitions: partitions,
        replication,
      });
      const allocateMs = performance.now() - t;
      const reallocateMs = await timeReallocations(driver.driverAddress, appId);

      const counts = new Float64Array(partitions);
      let wrongCounts = 0;
      let blocks = 0;
      const cpuBefore = { bench: process.cpuUsage(), workers: workersCpuSeconds(cluster) };
      t = performance.now();
      let lastEnd = 0;
      await mapLimit(maps, parallel, async (m) => {
        const w = client.writer({
          appId,
          shuffleId: 0,
          mapId: m,
          attemptId: 0,
          numPartitions: partitions,
        });
        const { from, count } = covers(m);
        for (let k = 0; k < count; k++) {
          const p = (from + k) % partitions;
          for (let i = 0; i < recordsOf(m, p); i++) w.write(p, record(m, p, i));
          if (k % 1_000 === 999) await w.flushIfNeeded();
        }
        const r = await w.close();
        lastEnd = performance.now();
        for (const s of r.partitions) {
          if (s.records !== recordsOf(m, s.partition)) wrongCounts++;
          counts[s.partition] += s.records;
          blocks += s.blocks;
        }
      });
      const writeMs = lastEnd - t;
      const bench = process.cpuUsage(cpuBefore.bench);
      const writeCpu = {
        bench: (bench.user + bench.system) / 1e6,
        workers: workersCpuSeconds(cluster) - cpuBefore.workers,
      };
      const commitCpuBefore = workersCpuSeconds(cluster);
      const outcome = await driver.commitShuffle(0, 3_600_000);
      const commitMs = performance.now() - lastEnd;
      const commitWorkerCpuS = workersCpuSeconds(cluster) - commitCpuBefore;
      await client.close();
      client = new ShuffleClient({ driver: driver.driverAddress });

      let missing = 0;
      let expectedRecords = 0;
      let gotRecords = 0;
      for (let p = 0; p < partitions; p++) {
        gotRecords += counts[p];
        const byEpoch = outcome.files.get(p);
        if (counts[p] > 0 && [...(byEpoch?.values() ?? [])].flat().length < (replication ? 2 : 1))
          missing++;
      }
      for (let m = 0; m < maps; m++) {
        const { from, count } = covers(m);
        for (let k = 0; k < count; k++) expectedRecords += recordsOf(m, (from + k) % partitions);
      }
      let readWrong = 0;
      for (let k = 0; k < Math.min(sample, partitions); k++) {
        const p = (k * 7_919) % partitions;
        const want = [];
        for (let m = 0; m < maps; m++) {
          const { from, count } = covers(m);
          if ((p - from + partitions) % partitions >= count) continue;
          for (let i = 0; i < recordsOf(m, p); i++) want.push(record(m, p, i).toString());
        }
        const got = [];
        for await (const r of client.reader({ appId, shuffleId: 0, partitionId: p }))
          got.push(Buffer.from(r).toString());
        if (got.sort().join('\n') !== want.sort().join('\n')) readWrong++;
      }
      const busiest = Math.max(...[...cluster.workers.values()].map((w) => peakRss(w.pid)));
      result = {
        partitions,
        maps,
        partitionsPerMap: slice ? perMap : partitions,
        records: gotRecords,
        blocks,
        allocateMs,
        reallocateMs,
        writeMs,
        blocksPerSec: blocks / (writeMs / 1000),
        writeCpu,
        commitMs,
        commitWorkerCpuS,
        managerPeakRss: peakRss(cluster.manager.pid),
        workerPeakRss: busiest,
        lost: outcome.lost.length,
        ok:
          outcome.lost.length === 0 &&
          wrongCounts === 0 &&
          missing === 0 &&
          gotRecords === expectedRecords &&
          readWrong === 0,
        check: {
          wrongCounts,
          missing,
          expectedRecords,
          readWrong,
          failedWorkers: outcome.failedWorkers.size,
        },
      };
    } finally {
      await client.close();
      // Measured with every client closed for a while: a client's buffers are freed some time
      // after its close (right after it, the writers' client still counted ~2.5 KB a
      // partition here).
      withDriver = (await retainedBytes()) - before;
      await driver.close();
    }
    result.driverBytes = withDriver;
    return result;
  } finally {
    // SIGTERM: a profiled worker writes its profile as it exits.
    if (opt['worker-cpu-prof'])
      await Promise.allSettled([...cluster.workers.values()].map((w) => w.stop('SIGTERM')));
    await cluster.close();
  }
}

function profiled() {
  const dir = opt['worker-cpu-prof'];
  if (!dir) return undefined;
  // Node refuses --cpu-prof in NODE_OPTIONS: the preload profiles through the inspector.
  const preload = pathToFileURL(join(BENCH_DIR, 'lib/cpu-profile-preload.mjs')).href;
  const env = { NODE_OPTIONS: `--import=${preload}`, BENCH_CPU_PROF_DIR: dir };
  return Object.fromEntries(Array.from({ length: workers }, (_, i) => [`worker-${i + 1}`, env]));
}

const MB = (b) => (Number.isFinite(b) ? (b / 2 ** 20).toFixed(1) : '-');
const rows = [];
const plan = [
  ...list(opt.partitions).map((partitions) => ({
    partitions,
    maps: positive(opt.maps),
    slice: false,
  })),
  ...list(opt['maps-grid']).map((maps) => ({ partitions: gridPartitions, maps, slice: true })),
];
console.log(
  `large shuffles: ${workers} workers, replication ${replication ? 'on' : 'off'}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
);
// Saved after every row: a long run stopped part way keeps the rows it finished.
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const file = join(BENCH_DIR, 'results', `large-shuffle-${stamp}.json`);
async function save() {
  await mkdir(dirname(file), { recursive: true });
  const data = { workers, replication, workerMemoryBytes: workerMemory, rows };
  await writeFile(`${file}.tmp`, `${JSON.stringify(data, null, 2)}\n`);
  await rename(`${file}.tmp`, file);
}
for (const p of plan) {
  process.stdout.write(`  ${p.partitions} partitions x ${p.maps} maps ... `);
  try {
    const r = await row(p);
    rows.push(r);
    console.log(
      `${r.ok ? 'ok' : `FAILED ${JSON.stringify(r.check)}`}: write ${(r.writeMs / 1000).toFixed(1)} s, commit ${(r.commitMs / 1000).toFixed(1)} s, driver ${MB(r.driverBytes)} MiB, worker RSS ${MB(r.workerPeakRss)} MiB`,
    );
  } catch (err) {
    rows.push({ ...p, error: String(err?.stack ?? err) });
    console.log(`FAILED: ${err?.message ?? err}`);
  }
  await save();
}
console.log(
  '\n' +
    formatTable(
      [
        'partitions',
        'maps',
        'p/map',
        'records',
        'AllocateShuffle ms',
        'Reallocate ms',
        'write s',
        'blocks/s',
        'write CPU s (bench+workers)',
        'commit s',
        'commit worker CPU s',
        'driver MiB',
        'manager RSS MiB',
        'worker RSS MiB',
        'exact',
      ],
      rows.map((r) =>
        r.error
          ? [r.partitions, r.maps, ...Array(12).fill('-'), 'error']
          : [
              r.partitions,
              r.maps,
              r.partitionsPerMap,
              r.records,
              r.allocateMs.toFixed(0),
              r.reallocateMs.toFixed(1),
              (r.writeMs / 1000).toFixed(1),
              r.blocksPerSec.toFixed(0),
              `${r.writeCpu.bench.toFixed(1)}+${r.writeCpu.workers.toFixed(1)}`,
              (r.commitMs / 1000).toFixed(1),
              r.commitWorkerCpuS.toFixed(1),
              MB(r.driverBytes),
              MB(r.managerPeakRss),
              MB(r.workerPeakRss),
              r.ok ? 'yes' : 'NO',
            ],
      ),
    ),
);
console.log(`\nresults: ${file}`);
process.exitCode = rows.every((r) => r.ok) ? 0 : 1;
