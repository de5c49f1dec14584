// The closing table of bench/run.mjs: medians over the runs, each bench/README.md target with the
// measured ratio and met / NOT met, and the consistency checks (bytes in = bytes out).
import { fmt, formatTable, median } from './report.mjs';
import { securityRows } from './security-summary.mjs';
import { SAMPLE_EVERY_MS } from './worker-memory.mjs';

const mbps = (gbps) => (Number.isFinite(gbps) ? `${(gbps * 1000).toFixed(0)} MB/s` : '-');
const pct = (x) => (Number.isFinite(x) ? `${(x * 100).toFixed(0)}%` : '-');
// Older results files have no CPU or memory per sweep point: '-'.
const fixed2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : '-');
const mib = (bytes) => (Number.isFinite(bytes) ? `${(bytes / 2 ** 20).toFixed(0)} MiB` : '-');

/**
 * Worker CPU-seconds per GB it ingested (each worker of a replicated run ingests every byte)
 * and the pushers' per GB pushed, medians over the runs.
 */
function ingestCpu(runs) {
  const gb = (r) => r.bytesIn / 1e9;
  const worker = median(
    runs.map(
      (r) => r.workerCpuSeconds.reduce((a, b) => a + b, 0) / r.workerCpuSeconds.length / gb(r),
    ),
  );
  const pushers = median(runs.map((r) => r.pusherCpuSeconds / gb(r)));
  return `worker ${fmt(worker, 2)}, pushers ${fmt(pushers, 2)}`;
}

