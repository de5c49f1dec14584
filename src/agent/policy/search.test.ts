import { describe, expect, it } from 'vitest';
import { DEFAULT_PRICING, expectedCost, expectedTime, searchInterval } from './cost.js';
import { dexterCandidate, dexterSearchStep } from './dexter-search.js';
import { guardActive } from './guard.js';
import { initialSearchState, sluiceSearchStep, type SluiceSearchState } from './sluice-search.js';

const base = { stepSize: 2, maxSL: 50, pricing: DEFAULT_PRICING };

describe("Dexter's formulas (Algorithm 1, eq. 1–2)", () => {
  it.each([
    [10, 100, 2, 6], // ceil(100 / 40) = 3 waves × 2 s
    [1, 4, 3, 3],
    [25, 100, 2, 2],
  ])('E[T](SL=%i, missing=%i, ATR=%f) = %f', (sl, missing, atr, want) => {
    expect(expectedTime(sl, missing, atr, 4)).toBe(want);
  });

  it('E[C] bills SL executors of 4 vCPU and 16 GB for E[T]', () => {
    expect(expectedCost(10, 3600, DEFAULT_PRICING)).toBeCloseTo(10 * (4 * 0.154 + 16 * 0.0146));
  });

  it('search interval = 5.77 × ATR + 1.89 s', () => {
    expect(searchInterval(2)).toBeCloseTo(13.43);
  });
});

describe("Dexter's search step as published", () => {
  it('first step keeps the initial level as optimum and probes above it', () => {
    const r = dexterSearchStep(
      { optSL: 5, etOpt: 0, ecOpt: 0 },
      { ...base, missingTasks: 100, avgTaskSeconds: 2, currSL: 5, random: () => 0 },
    );
    expect(r.state.optSL).toBe(5);
    expect(r.candidate).toBe(6);
  });

  it('accepts a slower, costlier level because the reference is stale (fewer tasks missing now)', () => {
    // opt: 5 executors, estimated when 200 tasks were missing at ATR 2 s → 10 waves, 20 s.
    const stale = { optSL: 5, etOpt: 20, ecOpt: expectedCost(5, 20, DEFAULT_PRICING) };
    // now: 7 executors with ATR 4 s (contention doubled task time), 60 tasks missing.
    const r = dexterSearchStep(stale, {
      ...base,
      missingTasks: 60,
      avgTaskSeconds: 4,
      currSL: 7,
      random: () => 0,
    });
    expect(r.state.optSL).toBe(7);
    expect(r.candidate).toBeGreaterThan(7);
  });

  it.each([
    // [newOpt, opt, curr, rand, want]: lower range only when curr jumped > step above opt
    [5, 5, 5, 0, 6],
    [5, 5, 5, 0.99, 7],
    [5, 5, 9, 0, 3],
    [5, 5, 9, 0.99, 4],
    [1, 1, 9, 0.5, 1],
  ])('candidate(newOpt=%i, opt=%i, curr=%i, r=%f) = %i', (newOpt, opt, curr, r, want) => {
    expect(dexterCandidate(newOpt, opt, curr, 2, 50, () => r)).toBe(want);
  });
});

describe('the Sluice search step (docs/architecture.md#allocation-agent corrections)', () => {
  const measured = (optSL: number, atrOpt: number): SluiceSearchState => ({
    optSL,
    atrOpt,
    direction: 1,
    converged: false,
  });

  it('rejects the level Dexter accepts: both compared on the same remaining work', () => {
    const r = sluiceSearchStep(measured(5, 2), {
      ...base,
      missingTasks: 60,
      avgTaskSeconds: 4,
      currSL: 7,
      guarded: false,
    });
    expect(r.state.optSL).toBe(5);
    expect(r.state.direction).toBe(-1);
    expect(r.candidate).toBe(3);
  });

  it('accepts a level that lowers E[T] × E[C] and keeps climbing', () => {
    const r = sluiceSearchStep(measured(5, 2), {
      ...base,
      missingTasks: 400,
      avgTaskSeconds: 2.05,
      currSL: 7,
      guarded: false,
    });
    expect(r.state.optSL).toBe(7);
    expect(r.candidate).toBe(9);
  });

  it('does not probe up when the step would not remove a wave of the remaining work', () => {
    // 20 missing tasks on 5 executors = 1 wave already.
    const r = sluiceSearchStep(initialSearchState(5), {
      ...base,
      missingTasks: 20,
      avgTaskSeconds: 2,
      currSL: 5,
      guarded: false,
    });
    expect(r.candidate).toBeLessThanOrEqual(5);
  });

  it('takes a step down directly when it adds no wave (last-wave waste)', () => {
    // 12 missing tasks: 10 executors and 8 executors both finish them in one wave.
    const r = sluiceSearchStep(measured(10, 2), {
      ...base,
      missingTasks: 12,
      avgTaskSeconds: 2,
      currSL: 10,
      guarded: false,
    });
    expect(r.candidate).toBe(8);
    expect(r.state.optSL).toBe(8);
  });

  it('a rejected step down ends the climb', () => {
    const s: SluiceSearchState = { optSL: 6, atrOpt: 2, direction: -1, converged: false };
    const r = sluiceSearchStep(s, {
      ...base,
      missingTasks: 400,
      avgTaskSeconds: 2,
      currSL: 4,
      guarded: false,
    });
    expect(r.state.converged).toBe(true);
    expect(r.candidate).toBe(6);
  });

  it('never steps up while the guard holds the stage', () => {
    const r = sluiceSearchStep(initialSearchState(5), {
      ...base,
      missingTasks: 400,
      avgTaskSeconds: 2,
      currSL: 5,
      guarded: true,
    });
    expect(r.candidate).toBeLessThanOrEqual(5);
  });
});

describe('shuffle-capacity guard (80% on, 60% off, throttling always on)', () => {
  it.each([
    [false, 0.5, false, false],
    [false, 0.8, false, false],
    [false, 0.81, false, true],
    [false, 0.1, true, true],
    [true, 0.7, false, true],
    [true, 0.6, false, true],
    [true, 0.59, false, false],
  ])('was=%s mem=%f throttling=%s → %s', (was, mem, thr, want) => {
    expect(guardActive(was, mem, thr)).toBe(want);
  });
});
