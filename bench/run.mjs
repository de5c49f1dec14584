// `npm run bench` (bench/README.md, issue 7): every performance target measured against its own
// baseline in the same run, on real processes and the real disk under --dir:
//
//   1 raw disk      O_DIRECT sequential write and read from Node (+ fio when installed)
//   2 ingest        one worker, replication off, 1 MiB pre-compressed pushes   ÷ (1) write
//   3 replicated    two workers (one directory each), per-worker rate           ÷ (1) write
//   4 read          reducers reading scenario 2's committed partitions          ÷ (1) read
//   5 end to end    many small blocks, push mode vs ESS mode, caches dropped    ESS ÷ push time
//                   + Spark's own ESS reading the same shape (bench/spark-ess)  faster ESS
//                   + fio 16 KiB random reads at depth 16 (the disk's limit)
//   6 ack latency   pushes paced at 50% of scenario 2's rate                    p99 vs 20 ms
//   7 sweep         push size and partition count                               ÷ (1) write
//   8 remote tiers  HDFS, S3: a remote-only worker's ingest and read back
//                   (bench/scenarios/remote.mjs; skipped when not installed)   ÷ raw endpoint
//  10 security      ingest + read back with no secret, with authentication,
//                   and with auth + mutual TLS, interleaved (security.mjs)    ÷ plain
//
// What runs where: the manager and the workers (and the ESS daemon) are child processes of
// the built CLI; the executors — pushers, map tasks, reducers — are other child processes
// (bench/lib/executor.mjs); this process only drives them (it hosts the ShuffleDriver of
// scenario 5) and measures the disk and remote endpoints' raw rates. Scenarios 1–6, 8 and 10
// repeat --runs times and report medians (the machine is shared). Prints a table marking each
// target met / not met and writes bench/results/bench-<timestamp>.json and .svg. `--quick`
// is the CI variant.
import { mkdirSync, rmSync } from 'node:fs';
import { mkdtemp, rename, writeFile } from 'node:fs/promises';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProcessCluster } from '../dist/testing/process-cluster.js';
import { Executors } from './lib/executors.mjs';
import { parseOptions, resolveOptions } from './lib/bench-options.mjs';
import { dropCaches, fioBaseline, fioRandomRead } from './lib/host.mjs';
import { Progress } from './lib/progress.mjs';
import { median, writeResults } from './lib/report.mjs';
import { renderSecurity } from './lib/security-summary.mjs';
import { renderEss, renderSummary, renderSweep, summarize } from './lib/summary.mjs';
import { renderSvg } from './lib/svg.mjs';
import { runShuffle, runSparkEss, spawnEss } from './scenarios/e2e.mjs';
import { closeControls, measureDisk, measureIngest } from './scenarios/ingest.mjs';
import { remoteScenario } from './scenarios/remote.mjs';
import { securityScenario } from './scenarios/security.mjs';
import { sampleWorkerMemory, workerMemory } from './lib/worker-memory.mjs';

async function startCluster(opts, workers, dirs) {
  const workerConfig = { 'worker.memoryBudgetBytes': opts.memoryBytes };
  for (const kv of opts.set) {
    const at = kv.indexOf('=');
    workerConfig[kv.slice(0, at)] = kv.slice(at + 1);
  }
  return ProcessCluster.start({
    workers,
    workerConfig,
    perWorkerDirs: Object.fromEntries(dirs.map((d, i) => [`worker-${i + 1}`, [d]])),
  });
}

const percentile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))] : NaN;
};

