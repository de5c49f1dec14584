import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runSim } from './run.js';

describe('sluice sim (fast variant)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-sim-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints tables, reports progress, writes JSON and SVG', () => {
    let out = '';
    let err = '';
    const r = runSim({
      outDir: dir,
      seed: 1,
      fast: true,
      stdout: (s) => (out += s),
      stderr: (s) => (err += s),
    });
    expect(out).toMatch(/^TOTAL\s+sluice\s/m);
    expect(out).toContain('tpch-q21');
    expect(err).toContain('[tpch]');
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as {
      summaries: { suite: string; totals: { policy: string; costRatio: number }[] }[];
    };
    expect(summary.summaries.map((s) => s.suite)).toEqual(['tpch', 'saturated-shuffle']);
    const sluice = summary.summaries[0]!.totals.find((t) => t.policy === 'sluice')!;
    expect(sluice.costRatio).toBeGreaterThan(1);
    const svg = readFileSync(join(dir, 'tpch-cost.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('</svg>');
    expect(r.files.filter((f) => f.endsWith('.svg')).length).toBe(6);
  });
});
