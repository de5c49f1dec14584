import { describe, expect, it } from 'vitest';
import { StaticPolicy } from '../policy/spark-default.js';
import { Simulation } from './engine.js';
import { EventQueue } from './event-queue.js';
import { DEFAULT_MODEL, executorPricePerSecond } from './model.js';
import { Rng } from './rng.js';
import { runSuite } from './suite.js';
import { saturatedShuffleScenario } from './scenarios.js';
import { tpchQuery, tpchSuite } from './tpch.js';

describe('simulator', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const run = (seed: number) =>
      new Simulation(tpchQuery('q3'), new StaticPolicy(10), { seed }).run();
    const a = run(7);
    expect(run(7)).toEqual(a);
    expect(run(8).runtimeSeconds).not.toBe(a.runtimeSeconds);
  });

  it('bills every executor from ready to release, idle time included', () => {
    const app = tpchQuery('q6');
    const r = new Simulation(app, new StaticPolicy(5), { warmExecutors: 5 }).run();
    expect(r.executorSeconds).toBeCloseTo(5 * r.runtimeSeconds, 6);
    expect(r.cost).toBeCloseTo(r.executorSeconds * executorPricePerSecond(DEFAULT_MODEL.executor));
    expect(r.busyExecutorSeconds).toBeLessThan(r.executorSeconds);
    expect(r.stages.every((s) => s.end >= s.start)).toBe(true);
    // Every stage starts after its parents end.
    for (const spec of app.stages)
      for (const p of spec.parents)
        expect(r.stages[spec.id]!.start).toBeGreaterThanOrEqual(r.stages[p]!.end);
  });

  it('event queue pops in time order, ties in insertion order', () => {
    const q = new EventQueue<'a' | 'b'>();
    q.push(2, 'a', 1);
    q.push(1, 'b', 2);
    q.push(1, 'a', 3);
    expect([q.pop()!.ref, q.pop()!.ref, q.pop()!.ref, q.pop()]).toEqual([2, 3, 1, undefined]);
  });

  it('rng streams are reproducible', () => {
    expect(Rng.derive(1, 'x').next()).toBe(Rng.derive(1, 'x').next());
    expect(Rng.derive(1, 'x').next()).not.toBe(Rng.derive(1, 'y').next());
  });
});

describe('saturated shuffle workers (docs/architecture.md#allocation-agent guard)', () => {
  it('the guard avoids the executors the unguarded agent pays for while pushes are throttled', () => {
    const history = runSuite({ name: 'tpch', apps: tpchSuite(1), policies: [] }).history;
    const sc = saturatedShuffleScenario();
    const r = runSuite({
      name: sc.name,
      apps: sc.apps,
      model: sc.model,
      extraHistory: history,
      withoutOracle: true,
      policies: ['sluice', 'sluice-unguarded'],
    }).apps[0]!.results;
    const guarded = r.sluice!;
    const unguarded = r['sluice-unguarded']!;
    expect(guarded.throttledSeconds).toBeGreaterThan(0.5 * guarded.runtimeSeconds);
    expect(unguarded.cost / guarded.cost).toBeGreaterThan(2);
    expect(guarded.runtimeSeconds / unguarded.runtimeSeconds).toBeLessThan(1.5);
    const map = (x: typeof guarded) => x.stages.find((s) => s.name === 'map')!;
    expect(map(guarded).avgExecutors).toBeLessThan(map(unguarded).avgExecutors);
  });
});
