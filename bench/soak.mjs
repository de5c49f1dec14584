// Soak / load run (issue 5, bench/README.md "worker memory never above its budget + 10%"): a manager
// in this process, several worker child processes with a small memory budget, and many
// concurrent ShuffleClient writers (in this process) pushing one shuffle until --maps maps are
// written or --seconds passed (maps not started by then are closed empty, so the commit
// always happens and the run is bounded in time and count). Meanwhile each worker's /metrics
// is sampled for sluice_worker_memory_used_bytes (the accounted push memory the budget
// governs) and its RSS. At the end every partition is read back and compared with what the
// writers wrote: record count, bytes and an order-independent checksum.
//
// Reported: pushes/s (PUSH frames acked by the workers, primary and replica each counted),
// p50/p99 push ack latency from the workers' sluice_worker_push_latency_seconds histogram
// (worker side: complete frame -> ack written; interpolated inside buckets), peak memory /
// budget per worker, OK_CONGESTED acks, bytes verified. Results go to
// bench/results/soak-<timestamp>.json.
//
// Imports the compiled code: `npm run soak` builds first. `node bench/soak.mjs --help`.
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';
import { ShuffleClient, ShuffleDriver } from '../dist/client/index.js';
import { startManager } from '../dist/testing/manager.js';
import { spawnWorker } from '../dist/testing/worker.js';
import { fmt, formatTable, metricSum, pct, scrape, writeResults } from './lib/report.mjs';

const MiB = 1024 ** 2;
const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
const APP = 'soak';

export const DEFAULTS = Object.freeze({
  seconds: 60,
  maps: 2_000,
  writers: 24,
  workers: 3,
  memoryBytes: 32 * MiB,
  partitions: 64,
  recordsPerMap: 2_000,
  recordBytes: 512,
  sampleMs: 20,
  replicate: true,
  results: join(BENCH_DIR, 'results'),
  quiet: false,
});

const HELP = `node bench/soak.mjs [--seconds N] [--maps N] [--writers N] [--workers N]
  [--memory MiB] [--partitions N] [--records-per-map N] [--record-bytes N] [--no-replicate]
  [--no-results]
Defaults: ${JSON.stringify({ ...DEFAULTS, results: undefined })}`;

function parseArgs(argv) {
  const o = { ...DEFAULTS };
  const num = (v, name) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${name}: expected a positive number`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => argv[++i];
    if (a === '--help') {
      console.log(HELP);
      process.exit(0);
    } else if (a === '--seconds') o.seconds = num(next(), a);
    else if (a === '--maps') o.maps = num(next(), a);
    else if (a === '--writers') o.writers = num(next(), a);
    else if (a === '--workers') o.workers = num(next(), a);
    else if (a === '--memory') o.memoryBytes = num(next(), a) * MiB;
    else if (a === '--partitions') o.partitions = num(next(), a);
    else if (a === '--records-per-map') o.recordsPerMap = num(next(), a);
    else if (a === '--record-bytes') o.recordBytes = num(next(), a);
    else if (a === '--no-replicate') o.replicate = false;
    else if (a === '--no-results') o.results = undefined;
    else throw new Error(`unknown option ${a}\n${HELP}`);
  }
  return o;
}

/**
 * Record i of map m: deterministic, incompressible bytes (xorshift32 from a hash of (m, i)) and
 * partition, so what the reader gets can be checked and lz4 does not shrink the load.
 */
function record(o, mapId, i) {
  const seed = createHash('sha1').update(`${mapId}/${i}`).digest();
  const bytes = Buffer.allocUnsafe(16 + (seed.readUInt16BE(0) % o.recordBytes));
  let x = seed.readUInt32BE(8) | 1;
  let at = 0;
  for (; at + 4 <= bytes.length; at += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes.writeInt32BE(x | 0, at);
  }
  seed.copy(bytes, at, 0, bytes.length - at);
  return { partition: seed.readUInt32BE(4) % o.partitions, bytes };
}

/** Per partition: records, bytes and a sum of record CRCs (order-independent). */
function newTally(n) {
  return Array.from({ length: n }, () => ({ records: 0, bytes: 0, checksum: 0n }));
}
function add(tally, partition, bytes) {
  const t = tally[partition];
  t.records++;
  t.bytes += bytes.length;
  t.checksum += BigInt(crc32(bytes));
}

/** Samples every worker's memory gauges until stopped; keeps the peaks. */
function sampleMemory(workers, everyMs) {
  const peaks = new Map(workers.map((w) => [w.workerId, { used: 0, rss: 0, budget: 0, n: 0 }]));
  let stop = false;
  const done = (async () => {
    while (!stop) {
      await Promise.all(
        workers.map(async (w) => {
          const text = await scrape(`http://127.0.0.1:${w.httpPort}/metrics`).catch(() => '');
          if (!text) return;
          const p = peaks.get(w.workerId);
          p.used = Math.max(p.used, metricSum(text, 'sluice_worker_memory_used_bytes'));
          p.rss = Math.max(p.rss, metricSum(text, 'process_resident_memory_bytes'));
          p.budget = metricSum(text, 'sluice_worker_memory_budget_bytes');
          p.n++;
        }),
      );
      await sleep(everyMs);
    }
  })();
  return {
    peaks,
    async stop() {
      stop = true;
      await done;
    },
  };
}

