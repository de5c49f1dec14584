// The fast variant of the soak run (docs/development.md#tests; the full run is `npm run soak`): three
// worker processes with a 16 MiB budget, 16 concurrent writers, a few seconds. Every record
// must read back (counts, bytes and checksum per partition) and no worker's accounted memory
// may pass its budget + 10% (bench/README.md). Needs dist/ (npm test builds it).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../src/testing/manager.js';

interface SoakResults {
  verified: boolean;
  recordsVerified: number;
  recordsExpected: number;
  bytesVerified: number;
  memoryWithinBudget: boolean;
  peakMemoryRatio: number;
  pushes: number;
  memory: { workerId: string; samples: number; peakUsedBytes: number; budgetBytes: number }[];
}

it('soak (fast): concurrent writers under a small budget, memory <= budget + 10%, all data verified', async () => {
  const script = join(PACKAGE_ROOT, 'bench/soak.mjs');
  if (!existsSync(join(PACKAGE_ROOT, 'dist/client/index.js')))
    throw new Error('dist/ is missing: run `npm run build` (npm test does)');
  const { runSoak } = (await import(pathToFileURL(script).href)) as {
    runSoak: (o: Record<string, unknown>) => Promise<SoakResults>;
  };
  const r = await runSoak({
    seconds: 4,
    maps: 48,
    writers: 16,
    workers: 3,
    memoryBytes: 16 * 1024 ** 2,
    partitions: 24,
    recordsPerMap: 1_500,
    recordBytes: 1024,
    results: undefined,
    quiet: true,
  });
  expect(r.verified).toBe(true);
  expect(r.recordsVerified).toBe(r.recordsExpected);
  expect(r.recordsVerified).toBeGreaterThan(0);
  expect(r.pushes).toBeGreaterThan(0);
  for (const w of r.memory) {
    expect(w.samples, w.workerId).toBeGreaterThan(0);
    expect(w.peakUsedBytes, w.workerId).toBeGreaterThan(0);
    expect(w.peakUsedBytes, w.workerId).toBeLessThanOrEqual(w.budgetBytes * 1.1);
  }
  expect(r.memoryWithinBudget).toBe(true);
}, 90_000);
