import { describe, expect, it } from 'vitest';
import { SparkDefaultPolicy, StaticPolicy } from './spark-default.js';
import { appView, executorView, stageView } from './views.fixtures.js';

describe('SparkDefaultPolicy (ExecutorAllocationManager)', () => {
  it('waits the 1 s backlog timeout, then doubles each sustained second up to maxNeeded', () => {
    const p = new SparkDefaultPolicy();
    const stage = stageView({ pending: 200, tasks: 200 }); // maxNeeded = 50
    const rows: [now: number, target: number][] = [
      [0, 1],
      [0.5, 1],
      [1, 2],
      [1.5, 2],
      [2, 4],
      [3, 8],
      [4, 16],
      [5, 32],
      [6, 50],
      [7, 50],
    ];
    for (const [now, target] of rows)
      expect(p.decide(appView({ now, stages: [stage] })).appTarget, `t=${now}`).toBe(target);
  });

  it('caps the ramp at maxNeeded = ceil((pending + running) / cores)', () => {
    const p = new SparkDefaultPolicy();
    const stage = stageView({ pending: 10, running: 2, tasks: 12 }); // maxNeeded = 3
    for (const now of [0, 1, 2, 3, 4]) p.decide(appView({ now, stages: [stage] }));
    expect(p.target).toBe(3);
  });

  it('drops the target at once when the backlog shrinks, and resets the ramp', () => {
    const p = new SparkDefaultPolicy();
    const big = stageView({ pending: 200, tasks: 200 });
    for (const now of [0, 1, 2, 3]) p.decide(appView({ now, stages: [big] }));
    expect(p.target).toBe(8);
    const small = stageView({ pending: 0, running: 8, tasks: 200, completed: 192 });
    expect(p.decide(appView({ now: 3.1, stages: [small] })).appTarget).toBe(2);
  });

  it('removes executors idle for 60 s, never below the target', () => {
    const p = new SparkDefaultPolicy();
    const execs = ['a', 'b', 'c'].map((id) => executorView(id, { idleSince: 0 }));
    const running = stageView({ pending: 0, running: 4, tasks: 4 }); // maxNeeded 1
    expect(p.decide(appView({ now: 59, stages: [running], executors: execs })).release).toEqual([]);
    expect(p.decide(appView({ now: 60, stages: [running], executors: execs })).release).toEqual([
      'a',
      'b',
    ]);
  });
});

describe('StaticPolicy', () => {
  it('asks for its fixed pool and never releases', () => {
    expect(new StaticPolicy(50).decide()).toEqual({ appTarget: 50 });
  });
});