export function summarize(opts, res) {
  const m = (xs, f) => median(xs.map(f).filter((x) => x !== undefined));
  const s = res.single;
  const rows = [];
  const checks = [];
  const diskW = m(s, (r) => r.disk?.writeGbps);
  const diskR = m(s, (r) => r.disk?.readGbps);
  if (s.some((r) => r.disk))
    rows.push({
      id: 1,
      what: 'raw disk, O_DIRECT sequential (Node)',
      measured: `write ${mbps(diskW)}, read ${mbps(diskR)}`,
      baseline: res.fio?.writeGbps
        ? `fio: write ${mbps(res.fio.writeGbps)}, read ${mbps(res.fio.readGbps)}`
        : 'fio not installed',
    });
  if (s.some((r) => r.ingest)) {
    const ratio = m(s, (r) => r.ingest.gbps / r.disk.writeGbps);
    rows.push({
      id: 2,
      what: `ingest, 1 worker, no replication, ${opts.pushBytes >> 10} KiB pushes`,
      measured: `${mbps(m(s, (r) => r.ingest.gbps))} (CPU-s/GB: ${ingestCpu(s.map((r) => r.ingest))})`,
      baseline: `disk write ${mbps(diskW)}`,
      ratio,
      ratioText: pct(ratio),
      target: '>= 85% of disk write',
      met: ratio >= 0.85,
    });
    for (const r of s)
      checks.push({
        what: `2 ingest run ${r.run}`,
        in: r.ingest.bytesIn,
        out: r.ingest.bytesCommitted[0],
      });
  }
  if (res.replicated.length) {
    const rep = res.replicated;
    const shared = rep[0].sharedDisk;
    // On one shared disk both workers' files land on the same device: compare the sum.
    const ratio = m(rep, (r) => (r.gbps * (shared ? 2 : 1)) / r.disk.writeGbps);
    rows.push({
      id: 3,
      what: `ingest, replication on, 2 workers${shared ? ' (one shared disk)' : ''}`,
      measured: `${mbps(m(rep, (r) => r.gbps))} per worker (CPU-s/GB: ${ingestCpu(rep)})`,
      baseline: `disk write ${mbps(m(rep, (r) => r.disk.writeGbps))}`,
      ratio,
      ratioText: shared ? `${pct(ratio)} (2 workers' sum)` : pct(ratio),
      target: '>= 70% of disk write per worker',
      met: ratio >= 0.7,
    });
    for (const r of rep)
      r.bytesCommitted.forEach((out, i) =>
        checks.push({ what: `3 replicated run ${r.run} worker ${i + 1}`, in: r.bytesIn, out }),
      );
  }
  if (s.some((r) => r.ingest?.read)) {
    const ratio = m(s, (r) => r.ingest.read.gbps / r.disk.readGbps);
    rows.push({
      id: 4,
      what: `reducers reading committed partitions${s[0].ingest.read.cachesDropped ? ', caches dropped' : ''}`,
      measured: `${mbps(m(s, (r) => r.ingest.read.gbps))} (CPU-s/GB: worker ${fmt(
        m(s, (r) => r.ingest.read.workerCpuSecondsPerGB),
        2,
      )}, readers ${fmt(
        m(s, (r) => r.ingest.read.readerCpuSecondsPerGB),
        2,
      )})`,
      baseline: `disk read ${mbps(diskR)}`,
      ratio,
      ratioText: pct(ratio),
      target: '>= 80% of disk read',
      met: ratio >= 0.8,
    });
    for (const r of s)
      checks.push({
        what: `4 read run ${r.run}`,
        in: r.ingest.bytesIn,
        out: r.ingest.read.bytesOut,
      });
  }
  const failed = [];
  let ess;
  if (s.some((r) => r.e2e)) {
    const push = m(s, (r) => r.e2e.push.seconds);
    const ours = m(s, (r) => r.e2e.ess.seconds);
    const sparkRead = m(s, (r) => r.e2e.spark?.readSeconds);
    // The faster ESS of each run: ours end to end, or ours with Spark's read phase in place of
    // its own (the map outputs are written the same way, to local files; only serving differs).
    const fasterEss = (r) =>
      r.e2e.ess.writeSeconds +
      Math.min(r.e2e.ess.readSeconds, r.e2e.spark?.readSeconds ?? Infinity);
    const ratio = m(s, (r) => fasterEss(r) / r.e2e.push.seconds);
    const phases = (mode) =>
      `${fmt(
        m(s, (r) => r.e2e[mode].writeSeconds),
        1,
      )}+${fmt(
        m(s, (r) => r.e2e[mode].readSeconds),
        1,
      )} s`;
    rows.push({
      id: 5,
      what: `end to end, ${opts.maps} maps x ${opts.e2ePartitions} partitions x ${opts.blockBytes >> 10} KiB${s[0].e2e.push.cachesDropped ? ', caches dropped' : ', caches NOT dropped'}`,
      measured: `push ${fmt(push, 1)} s (${phases('push')})`,
      baseline: `ESS ${fmt(ours, 1)} s (${phases('ess')})${Number.isFinite(sparkRead) ? `; Spark's ESS read ${fmt(sparkRead, 1)} s` : ''}`,
      ratio,
      ratioText: `${fmt(ratio, 2)}x`,
      target: '>= 3x faster than the faster ESS',
      met: ratio >= 3,
    });
    for (const r of s) {
      for (const mode of ['push', 'ess'])
        checks.push({
          what: `5 ${mode} run ${r.run}`,
          in: r.e2e[mode].bytesIn,
          out: r.e2e[mode].bytesOut,
        });
      const spark = r.e2e.spark;
      if (spark?.error) failed.push({ what: `5 Spark's ESS run ${r.run}`, error: spark.error });
      else if (spark && !spark.skipped)
        checks.push({
          what: `5 Spark's ESS run ${r.run}`,
          in: spark.writtenBytes,
          out: spark.bytesOut,
        });
    }
    ess = essComparison(s, m, opts);
  }
  if (res.latency.length) {
    const p99 = m(res.latency, (r) => r.p99Ms);
    rows.push({
      id: 6,
      what: `push ack latency at 50% load (${mbps(res.latency[0].targetGbps)})`,
      measured: `p50 ${fmt(
        m(res.latency, (r) => r.p50Ms),
        1,
      )} ms, p99 ${fmt(p99, 1)} ms`,
      baseline: `achieved ${mbps(m(res.latency, (r) => r.gbps))}`,
      ratio: p99 / 20,
      ratioText: `p99 ${fmt(p99, 1)} ms`,
      target: 'p99 <= 20 ms',
      met: p99 <= 20,
    });
    for (const r of res.latency)
      checks.push({ what: `6 latency run ${r.run}`, in: r.bytesIn, out: r.bytesCommitted[0] });
  }
  for (const t of res.remote?.tiers ?? []) remoteRows(t, res.remote, m, rows, checks, failed);
  const withPeak = (res.memory ?? []).filter((w) => Number.isFinite(w.peakUsedBytes));
  if (withPeak.length) {
    // The worst worker over every scenario (a peak, not a median: the target is "never").
    const worst = withPeak.reduce((a, b) =>
      b.peakUsedBytes / b.budgetBytes > a.peakUsedBytes / a.budgetBytes ? b : a,
    );
    const share = worst.peakUsedBytes / worst.budgetBytes;
    const rss = Math.max(...withPeak.map((w) => w.peakRssBytes ?? 0));
    rows.push({
      id: 9,
      what: `worker memory, peak over scenarios ${[...new Set(withPeak.flatMap((w) => w.scenarios))].join(',')} (${withPeak.length} workers)`,
      measured: `${fmt(share * 100, 1)}% of budget${rss ? `; peak RSS ${fmt(rss / 2 ** 20, 0)} MiB` : ''}`,
      baseline: `budget ${fmt(worst.budgetBytes / 2 ** 20, 0)} MiB`,
      ratio: share / 1.1,
      ratioText: `${fmt(share * 100, 1)}%`,
      target: '<= 110% of budget',
      met: share <= 1.1,
    });
  }
  // Scenario 10 (no target) after row 9, which covers its workers too.
  if (res.security) securityRows(res.security, rows, checks, failed);
  for (const p of res.sweep)
    checks.push({
      what: `7 sweep ${p.pushBytes}/${p.partitions}`,
      in: p.bytesIn,
      out: p.bytesCommitted[0],
    });
  return { rows, checks, failed, ess, consistent: checks.every((c) => c.in === c.out) };
}

