// Worker ingest vs the disk (bench/README.md, first row): one worker, replication off,
// pre-compressed 1 MiB pushes; target: ingest >= 85% of the disk's O_DIRECT sequential write
// rate measured in the same run. Each run measures the pair on the same directory:
//
//   1. baseline  N GiB written with O_DIRECT from aligned 4 MiB buffers, 4 in flight, fsync
//   2. ingest    the same N GiB pushed to a worker child process (its own event loop, so the
//                pusher's CPU is not the worker's) over several connections, then CommitFiles
//                (flush + fsync + indexes); rates to the last ack and to the commit's answer
//
// and prints the rates, their ratio and the medians over the runs, with where the CPU went
// (worker and pusher CPU, the worker's disk write slots busy) to tell a CPU-bound worker from
// a disk-bound one. Results also go to bench/results/worker-ingest-<timestamp>.json.
//
// Imports the compiled code: run `npm run build` first, or use `npm run bench:ingest`, which
// builds. `node bench/worker-ingest.mjs --help` lists the options.
import { mkdirSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { clearTimeout, setTimeout } from 'node:timers';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { native } from '../dist/common/native.js';
import { ManagerClient } from '../dist/common/proto/manager-client.js';
import { WorkerControlClient } from '../dist/common/proto/worker-client.js';
import { startManager } from '../dist/testing/manager.js';
import { RawDataClient } from '../dist/testing/raw-data-client.js';
import { spawnWorker } from '../dist/testing/worker.js';
import { measureDirectWrite } from './lib/disk-baseline.mjs';
import { parseOptions } from './lib/ingest-options.mjs';
import { buildPayloads, pushAll } from './lib/push-load.mjs';
import {
  fmt,
  formatTable,
  median,
  metricSum,
  pct,
  processCpuSeconds,
  scrape,
  writeResults,
} from './lib/report.mjs';

const TARGET_RATIO = 0.85; // bench/README.md
const GiB = 1024 ** 3;
const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
/** Starts the worker child, with the profiling preload in its NODE_OPTIONS when asked. */
async function startWorkerProcess(opts, managerAddress, dir) {
  const env = {
    NODE_OPTIONS: process.env.NODE_OPTIONS,
    PROF: process.env.BENCH_CPU_PROF_DIR,
  };
  if (opts.cpuProfDir) {
    const preload = pathToFileURL(join(BENCH_DIR, 'lib/cpu-profile-preload.mjs')).href;
    process.env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --import=${preload}`.trim();
    process.env.BENCH_CPU_PROF_DIR = opts.cpuProfDir;
  }
  try {
    return await spawnWorker({
      manager: managerAddress,
      dirs: [dir],
      id: 'bench-ingest',
      args: ['--memory', String(opts.memoryBytes), ...opts.set.flatMap((kv) => ['--set', kv])],
    });
  } finally {
    for (const [k, v] of [
      ['NODE_OPTIONS', env.NODE_OPTIONS],
      ['BENCH_CPU_PROF_DIR', env.PROF],
    ]) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

async function workerCounters(worker) {
  const text = await scrape(`http://127.0.0.1:${worker.httpPort}/metrics`);
  return {
    flushSeconds: metricSum(text, 'sluice_worker_flush_latency_seconds_sum'),
    flushWrites: metricSum(text, 'sluice_worker_flush_latency_seconds_count'),
    paused: metricSum(text, 'sluice_worker_memory_transitions_total', { to: 'PUSH_PAUSED' }),
    cpu: processCpuSeconds(worker.pid),
  };
}

/** One ingest measurement on a fresh shuffle; its files are deleted afterwards. */
async function measureIngest(ctx, shuffleId) {
  const { opts, mc, wc, worker, clients, payloads, appId } = ctx;
  const pushes = opts.bytes / opts.pushBytes;
  const { groups } = await mc.allocateShuffle({
    appId,
    shuffleId,
    numMappers: opts.connections,
    numPartitions: opts.partitions,
    replicate: false,
    maxPartitionsPerGroup: opts.partitions,
  });
  if (groups.length !== 1 || groups[0].primary?.workerId !== worker.workerId)
    throw new Error(`expected one group on ${worker.workerId}, got ${JSON.stringify(groups)}`);
  const before = await workerCounters(worker);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const statuses = await pushAll({
    clients,
    inflight: opts.inflight,
    pushes,
    payloads,
    appId,
    shuffleId,
    group: groups[0],
  });
  const acked = performance.now();
  const workerCpuAtAck = processCpuSeconds(worker.pid);
  const pusherCpu = process.cpuUsage(cpuBefore);
  const commit = await wc.commitFiles({ appId, shuffleId });
  const committed = performance.now();
  const after = await workerCounters(worker);
  const stored = commit.files.reduce((n, f) => n + Number(f.length), 0);
  if (commit.failed.length > 0 || stored !== opts.bytes)
    throw new Error(
      `commit: ${commit.failed.length} failed, ${stored} bytes committed of ${opts.bytes}: ${JSON.stringify(commit.failed.slice(0, 3))}`,
    );
  await wc.destroyShuffle({ appId, shuffleId });
  const toAck = (acked - started) / 1000;
  const toCommit = (committed - started) / 1000;
  return {
    bytes: opts.bytes,
    pushes,
    files: commit.files.length,
    statuses,
    secondsToLastAck: toAck,
    secondsToCommit: toCommit,
    gbpsToLastAck: opts.bytes / toAck / 1e9,
    gbpsToCommit: opts.bytes / toCommit / 1e9,
    commitSeconds: toCommit - toAck,
    workerCpuPctToAck: ((workerCpuAtAck - before.cpu) / toAck) * 100,
    workerCpuPctToCommit: ((after.cpu - before.cpu) / toCommit) * 100,
    pusherCpuPctToAck: ((pusherCpu.user + pusherCpu.system) / 1e6 / toAck) * 100,
    // Share of the worker's write slots busy from the first push to the commit's answer.
    diskSlotsBusy:
      (after.flushSeconds - before.flushSeconds) / (toCommit * opts.workerWritesInFlight),
    diskWrites: after.flushWrites - before.flushWrites,
    pushPausedTransitions: after.paused - before.paused,
  };
}

const HEADER = [
  'run',
  'disk O_DIRECT GB/s',
  'ingest->ack GB/s',
  'ingest->commit GB/s',
  'ingest/disk',
  'commit s',
  'worker CPU',
  'pusher CPU',
  'disk slots busy',
  'paused',
  'load1',
];

function row(label, r) {
  return [
    label,
    fmt(r.disk.gbps),
    fmt(r.ingest.gbpsToLastAck),
    fmt(r.ingest.gbpsToCommit),
    pct(r.ratio),
    fmt(r.ingest.commitSeconds, 2),
    `${fmt(r.ingest.workerCpuPctToAck, 0)}%`,
    `${fmt(r.ingest.pusherCpuPctToAck, 0)}%`,
    pct(r.ingest.diskSlotsBusy),
    fmt(r.ingest.pushPausedTransitions, 0),
    fmt(r.load1, 2),
  ];
}

function medians(runs) {
  const m = (f) => median(runs.map(f));
  return {
    disk: { gbps: m((r) => r.disk.gbps) },
    ingest: {
      gbpsToLastAck: m((r) => r.ingest.gbpsToLastAck),
      gbpsToCommit: m((r) => r.ingest.gbpsToCommit),
      commitSeconds: m((r) => r.ingest.commitSeconds),
      workerCpuPctToAck: m((r) => r.ingest.workerCpuPctToAck),
      pusherCpuPctToAck: m((r) => r.ingest.pusherCpuPctToAck),
      diskSlotsBusy: m((r) => r.ingest.diskSlotsBusy),
      pushPausedTransitions: m((r) => r.ingest.pushPausedTransitions),
    },
    ratio: m((r) => r.ratio),
    ratioToLastAck: m((r) => r.ratioToLastAck),
    load1: m((r) => r.load1),
  };
}

async function main() {
  const opts = parseOptions(process.argv.slice(2));
  const cleanups = [];
  let cleaning;
  const cleanup = () =>
    (cleaning ??= (async () => {
      for (const fn of cleanups.reverse()) await fn().catch(() => undefined);
    })());
  let interrupted = false;
  const onSignal = (signal) => {
    interrupted = true;
    process.stderr.write(`\n${signal}: cleaning up\n`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  mkdirSync(opts.dir, { recursive: true });
  const root = await mkdtemp(join(opts.dir, 'bench-'));
  cleanups.push(async () => rmSync(root, { recursive: true, force: true }));
  let worker;
  try {
    const manager = await startManager();
    cleanups.push(() => manager.close());
    worker = await startWorkerProcess(opts, manager.address, join(root, 'worker'));
    cleanups.push(async () => {
      const killer = setTimeout(() => worker.child.kill('SIGKILL'), 30_000);
      await worker.stop('SIGTERM');
      clearTimeout(killer);
    });
    const started = JSON.parse(worker.output.find((l) => l.includes('"worker started"')));
    const mc = new ManagerClient(manager.address);
    cleanups.push(async () => mc.close());
    const wc = new WorkerControlClient(`127.0.0.1:${worker.controlPort}`);
    cleanups.push(async () => wc.close());
    const appId = `bench-ingest-${process.pid}`;
    await mc.registerApp({ appId, name: 'worker-ingest bench' });
    const clients = [];
    cleanups.push(async () => Promise.all(clients.map((c) => c.close().catch(() => undefined))));
    for (let i = 0; i < opts.connections; i++)
      clients.push(await RawDataClient.connect('127.0.0.1', worker.dataPort));
    const payloads = buildPayloads(opts.pushBytes, opts.connections);
    const ctx = { opts, mc, wc, worker, clients, payloads, appId };

    const host = {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      memoryBytes: totalmem(),
      kernel: release(),
      node: process.version,
    };
    const setup = {
      dir: root,
      sizeBytes: opts.bytes,
      connections: opts.connections,
      inflightPerConnection: opts.inflight,
      pushBytes: opts.pushBytes,
      partitions: opts.partitions,
      workerMemoryBytes: opts.memoryBytes,
      workerSet: opts.set,
      workerDirectIo: started.directIo,
      workerNative: started.native,
      benchNative: native().kind,
      diskBufferBytes: opts.diskBuffer,
      diskWritesInFlight: opts.diskInflight,
    };
    process.stdout.write(
      `worker ingest vs O_DIRECT disk (bench/README.md, target ingest >= ${pct(TARGET_RATIO)} of disk)\n` +
        `${host.cpus} CPU ${host.cpuModel}, ${(host.memoryBytes / GiB).toFixed(0)} GiB RAM, Node ${host.node}\n` +
        `dir ${root}; ${(opts.bytes / GiB).toFixed(2)} GiB per measurement; ` +
        `${opts.connections} connections x ${opts.inflight} in flight x ${opts.pushBytes} B pushes ` +
        `to ${opts.partitions} partitions; worker memory ${(opts.memoryBytes / GiB).toFixed(2)} GiB, ` +
        `directIo ${started.directIo}, native ${started.native}${opts.set.length ? `, ${opts.set.join(' ')}` : ''}\n\n`,
    );
    if (!started.directIo?.every(Boolean))
      process.stdout.write('warning: the worker writes buffered (O_DIRECT refused)\n');

    const runs = [];
    for (let run = 1; run <= opts.runs; run++) {
      const load1 = loadavg()[0];
      const disk = await measureDirectWrite({
        dir: root,
        bytes: opts.bytes,
        bufferBytes: opts.diskBuffer,
        writesInFlight: opts.diskInflight,
      });
      await sleep(500); // let the device settle between the two measurements
      const ingest = await measureIngest(ctx, run);
      const r = {
        run,
        load1,
        disk,
        ingest,
        ratio: ingest.gbpsToCommit / disk.gbps,
        ratioToLastAck: ingest.gbpsToLastAck / disk.gbps,
      };
      runs.push(r);
      process.stdout.write(`${formatTable(HEADER, [row(String(run), r)])}\n\n`);
    }
    const med = medians(runs);
    const all = [...runs.map((r) => row(String(r.run), r)), row('median', med)];
    process.stdout.write(`all runs:\n${formatTable(HEADER, all)}\n\n`);
    const pass = med.ratio >= TARGET_RATIO;
    process.stdout.write(
      `median: worker ingest ${(med.ingest.gbpsToCommit * 1000).toFixed(0)} MB/s to commit ` +
        `(${(med.ingest.gbpsToLastAck * 1000).toFixed(0)} MB/s to the last ack) vs disk O_DIRECT ` +
        `${(med.disk.gbps * 1000).toFixed(0)} MB/s: ${pct(med.ratio)} ` +
        `(${pct(med.ratioToLastAck)} to the last ack); target >= ${pct(TARGET_RATIO)}: ` +
        `${pass ? 'met' : 'NOT met'}\n` +
        'worker/pusher CPU: % of one core while pushing; disk slots busy: share of the ' +
        "worker's write slots in use from first push to commit; paused: PUSH_PAUSED transitions\n",
    );
    const path = await writeResults(opts.resultsDir, 'worker-ingest', {
      bench: 'worker-ingest',
      design: 'bench/README.md row 2: one worker, replication off, pre-compressed 1 MiB pushes',
      finishedAt: new Date().toISOString(),
      target: { ratio: TARGET_RATIO, met: pass },
      host,
      setup,
      runs,
      median: med,
    });
    process.stdout.write(`results: ${path}\n`);
    if (opts.cpuProfDir) {
      await cleanup(); // the worker writes its profile as it exits
      process.stdout.write(
        `worker CPU profile in ${opts.cpuProfDir}: node bench/cpuprofile-top.mjs ${opts.cpuProfDir}/${worker.pid}.cpuprofile\n`,
      );
    }
  } catch (err) {
    process.exitCode = 1;
    if (interrupted) return; // the pushes fail as the cleanup closes their connections
    process.stderr.write(`worker-ingest failed: ${err?.stack ?? err}\n`);
    const tail = worker?.output.slice(-20) ?? [];
    if (tail.length > 0) process.stderr.write(`last worker log lines:\n${tail.join('\n')}\n`);
  } finally {
    await cleanup();
  }
}

await main();