/** Quantile from summed Prometheus histogram buckets (linear inside the bucket). */
function histogramQuantile(buckets, q) {
  const total = buckets.at(-1)?.count ?? 0;
  if (total === 0) return NaN;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const { le, count } of buckets) {
    if (count >= rank) {
      if (!Number.isFinite(le)) return prevLe;
      return prevLe + ((le - prevLe) * (rank - prevCount)) / Math.max(1, count - prevCount);
    }
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}

function latencyBuckets(texts) {
  const byLe = new Map();
  for (const text of texts) {
    for (const m of text.matchAll(
      /^sluice_worker_push_latency_seconds_bucket\{[^}]*le="([^"]+)"[^}]*\} (\S+)$/gm,
    )) {
      const le = m[1] === '+Inf' ? Infinity : Number(m[1]);
      byLe.set(le, (byLe.get(le) ?? 0) + Number(m[2]));
    }
  }
  return [...byLe.entries()].sort((a, b) => a[0] - b[0]).map(([le, count]) => ({ le, count }));
}

/** Runs the soak; returns the results object (also written as JSON unless results is unset). */
export async function runSoak(options = {}) {
  const o = { ...DEFAULTS, ...options };
  const log = o.quiet ? () => undefined : (...a) => console.log(...a);
  const root = mkdtempSync(join(tmpdir(), 'sluice-soak-'));
  const manager = await startManager();
  const workers = [];
  let driver;
  let client;
  try {
    for (let i = 1; i <= o.workers; i++) {
      workers.push(
        await spawnWorker({
          manager: manager.address,
          dirs: [join(root, `w${i}`)],
          id: `soak-${i}`,
          args: ['--memory', String(o.memoryBytes), '--log-level', 'warn'],
        }),
      );
    }
    driver = await ShuffleDriver.start({ manager: manager.address, appId: APP });
    await driver.registerShuffle({
      shuffleId: 0,
      numMappers: o.maps,
      numPartitions: o.partitions,
      replicate: o.replicate,
      // Several groups, so every worker holds primaries and replicas.
      maxPartitionsPerGroup: Math.max(1, Math.ceil(o.partitions / (o.workers * 4))),
    });
    client = new ShuffleClient({ driver: driver.driverAddress });
    const expected = newTally(o.partitions);
    const memory = sampleMemory(workers, o.sampleMs);
    log(
      `soak: ${o.workers} workers, budget ${o.memoryBytes / MiB} MiB each, ${o.writers} writers, ` +
        `up to ${o.maps} maps x ${o.recordsPerMap} records, ${o.seconds} s`,
    );

    const started = performance.now();
    const deadline = started + o.seconds * 1000;
    let nextMap = 0;
    let written = 0;
    let empty = 0;
    const writer = async () => {
      for (let mapId = nextMap++; mapId < o.maps; mapId = nextMap++) {
        const w = client.writer({
          appId: APP,
          shuffleId: 0,
          mapId,
          attemptId: 0,
          numPartitions: o.partitions,
        });
        // Past the deadline a map is closed empty: the commit needs every mapper to report.
        const records = performance.now() < deadline ? o.recordsPerMap : 0;
        const local = [];
        for (let i = 0; i < records; i++) {
          const r = record(o, mapId, i);
          w.write(r.partition, r.bytes);
          local.push(r);
          if (i % 256 === 255) await w.flushIfNeeded();
        }
        const result = await w.close();
        if (result.discarded) throw new Error(`map ${mapId}: discarded (no other attempt ran)`);
        for (const r of local) add(expected, r.partition, r.bytes);
        if (records) written++;
        else empty++;
      }
    };
    await Promise.all(Array.from({ length: o.writers }, writer));
    const writeSeconds = (performance.now() - started) / 1000;
    const outcome = await driver.commitShuffle(0, 120_000);
    await memory.stop();
    if (outcome.lost.length) throw new Error(`partitions lost: ${outcome.lost.join(', ')}`);

    const texts = await Promise.all(
      workers.map((w) => scrape(`http://127.0.0.1:${w.httpPort}/metrics`)),
    );
    const sum = (name, labels) => texts.reduce((n, t) => n + metricSum(t, name, labels), 0);
    const frames = sum('sluice_worker_push_latency_seconds_count');
    const buckets = latencyBuckets(texts);

    // Read back and verify every partition.
    const got = newTally(o.partitions);
    const readStarted = performance.now();
    let p = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let part = p++; part < o.partitions; part = p++) {
          for await (const rec of client.reader({ appId: APP, shuffleId: 0, partitionId: part }))
            add(got, part, Buffer.from(rec));
        }
      }),
    );
    const readSeconds = (performance.now() - readStarted) / 1000;
    const mismatched = [];
    for (let part = 0; part < o.partitions; part++) {
      const a = got[part];
      const b = expected[part];
      if (a.records !== b.records || a.bytes !== b.bytes || a.checksum !== b.checksum)
        mismatched.push({
          partition: part,
          got: { ...a, checksum: String(a.checksum) },
          want: { ...b, checksum: String(b.checksum) },
        });
    }
    const bytesVerified = got.reduce((n, t) => n + t.bytes, 0);
    const recordsVerified = got.reduce((n, t) => n + t.records, 0);

    const perWorker = [...memory.peaks.entries()].map(([workerId, m]) => ({
      workerId,
      budgetBytes: m.budget,
      peakUsedBytes: m.used,
      peakRatio: m.budget ? m.used / m.budget : NaN,
      peakRssBytes: m.rss,
      samples: m.n,
    }));
    const results = {
      options: { ...o, results: undefined },
      mapsWritten: written,
      mapsClosedEmpty: empty,
      writeSeconds,
      readSeconds,
      pushes: frames,
      pushesPerSecond: frames / writeSeconds,
      pushedBytes: sum('sluice_worker_push_bytes_total'),
      pushedMiBPerSecond: sum('sluice_worker_push_bytes_total') / MiB / writeSeconds,
      slicesByStatus: Object.fromEntries(
        ['OK', 'OK_CONGESTED', 'SOFT_SPLIT', 'HARD_SPLIT', 'FAILED', 'CRC_MISMATCH'].map((s) => [
          s,
          sum('sluice_worker_pushes_total', { status: s }),
        ]),
      ),
      congestedAcks: sum('sluice_worker_pushes_total', { status: 'OK_CONGESTED' }),
      pausedTransitions: sum('sluice_worker_memory_transitions_total', { to: 'PUSH_PAUSED' }),
      latencySource: 'worker sluice_worker_push_latency_seconds (frame complete -> ack written)',
      ackLatencyP50Ms: histogramQuantile(buckets, 0.5) * 1000,
      ackLatencyP99Ms: histogramQuantile(buckets, 0.99) * 1000,
      memory: perWorker,
      peakMemoryRatio: Math.max(...perWorker.map((w) => w.peakRatio)),
      memoryWithinBudget: perWorker.every((w) => w.peakUsedBytes <= w.budgetBytes * 1.1),
      recordsVerified,
      bytesVerified,
      recordsExpected: expected.reduce((n, t) => n + t.records, 0),
      verified: mismatched.length === 0,
      mismatched: mismatched.slice(0, 10),
    };
    log(
      formatTable(
        ['worker', 'budget MiB', 'peak MiB', 'peak/budget', 'peak RSS MiB', 'samples'],
        perWorker.map((w) => [
          w.workerId,
          fmt(w.budgetBytes / MiB, 1),
          fmt(w.peakUsedBytes / MiB, 2),
          pct(w.peakRatio),
          fmt(w.peakRssBytes / MiB, 1),
          w.samples,
        ]),
      ),
    );
    log(
      `maps ${written} written + ${empty} empty in ${fmt(writeSeconds, 1)} s; ` +
        `${fmt(results.pushesPerSecond, 0)} pushes/s, ${fmt(results.pushedMiBPerSecond, 1)} MiB/s ` +
        `acked (both replicas); ack p50 ${fmt(results.ackLatencyP50Ms, 2)} ms, ` +
        `p99 ${fmt(results.ackLatencyP99Ms, 2)} ms (worker side); congested acks ` +
        `${results.congestedAcks}; peak memory ${pct(results.peakMemoryRatio)} of budget ` +
        `(limit 110%): ${results.memoryWithinBudget ? 'ok' : 'EXCEEDED'}`,
    );
    log(
      `verified ${recordsVerified}/${results.recordsExpected} records, ` +
        `${fmt(bytesVerified / MiB, 1)} MiB: ${results.verified ? 'ok' : 'MISMATCH'}`,
    );
    if (o.results) log(`results: ${await writeResults(o.results, 'soak', results)}`);
    return results;
  } finally {
    await client?.close().catch(() => undefined);
    await driver?.close().catch(() => undefined);
    await Promise.allSettled(workers.map((w) => w.stop('SIGKILL')));
    await manager.close();
    rmSync(root, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const results = await runSoak(parseArgs(process.argv.slice(2)));
  process.exitCode = results.verified && results.memoryWithinBudget ? 0 : 1;
}