/**
 * Scenario 5's read phases side by side (medians over the runs): push mode's reducers, our ESS,
 * Spark's ESS on the same shape, and fio's 16 KiB random reads at depth 16 as the disk's limit
 * for as many reads as the ESSes fetched.
 */
function essComparison(s, m, opts) {
  const spark = s.find((r) => r.e2e.spark?.skipped)?.e2e.spark;
  const fio = s.find((r) => r.fioRandom)?.fioRandom;
  return {
    pushReadSeconds: m(s, (r) => r.e2e.push.readSeconds),
    sluice: {
      readSeconds: m(s, (r) => r.e2e.ess.readSeconds),
      fetches: m(s, (r) => r.e2e.ess.essFetches),
      cpuUsPerFetch: m(s, (r) => (r.e2e.ess.essCpuSeconds / r.e2e.ess.essFetches) * 1e6),
      readerCpuUsPerFetch: m(s, (r) => (r.e2e.ess.readerCpuSeconds / r.e2e.ess.essFetches) * 1e6),
    },
    sparkBlocksPerRequest: opts.sparkBlocksPerRequest,
    spark: spark
      ? { skipped: spark.skipped }
      : {
          readSeconds: m(s, (r) => r.e2e.spark?.readSeconds),
          fetches: m(s, (r) => r.e2e.spark?.fetches),
          cpuUsPerFetch: m(s, (r) => r.e2e.spark?.cpuUsPerFetch),
          readerCpuUsPerFetch: m(
            s,
            (r) => (r.e2e.spark?.readerCpuSeconds / r.e2e.spark?.fetches) * 1e6,
          ),
        },
    fio: fio?.error
      ? { error: fio.error }
      : fio
        ? {
            iops: m(s, (r) => r.fioRandom?.iops),
            gbps: m(s, (r) => r.fioRandom?.gbps),
            blockBytes: fio.blockBytes,
            iodepth: fio.iodepth,
          }
        : { skipped: 'fio not installed' },
  };
}

