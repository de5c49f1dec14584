// The CI variant of `npm run bench` (issue 7; the full run is `npm run bench`): every scenario
// at small sizes on real worker, manager, ESS and executor processes, scenario 8 on a real
// HDFS and a real S3 (Ceph RGW) when installed (~25 s of the run), and scenario 10 on three
// clusters: plain, with a cluster secret, and with a secret and mutual TLS (~5 s). It checks
// the harness produces a result for each scenario and that every measurement is consistent
// (bytes pushed = bytes committed = bytes read back; records written = records read in both
// shuffle modes), not that the numbers reach bench/README.md's targets. Needs dist/ (npm test builds it).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect, it } from 'vitest';
import { cephAvailable } from '../src/testing/ceph.js';
import { hdfsAvailable } from '../src/testing/hdfs.js';
import { PACKAGE_ROOT } from '../src/testing/manager.js';

interface BenchResults {
  summary: {
    rows: { id: number; what: string; measured: string; ratio?: number; met?: boolean }[];
    checks: { what: string; in: number; out: number }[];
    failed: { what: string; error: string }[];
    consistent: boolean;
  };
  raw: {
    sweep: {
      workerCpuSecondsPerGB: number;
      pusherCpuSecondsPerGB: number;
      peakUsedBytes: number;
      peakRssBytes: number;
    }[];
    memory: { peakUsedBytes: number }[];
  };
}

const tiers = { HDFS: hdfsAvailable(), S3: cephAvailable() };
// Under CI both are installed (.ci/install-hdfs, .ci/install-ceph): a skipped tier is a failure.
if (process.env.CI && !(tiers.HDFS && tiers.S3))
  throw new Error('CI: HDFS or Ceph is missing (run .ci/install-hdfs and .ci/install-ceph)');

it('bench (quick): every scenario produces results, bytes in = bytes out', async () => {
  if (!existsSync(join(PACKAGE_ROOT, 'dist/client/index.js')))
    throw new Error('dist/ is missing: run `npm run build` (npm test does)');
  const { runBench } = (await import(pathToFileURL(join(PACKAGE_ROOT, 'bench/run.mjs')).href)) as {
    runBench: (o: Record<string, unknown>, q: { quiet: boolean }) => Promise<BenchResults>;
  };
  const r = await runBench({ quick: true, 'no-results': true }, { quiet: true });
  expect(r.summary.failed).toEqual([]);
  // Scenario 8: an ingest and a read row per tier, or one "skipped" row when not installed.
  const remote = Object.values(tiers).flatMap((up) => (up ? [8, 8] : [8]));
  expect(r.summary.rows.map((x) => x.id)).toEqual([1, 2, 3, 4, 5, 6, ...remote, 9, 10, 10, 10]);
  for (const [tier, up] of Object.entries(tiers)) {
    const rows = r.summary.rows.filter((x) => x.id === 8 && x.what.startsWith(`${tier} `));
    if (up) expect(rows).toHaveLength(2);
    else
      expect(r.summary.rows.find((x) => x.what === `remote tier ${tier}`)?.measured).toMatch(
        /^skipped: /,
      );
  }
  // Row 9 reads every worker's peak accounted memory: one single worker, two replicated, one
  // remote-only worker per tier that ran, and scenario 10's three (plain, auth, auth + TLS).
  const remoteWorkers = Object.values(tiers).filter(Boolean).length;
  expect(r.raw.memory).toHaveLength(3 + remoteWorkers + 3);
  for (const w of r.raw.memory) expect(w.peakUsedBytes).toBeGreaterThan(0);
  // Every row has a ratio to its baseline but the disk's and scenario 10's plain row (which
  // is the baseline of the other two).
  const security = r.summary.rows.filter((x) => x.id === 10);
  expect(security.map((x) => x.measured)).toEqual(
    Array.from({ length: 3 }, () => expect.stringMatching(/^ingest \d+ MB\/s, read \d+ MB\/s;/)),
  );
  for (const row of r.summary.rows.slice(1))
    if (!row.measured.startsWith('skipped: ') && row !== security[0])
      expect(Number.isFinite(row.ratio), `${row.id} ${row.what}`).toBe(true);
  expect(r.raw.sweep.length).toBeGreaterThan(0);
  // Each sweep point has its own CPU per GB and sampled peaks. A quick point (32 MiB) may
  // finish between two samples (every 200 ms) and between two of the kernel's CPU ticks, so
  // the worker's figures may be 0 here; the pushers' CPU is counted in microseconds.
  for (const p of r.raw.sweep) {
    expect(p.workerCpuSecondsPerGB).toBeGreaterThanOrEqual(0);
    expect(p.pusherCpuSecondsPerGB).toBeGreaterThan(0);
    expect(p.peakUsedBytes).toBeGreaterThanOrEqual(0);
    expect(p.peakUsedBytes).toBeLessThanOrEqual(r.raw.memory[0]!.peakUsedBytes);
    expect(p.peakRssBytes).toBeGreaterThan(p.peakUsedBytes);
  }
  // Scenario 10: an ingest and a read check per configuration.
  expect(r.summary.checks.length).toBeGreaterThanOrEqual(10 + 3 * remoteWorkers + 6);
  for (const c of r.summary.checks) expect(c.out, c.what).toBe(c.in);
  expect(r.summary.consistent).toBe(true);
}, 180_000);
