// Scenario 5 of `npm run bench` (bench/README.md, the headline): an end-to-end shuffle of many small
// blocks — `maps` map tasks each writing `blockBytes` to every one of `partitions` partitions —
// in push mode and in ESS mode on the same data, with the same executor processes, the same
// disk and one server process each (one worker / one node-local ESS daemon). Map tasks run
// in the executors with ShuffleClient writers; the page cache is dropped (when root) before
// the reducers, also in the executors, read every partition with ShuffleClient readers. The
// record count, bytes and an order-independent CRC sum read back must equal what was written.
//
// ESS side, competent as shipped: one data file + index per map, reducers fetch every map's
// region of their partition with essFetchParallelism (16) maps at a time over pooled
// connections, the ESS reading with ess.readConcurrency (16) disk reads in flight. The ESS
// process's CPU over the read phase, divided by the fetches, is its CPU per fetch.
//
// Spark's own ESS on the same shape (runSparkEss, bench/lib/spark-ess.mjs): the same blocks
// written in Spark's sort-shuffle layout, served by Spark's ExternalBlockHandler, read by
// Spark's client with as many reducers and fetches in flight as ours, caches dropped.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ShuffleDriver } from '../../dist/client/index.js';
import { CLI_PATH } from '../../dist/testing/manager.js';
import { dropCaches } from '../lib/host.mjs';
import { processTreeCpuSeconds, startedLine } from '../lib/report.mjs';
import { sparkEssReadPhase, startSparkEss } from '../lib/spark-ess.mjs';

/** The node-local ESS daemon as a child process of the built CLI (like the workers). */
export async function spawnEss(dir) {
  await mkdir(dir, { recursive: true });
  const child = spawn(
    process.execPath,
    [CLI_PATH, 'ess', '--dir', dir, '--port', '0', '--http-port', '0', '--log-level', 'info'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const started = await startedLine(child, '"ess started"', 'ess');
  return {
    pid: child.pid,
    address: `127.0.0.1:${started.dataPort}`,
    dir,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await once(child, 'exit');
    },
  };
}

function split(n, ways) {
  return Array.from({ length: ways }, (_, i) =>
    Array.from({ length: n }, (_, j) => j).filter((j) => j % ways === i),
  );
}

/** One end-to-end shuffle in `mode` ('push' | 'ess'); returns phase times and the checks. */
export async function runShuffle(ctx, mode, ess) {
  const { cluster, executors, opts } = ctx;
  const appId = `bench-e2e-${mode}-${process.pid}-${(ctx.state.e2eRuns = (ctx.state.e2eRuns ?? 0) + 1)}`;
  const driver = await ShuffleDriver.start({ manager: cluster.managerAddress, appId, mode });
  try {
    const handle = await driver.registerShuffle({
      shuffleId: 0,
      numMappers: opts.maps,
      numPartitions: opts.e2ePartitions,
      replication: opts.e2eReplicate,
    });
    const common = {
      driver: handle.driverAddress,
      mode,
      ess: mode === 'ess' ? { address: ess.address, dir: ess.dir } : undefined,
      appId,
      partitions: opts.e2ePartitions,
      pushBatchBytes: opts.e2ePushBytes,
    };
    const started = performance.now();
    const written = await executors.all(
      split(opts.maps, executors.size).map((maps, i) => ({
        ...common,
        kind: 'map',
        executorId: `bench-exec-${i}`,
        maps,
        blockBytes: opts.blockBytes,
        recordBytes: opts.recordBytes,
        concurrency: opts.mapConcurrency,
      })),
    );
    await driver.commitShuffle(0, 120_000);
    const wroteAt = performance.now();
    const cachesDropped = await dropCaches();
    const essCpuBefore = mode === 'ess' ? processTreeCpuSeconds(ess.pid) : undefined;
    const readStarted = performance.now();
    const read = await executors.all(
      split(opts.e2ePartitions, executors.size).map((reduces, i) => ({
        ...common,
        kind: 'reduce',
        executorId: `bench-exec-${i}`,
        reduces,
        concurrency: opts.reduceConcurrency,
      })),
    );
    const done = performance.now();
    const essCpuSeconds =
      mode === 'ess' ? processTreeCpuSeconds(ess.pid) - essCpuBefore : undefined;
    const sum = (rs, f) => rs.reduce((n, r) => n + f(r), 0);
    const w = {
      records: sum(written, (r) => r.records),
      bytes: sum(written, (r) => r.bytes),
      checksum: sum(written, (r) => r.checksum) >>> 0,
    };
    const r = {
      records: sum(read, (x) => x.records),
      bytes: sum(read, (x) => x.bytes),
      checksum: sum(read, (x) => x.checksum) >>> 0,
    };
    const consistent = w.records === r.records && w.bytes === r.bytes && w.checksum === r.checksum;
    if (!consistent)
      throw new Error(`${mode}: wrote ${JSON.stringify(w)} but read back ${JSON.stringify(r)}`);
    const writeSeconds = (wroteAt - started) / 1000;
    const readSeconds = (done - readStarted) / 1000;
    return {
      mode,
      bytesIn: w.bytes,
      bytesOut: r.bytes,
      records: r.records,
      consistent,
      writeSeconds,
      readSeconds,
      seconds: writeSeconds + readSeconds,
      gbps: w.bytes / (writeSeconds + readSeconds) / 1e9,
      essFetches: sum(read, (x) => x.fetches),
      essCpuSeconds,
      readerCpuSeconds: sum(read, (x) => x.cpuSeconds),
      cachesDropped,
    };
  } finally {
    await driver.unregisterShuffle(0).catch(() => undefined);
    await driver.close();
    if (mode === 'ess') await rm(join(ess.dir, appId), { recursive: true, force: true });
  }
}

/** What our ESS reader keeps in flight per reducer (the client's essFetchParallelism default). */
const ESS_FETCH_PARALLELISM = 16;

/**
 * Spark's ESS read phase for run `run` on scenario 5's shape: the server JVM is started once
 * (ctx.state.sparkEss) and kept; the reader runs as many reducers at once as the executors do
 * (executors x reduce-concurrency) with essFetchParallelism fetches in flight each.
 */
export async function runSparkEss(ctx, run) {
  const { opts } = ctx;
  // A server that failed to build or start fails every run with the same error, once.
  ctx.state.sparkEssStart ??= startSparkEss();
  ctx.state.sparkEss = await ctx.state.sparkEssStart;
  return sparkEssReadPhase(ctx.state.sparkEss, {
    dir: join(ctx.root, 'spark-ess', `run-${run}`),
    shuffleId: run,
    maps: opts.maps,
    partitions: opts.e2ePartitions,
    blockBytes: opts.blockBytes,
    reducers: opts.executors * opts.reduceConcurrency,
    inFlight: ESS_FETCH_PARALLELISM,
    blocksPerRequest: opts.sparkBlocksPerRequest,
  });
}