/** The table under the summary for scenario 5's read phases. */
export function renderEss(ess) {
  const reads = ess.sluice.fetches;
  const fioSeconds = ess.fio.iops ? reads / ess.fio.iops : NaN;
  const blank = (name, text) => [name, text, '', '', '', '', ''];
  const us = (x) => `${fmt(x, 0)} us`;
  const row = (name, x) =>
    x.skipped
      ? blank(name, `skipped: ${x.skipped}`)
      : [
          name,
          `${fmt(x.readSeconds, 1)} s`,
          fmt(x.fetches, 0),
          fmt(x.fetches / x.readSeconds, 0),
          us(x.cpuUsPerFetch),
          us(x.readerCpuUsPerFetch),
          `${fmt(x.readSeconds / fioSeconds, 2)}x`,
        ];
  const spark = `Spark's ESS${ess.sparkBlocksPerRequest > 1 ? `, ${ess.sparkBlocksPerRequest} blocks a request` : ''}`;
  const fio = ess.fio.iops
    ? [
        `fio ${ess.fio.blockBytes >> 10} KiB random reads, depth ${ess.fio.iodepth}, O_DIRECT`,
        `${fmt(fioSeconds, 1)} s`,
        fmt(reads, 0),
        fmt(ess.fio.iops, 0),
        '',
        '',
        `(${mbps(ess.fio.gbps)})`,
      ]
    : blank('fio random reads', ess.fio.skipped ?? `FAILED: ${firstLine(ess.fio.error)}`);
  return `scenario 5 read phases (median; caches dropped before each):\n${formatTable(
    [
      'read phase',
      'time',
      'fetches',
      'fetches/s',
      'ESS CPU/fetch',
      'reader CPU/fetch',
      'time / fio',
    ],
    [
      blank('push mode reducers', `${fmt(ess.pushReadSeconds, 1)} s`),
      row("Sluice's ESS", ess.sluice),
      row(spark, ess.spark),
      fio,
    ],
  )}`;
}

const TIER_NAMES = { hdfs: 'HDFS', s3: 'S3' };
const firstLine = (text) => String(text).split('\n')[0].slice(0, 160);

/**
 * Scenario 8, one tier: an ingest row and a read row, each Sluice's median rate ÷ the raw
 * endpoint's of the same runs (no target: the numbers say what the tier costs), or one row
 * saying why the tier was skipped or failed.
 */