/** Scenarios 1, 2, 4 and 5 (and 6) on one worker: one cluster, `runs` repetitions. */
async function singleWorkerScenarios(ctx, res) {
  const { opts, progress } = ctx;
  const has = (n) => opts.scenarios.has(n);
  for (let run = 1; run <= opts.runs; run++) {
    const r = { run, load1: loadavg()[0] };
    if (has(1) || has(2) || has(4)) {
      progress.step(`1 raw disk O_DIRECT`, run);
      r.disk = await measureDisk(ctx.root, opts);
    }
    if (has(2) || has(4)) {
      progress.step(`2 ingest${has(4) ? ' + 4 read back' : ''}`, run);
      r.ingest = await measureIngest(ctx, {
        workers: 1,
        bytes: opts.bytes,
        pushBytes: opts.pushBytes,
        partitions: opts.partitions,
        readBack: has(4),
      });
    }
    if (has(5)) {
      const ess = (ctx.state.ess ??= await spawnEss(join(ctx.root, 'ess')));
      // Alternate which mode goes first, so neither always meets a warmer machine.
      const order = run % 2 ? ['push', 'ess', 'spark'] : ['spark', 'ess', 'push'];
      r.e2e = {};
      for (const mode of order) {
        if (mode === 'spark') {
          progress.step("5 Spark's ESS, read phase", run);
          r.e2e.spark = await runSparkEss(ctx, run).catch((err) =>
            err.unavailable ? { skipped: err.message } : { error: String(err?.stack ?? err) },
          );
          continue;
        }
        progress.step(`5 end to end, ${mode} mode`, run);
        r.e2e[mode] = await runShuffle(ctx, mode, ess);
      }
      progress.step('5 fio random reads', run);
      const shuffleBytes = opts.maps * opts.e2ePartitions * opts.blockBytes;
      r.fioRandom = await fioRandomRead(
        ctx.root,
        Math.min(1024 ** 3, Math.max(64 * 1024 ** 2, shuffleBytes)),
        opts.quick ? 2 : 5,
      ).catch((err) => ({ error: String(err) }));
    }
    res.single.push(r);
  }
  if (opts.scenarios.has(6)) {
    const ingest = median(res.single.map((r) => r.ingest?.gbps));
    const rateGbps = Number.isFinite(ingest) ? ingest : opts.quick ? 0.1 : 0.5;
    const ratePerSec = Math.max(1, (rateGbps * 0.5 * 1e9) / opts.pushBytes);
    for (let run = 1; run <= opts.runs; run++) {
      progress.step(`6 ack latency at ${(rateGbps * 500) | 0 || '?'} MB/s`, run);
      const pushes = Math.max(8, Math.round(ratePerSec * opts.latencySeconds));
      const m = await measureIngest(ctx, {
        workers: 1,
        bytes: pushes * opts.pushBytes,
        pushBytes: opts.pushBytes,
        partitions: opts.partitions,
        ratePerSec,
      });
      res.latency.push({
        run,
        targetGbps: rateGbps * 0.5,
        gbps: m.bytesIn / m.secondsToLastAck / 1e9,
        p50Ms: percentile(m.latenciesMs, 0.5),
        p99Ms: percentile(m.latenciesMs, 0.99),
        maxMs: Math.max(...m.latenciesMs),
        pushes: m.latenciesMs.length,
        bytesIn: m.bytesIn,
        bytesCommitted: m.bytesCommitted,
      });
    }
  }
  if (opts.scenarios.has(7)) {
    progress.step('7 sweep: disk baseline', 1);
    const disk = await measureDisk(ctx.root, { ...opts, bytes: opts.sweepBytes });
    const points = [
      ...opts.sweepPush.map((pushBytes) => ({ pushBytes, partitions: opts.partitions })),
      ...opts.sweepPartitions.map((partitions) => ({ pushBytes: opts.pushBytes, partitions })),
    ];
    for (const p of points) {
      progress.step(`7 sweep: ${p.pushBytes} B pushes, ${p.partitions} partitions`, 1);
      const bytes = Math.max(p.pushBytes, Math.floor(opts.sweepBytes / p.pushBytes) * p.pushBytes);
      const memory = sampleWorkerMemory([...ctx.cluster.workers.values()][0]);
      const m = await measureIngest(ctx, { workers: 1, bytes, ...p });
      const peak = await memory.stop();
      res.sweep.push({
        ...p,
        bytesIn: m.bytesIn,
        bytesCommitted: m.bytesCommitted,
        gbps: m.gbps,
        diskGbps: disk.writeGbps,
        ratio: m.gbps / disk.writeGbps,
        workerCpuSecondsPerGB: m.workerCpuSeconds[0] / (m.bytesIn / 1e9),
        pusherCpuSecondsPerGB: m.pusherCpuSeconds / (m.bytesIn / 1e9),
        ...peak,
      });
    }
  }
}

/** Scenario 3: two workers, one directory each, every push to a primary and its replica. */
async function replicationScenario(ctx, res) {
  const { opts, progress } = ctx;
  const d1 = join(ctx.root, 'r1');
  const d2 = opts.dir2 ? await mkdtemp(join(opts.dir2, 'bench-')) : join(ctx.root, 'r2');
  const cluster = await startCluster(opts, 2, [d1, d2]);
  try {
    const c = { ...ctx, cluster };
    await cluster.client.registerApp({ appId: ctx.appId, name: 'sluice bench (replicated)' });
    for (let run = 1; run <= opts.runs; run++) {
      progress.step('3 replicated ingest: disk baseline', run);
      const disk = await measureDisk(ctx.root, opts);
      progress.step('3 replicated ingest', run);
      const m = await measureIngest(c, {
        workers: 2,
        bytes: opts.bytes,
        pushBytes: opts.pushBytes,
        partitions: opts.partitions,
      });
      res.replicated.push({ run, disk, ...m, sharedDisk: !opts.dir2 });
    }
    res.memory.push(...(await workerMemory(cluster, [3])));
  } finally {
    await cluster.close();
    if (opts.dir2) rmSync(d2, { recursive: true, force: true });
  }
}

