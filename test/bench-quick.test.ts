// The CI variant of `npm run bench` (issue 7; the full run is `npm run bench`): every scenario
// at small sizes on real worker, manager, ESS and executor processes. It checks the harness
// produces a result for each scenario and that every measurement is consistent (bytes pushed =
// bytes committed = bytes read back; records written = records read in both shuffle modes),
// not that the numbers reach bench/README.md's targets. Needs dist/ (npm test builds it).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../src/testing/manager.js';

interface BenchResults {
  summary: {
    rows: { id: number; ratio?: number; met?: boolean }[];
    checks: { what: string; in: number; out: number }[];
    consistent: boolean;
  };
  raw: { sweep: unknown[]; memory: { peakUsedBytes: number }[] };
}

it('bench (quick): all seven scenarios produce results, bytes in = bytes out', async () => {
  if (!existsSync(join(PACKAGE_ROOT, 'dist/client/index.js')))
    throw new Error('dist/ is missing: run `npm run build` (npm test does)');
  const { runBench } = (await import(pathToFileURL(join(PACKAGE_ROOT, 'bench/run.mjs')).href)) as {
    runBench: (o: Record<string, unknown>, q: { quiet: boolean }) => Promise<BenchResults>;
  };
  const r = await runBench({ quick: true, 'no-results': true }, { quiet: true });
  expect(r.summary.rows.map((x) => x.id)).toEqual([1, 2, 3, 4, 5, 6, 8]);
  // Row 8 reads every worker's peak accounted memory: one single worker, two replicated.
  expect(r.raw.memory).toHaveLength(3);
  for (const w of r.raw.memory) expect(w.peakUsedBytes).toBeGreaterThan(0);
  for (const row of r.summary.rows.slice(1)) expect(Number.isFinite(row.ratio)).toBe(true);
  expect(r.raw.sweep.length).toBeGreaterThan(0);
  expect(r.summary.checks.length).toBeGreaterThanOrEqual(10);
  for (const c of r.summary.checks) expect(c.out, c.what).toBe(c.in);
  expect(r.summary.consistent).toBe(true);
}, 90_000);