function remoteRows(t, remote, m, rows, checks, failed) {
  const name = TIER_NAMES[t.tier] ?? t.tier;
  if (t.skipped || t.error) {
    if (t.error) failed.push({ what: `8 remote ${name}`, error: t.error });
    rows.push({
      id: 8,
      what: `remote tier ${name}`,
      measured: t.skipped ? `skipped: ${t.skipped}` : `FAILED: ${firstLine(t.error)}`,
      baseline: '',
    });
    return;
  }
  const s = remote.settings;
  const runs = t.runs;
  const writeReq =
    t.tier === 'hdfs'
      ? `CREATE + ${Math.round(s.bufferBytes / 2 ** 20)} MiB APPENDs`
      : `multipart, ${Math.round(s.partBytes / 2 ** 20)} MiB parts`;
  const readReq = `${Math.round(s.chunkBytes / 2 ** 20)} MiB ${t.tier === 'hdfs' ? 'OPENs' : 'range GETs'}`;
  const cpu = (f) => `worker CPU-s/GB ${fmt(m(runs, f), 2)}`;
  const clientCpu = (f) => `client CPU-s/GB ${fmt(m(runs, f), 2)}`;
  const ingestRatio = m(runs, (r) => r.ingest.gbps / r.raw.write.gbps);
  rows.push({
    id: 8,
    what: `${name} ingest, remote-only worker, ${Math.round(remote.bytes / 2 ** 20)} MiB in ${remote.partitions} partitions`,
    label: `${name} ingest ÷ raw write`,
    measured: `${mbps(m(runs, (r) => r.ingest.gbps))} (${cpu((r) => r.ingest.workerCpuSecondsPerGB)})`,
    baseline: `raw write ${mbps(m(runs, (r) => r.raw.write.gbps))} (${writeReq}, ${s.writesInFlight} in flight; ${clientCpu((r) => r.raw.write.clientCpuSecondsPerGB)})`,
    ratio: ingestRatio,
    ratioText: pct(ingestRatio),
  });
  const readRatio = m(runs, (r) => r.ingest.read.gbps / r.raw.read.gbps);
  rows.push({
    id: 8,
    what: `${name} reducers reading back through the worker`,
    label: `${name} read back ÷ raw ranged read`,
    measured: `${mbps(m(runs, (r) => r.ingest.read.gbps))} (${cpu((r) => r.ingest.read.workerCpuSecondsPerGB)})`,
    baseline: `raw read ${mbps(m(runs, (r) => r.raw.read.gbps))} (${readReq}, ${s.readsInFlight} in flight; ${clientCpu((r) => r.raw.read.clientCpuSecondsPerGB)})`,
    ratio: readRatio,
    ratioText: pct(readRatio),
  });
  for (const r of runs) {
    checks.push({
      what: `8 ${name} ingest run ${r.run}`,
      in: r.ingest.bytesIn,
      out: r.ingest.bytesCommitted[0],
    });
    checks.push({
      what: `8 ${name} read run ${r.run}`,
      in: r.ingest.bytesIn,
      out: r.ingest.read.bytesOut,
    });
    checks.push({ what: `8 ${name} raw run ${r.run}`, in: r.raw.bytesIn, out: r.raw.bytesOut });
  }
}

export function renderSummary(summary, host) {
  const table = formatTable(
    ['#', 'scenario', 'measured (median)', 'baseline, same run', 'ratio', 'target', 'met'],
    summary.rows.map((r) => [
      r.id,
      r.what,
      r.measured,
      r.baseline,
      r.ratioText ?? '',
      r.target ?? '',
      r.met === undefined ? '' : r.met ? 'met' : 'NOT met',
    ]),
  );
  const bad = summary.checks.filter((c) => c.in !== c.out);
  const consistency = bad.length
    ? `INCONSISTENT: ${bad.map((c) => `${c.what}: ${c.in} in, ${c.out} out`).join('; ')}`
    : `consistent: bytes in = bytes out in all ${summary.checks.length} measurements`;
  const failures = (summary.failed ?? []).map(
    (f) => `FAILED: ${f.what}: ${String(f.error).split('\n').slice(0, 6).join('\n  ')}\n`,
  );
  return `${table}\n${failures.join('')}${consistency}\n${host.cpus} CPU ${host.cpuModel}, Node ${host.node}; page cache ${host.canDropCaches ? 'dropped before reads' : 'NOT dropped (not root)'}`;
}

export function renderSweep(sweep) {
  return `scenario 7 sweep (one run each; peak memory: the worker's accounted push memory, sampled\nevery ${SAMPLE_EVERY_MS} ms, as is its RSS):\n${formatTable(
    [
      'push bytes',
      'partitions',
      'ingest',
      'disk write',
      'ratio',
      'worker CPU-s/GB',
      'pushers CPU-s/GB',
      'peak memory',
      'peak RSS',
    ],
    sweep.map((p) => [
      `${p.pushBytes >> 10} KiB`,
      p.partitions,
      mbps(p.gbps),
      mbps(p.diskGbps),
      pct(p.ratio),
      fixed2(p.workerCpuSecondsPerGB),
      fixed2(p.pusherCpuSecondsPerGB),
      mib(p.peakUsedBytes),
      mib(p.peakRssBytes),
    ]),
  )}`;
}