/** Runs the bench with `options` (bench-options names); returns the results object. */
export async function runBench(options = {}, { quiet = false } = {}) {
  const opts = options.scenarios instanceof Set ? options : resolveOptions(options);
  const progress = new Progress(quiet);
  mkdirSync(opts.dir, { recursive: true });
  const root = await mkdtemp(join(opts.dir, 'bench-'));
  const res = { single: [], replicated: [], latency: [], sweep: [], memory: [] };
  const host = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryBytes: totalmem(),
    kernel: release(),
    node: process.version,
    root: process.getuid?.() === 0,
    canDropCaches: await dropCaches(),
  };
  let cluster;
  let executors;
  const ctx = { opts, progress, root, state: {}, appId: `bench-${process.pid}` };
  try {
    if (opts.scenarios.has(1)) {
      progress.step('1 fio baseline', 1);
      res.fio = await fioBaseline(root, Math.min(opts.bytes, 1024 ** 3)).catch((e) => ({
        error: String(e),
      }));
    }
    executors = new Executors(opts.executors);
    const single = [1, 2, 4, 5, 6, 7].some((n) => opts.scenarios.has(n));
    if (single) {
      cluster = await startCluster(opts, 1, [join(root, 'w1')]);
      await cluster.client.registerApp({ appId: ctx.appId, name: 'sluice bench' });
      await singleWorkerScenarios({ ...ctx, cluster, executors }, res);
      const ran = [2, 4, 5, 6, 7].filter((n) => opts.scenarios.has(n));
      res.memory.push(...(await workerMemory(cluster, ran)));
      await ctx.state.ess?.stop();
      await ctx.state.sparkEss?.stop();
      await stopForProfiles(cluster);
      await cluster.close();
      cluster = undefined;
    }
    if (opts.scenarios.has(3)) {
      const c2 = { ...ctx, executors };
      await replicationScenario(c2, res);
    }
    if (opts.scenarios.has(8)) await remoteScenario({ ...ctx, executors }, res);
    if (opts.scenarios.has(10)) await securityScenario({ ...ctx, executors }, res);
  } finally {
    progress.done();
    closeControls();
    await ctx.state.ess?.stop();
    await ctx.state.sparkEss?.stop();
    await executors?.close();
    await cluster?.close();
    rmSync(root, { recursive: true, force: true });
  }
  const summary = summarize(opts, res);
  const results = {
    bench: 'sluice bench',
    design: 'performance targets of bench/README.md',
    finishedAt: new Date().toISOString(),
    host,
    options: { ...opts, scenarios: [...opts.scenarios] },
    summary,
    raw: res,
  };
  if (opts.resultsDir) {
    results.path = await writeResults(opts.resultsDir, 'bench', results);
    results.svgPath = results.path.replace(/\.json$/, '.svg');
    await writeFile(`${results.svgPath}.tmp`, renderSvg(summary, res, host));
    await rename(`${results.svgPath}.tmp`, results.svgPath);
  }
  return results;
}

async function main() {
  const opts = parseOptions(process.argv.slice(2));
  let interrupted = false;
  for (const sig of ['SIGINT', 'SIGTERM'])
    process.once(sig, () => {
      interrupted = true;
      process.stderr.write(`\n${sig}: stopping\n`);
    });
  try {
    const r = await runBench(opts);
    process.stdout.write(`\n${renderSummary(r.summary, r.host)}\n`);
    if (r.summary.ess) process.stdout.write(`\n${renderEss(r.summary.ess)}\n`);
    if (r.raw.sweep.length) process.stdout.write(`\n${renderSweep(r.raw.sweep)}\n`);
    if (r.raw.security?.runs.length) process.stdout.write(`\n${renderSecurity(r.raw.security)}\n`);
    if (r.path) process.stdout.write(`\nresults: ${r.path}\nchart:   ${r.svgPath}\n`);
    if (!r.summary.consistent || r.summary.failed.length) process.exitCode = 1;
  } catch (err) {
    process.exitCode = 1;
    if (!interrupted) process.stderr.write(`bench failed: ${err?.stack ?? err}\n`);
  }
}

/**
 * With BENCH_CPU_PROF_DIR set (bench/README.md, "Where the worker's time goes"), the workers of
 * the one-worker scenarios are stopped with SIGTERM, so that the profiling preload writes their
 * profiles; ProcessCluster.close() stops them with SIGKILL otherwise.
 */
async function stopForProfiles(cluster) {
  if (!process.env.BENCH_CPU_PROF_DIR) return;
  await Promise.allSettled([...cluster.workers.values()].map((w) => w.stop('SIGTERM')));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
