// Scenario 10's part of the closing table (bench/scenarios/security.mjs): per configuration the
// medians over the runs, and for auth and auth + TLS the median over the runs of each run's
// ratio to plain in that same run (the machine is shared: compare within a run).
import { formatTable, fmt, median } from './report.mjs';

const CONFIGS = [
  { name: 'plain', label: 'plain (no secret, no TLS)' },
  { name: 'auth', label: 'auth (cluster secret)' },
  { name: 'tls', label: 'auth + mutual TLS' },
];

/** The figures of one configuration in one run (rates in GB/s, CPU in seconds per GB). */
const FIGURES = {
  ingestGbps: (m) => m.gbps,
  readGbps: (m) => m.read.gbps,
  workerCpuIn: (m) => m.ingestCpuSecondsPerGB,
  workerCpuOut: (m) => m.read.workerCpuSecondsPerGB,
  pusherCpu: (m) => m.pusherCpuSecondsPerGB,
  readerCpu: (m) => m.read.readerCpuSecondsPerGB,
};

/** { plain: { ingestGbps, ... }, auth: { ..., ratio: { ingestGbps, ... } }, tls: ... } */
export function securityMedians(security) {
  const runs = security.runs;
  const out = {};
  for (const { name } of CONFIGS) {
    const figures = {};
    const ratio = {};
    for (const [k, f] of Object.entries(FIGURES)) {
      figures[k] = median(runs.map((r) => f(r[name])));
      if (name !== 'plain') ratio[k] = median(runs.map((r) => f(r[name]) / f(r.plain)));
    }
    out[name] = name === 'plain' ? figures : { ...figures, ratio };
  }
  return out;
}

const mbps = (gbps) => (Number.isFinite(gbps) ? `${(gbps * 1000).toFixed(0)} MB/s` : '-');
const times = (x) => (Number.isFinite(x) ? `${x.toFixed(2)}x` : '-');

/**
 * Summary rows (id 10, no target) and the consistency checks of every measurement; a failed
 * scenario adds one FAILED row and an entry to `failed` (the bench then exits 1).
 */
export function securityRows(security, rows, checks, failed) {
  if (security.error) {
    failed.push({ what: '10 security', error: security.error });
    rows.push({
      id: 10,
      what: 'security: plain, auth, auth + mutual TLS',
      measured: `FAILED: ${String(security.error).split('\n')[0].slice(0, 160)}`,
      baseline: '',
    });
  }
  if (!security.runs.length) return;
  const med = securityMedians(security);
  const p = med.plain;
  const measured = (x) =>
    `ingest ${mbps(x.ingestGbps)}, read ${mbps(x.readGbps)}; worker CPU-s/GB ${fmt(
      x.workerCpuIn,
      2,
    )} in, ${fmt(x.workerCpuOut, 2)} out`;
  for (const { name, label } of CONFIGS) {
    const x = med[name];
    const row = { id: 10, what: `security: ${label}`, label, measured: measured(x) };
    if (name === 'plain') row.baseline = '(the baseline)';
    else {
      const q = x.ratio;
      row.baseline = `plain: ingest ${mbps(p.ingestGbps)}, read ${mbps(p.readGbps)}`;
      row.ratio = q.ingestGbps;
      row.readRatio = q.readGbps;
      row.ratioText = `ingest ${times(q.ingestGbps)}, read ${times(q.readGbps)}; CPU ${times(
        q.workerCpuIn,
      )} in, ${times(q.workerCpuOut)} out`;
    }
    rows.push(row);
  }
  for (const r of security.runs)
    for (const { name } of CONFIGS) {
      const m = r[name];
      checks.push({
        what: `10 ${name} ingest run ${r.run}`,
        in: m.bytesIn,
        out: m.bytesCommitted[0],
      });
      checks.push({ what: `10 ${name} read run ${r.run}`, in: m.bytesIn, out: m.read.bytesOut });
    }
}

/** The scenario's own table: every figure per configuration, then the ratios to plain. */
export function renderSecurity(security) {
  const med = securityMedians(security);
  const gb = (x) => fmt(x, 2);
  const rowOf = (label, x, rate, cpu) => [
    label,
    rate(x.ingestGbps),
    rate(x.readGbps),
    cpu(x.workerCpuIn),
    cpu(x.workerCpuOut),
    cpu(x.pusherCpu),
    cpu(x.readerCpu),
  ];
  const mb = (g) => (Number.isFinite(g) ? (g * 1000).toFixed(0) : '-');
  const body = [
    ...CONFIGS.map(({ name, label }) => rowOf(label, med[name], mb, gb)),
    rowOf('auth ÷ plain', med.auth.ratio, times, times),
    rowOf('auth + TLS ÷ plain', med.tls.ratio, times, times),
  ];
  const n = security.runs.length;
  return `scenario 10, security: ${Math.round(security.bytes / 2 ** 20)} MiB per measurement, ${n} run${n === 1 ? '' : 's'} interleaved; medians, ratios = median of each run's ÷ plain of the same run\n${formatTable(
    [
      'configuration',
      'ingest MB/s',
      'read MB/s',
      'worker CPU-s/GB in',
      'worker CPU-s/GB out',
      'pushers CPU-s/GB',
      'readers CPU-s/GB',
    ],
    body,
  )}`;
}
