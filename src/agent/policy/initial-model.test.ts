import { describe, expect, it } from 'vitest';
import { fallbackLevel, initialLevel, predictLevel, trainStumps } from './initial-model.js';
import type { StageFeatures } from './types.js';

const f = (tasks: number, parentShuffles = 0): StageFeatures => ({
  tasks,
  inputBytes: tasks * 128e6,
  shuffleReadBytes: 0,
  shuffleWriteBytes: 0,
  parentShuffles,
  partitions: tasks,
  skew: 1,
});

describe('initial point model (boosted decision stumps)', () => {
  it('learns a level that depends on the task count', () => {
    const samples = [1, 2, 4, 8, 16, 64, 128, 200, 250].map((t) => ({
      features: f(t),
      level: t < 50 ? 2 : 8,
    }));
    const m = trainStumps(samples, 200, 0.2);
    expect(predictLevel(m, f(3))).toBeCloseTo(2, 0);
    expect(predictLevel(m, f(220))).toBeCloseTo(8, 0);
    expect(JSON.parse(JSON.stringify(m))).toEqual(m);
  });

  it.each([
    [1, 1],
    [8, 1],
    [9, 2],
    [400, 50],
    [1000, 50],
  ])('fallback clamp(ceil(%i tasks / 8), 1, 50) = %i', (tasks, want) => {
    expect(fallbackLevel(tasks, 4, 50)).toBe(want);
  });

  it('rounds the prediction down and never below 1 (Dexter §3.2.3)', () => {
    const m = trainStumps([{ features: f(10), level: 0.2 }]);
    expect(initialLevel(m, f(10), 4, 50)).toBe(1);
    const m2 = trainStumps([
      { features: f(10), level: 6.9 },
      { features: f(20), level: 6.9 },
    ]);
    expect(initialLevel(m2, f(10), 4, 50)).toBe(6);
    expect(initialLevel(undefined, f(100), 4, 50)).toBe(13);
  });
});
