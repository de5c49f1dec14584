// Pins the simulator to the qualitative calibration points of the Dexter paper: task time grows with parallelism (§2.2, Fig. 2c), every stage saturates and
// at its own level (Fig. 2b), Spark's default ramps up exponentially (§2.1) and pays for idle
// executors, and on the TPC-H-like suite the per-stage policies land in the published range
// against it (§6.2). If a model change moves one of these, the change is wrong or the doc must
// say why.
import { beforeAll, describe, expect, it } from 'vitest';
import { SparkDefaultPolicy, StaticPolicy } from '../policy/spark-default.js';
import { Simulation } from './engine.js';
import { bestLevel, sweepStage } from './oracle.js';
import { efficiency } from './result.js';
import { runSuite, type SuiteResult } from './suite.js';
import { tpchQuery, tpchSuite } from './tpch.js';

function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * q))]!;
}

describe('task level (Dexter Fig. 2c: q21 stage 1, p90 3.1 s on 1 executor, 13.5 s on 30)', () => {
  it('task times grow about 4x from 1 to 30 executors, and spread more', () => {
    const stage = { ...tpchQuery('q21').stages[0]!, parents: [] };
    const p90 = (e: number) => {
      const r = new Simulation({ name: 'q21-s0', stages: [stage] }, new StaticPolicy(e), {
        warmExecutors: e,
        recordTasks: true,
      }).run();
      const d = r.stages[0]!.taskSeconds!;
      return { p90: quantile(d, 0.9), max: Math.max(...d) };
    };
    const one = p90(1);
    const thirty = p90(30);
    expect(one.p90).toBeGreaterThan(2.5);
    expect(one.p90).toBeLessThan(4);
    expect(thirty.p90 / one.p90).toBeGreaterThan(3);
    expect(thirty.p90 / one.p90).toBeLessThan(6);
    expect(thirty.max - thirty.p90).toBeGreaterThan(one.max - one.p90);
  });
});

describe('stage level (Dexter Fig. 2b: saturation per stage, 7 and 4 executors in q21)', () => {
  const app = tpchQuery('q21');
  const sweeps = app.stages.map((s) => sweepStage(s));

  it('big stages saturate: past the best level runtime barely improves while cost climbs', () => {
    for (const [i, pts] of sweeps.entries()) {
      if (app.stages[i]!.tasks < 100) continue;
      const best = bestLevel(pts);
      const at = (e: number) => pts[e - 1]!;
      expect(best).toBeGreaterThanOrEqual(3);
      expect(best).toBeLessThanOrEqual(12);
      expect(at(1).seconds / at(best).seconds).toBeGreaterThan(2);
      // 50 executors: at most 1.6x faster than the saturation point, at least 3x the cost.
      expect(at(best).seconds / at(50).seconds).toBeLessThan(1.6);
      expect(at(50).cost / at(best).cost).toBeGreaterThan(3);
    }
  });

  it('saturation points differ between the stages of one query', () => {
    const levels = new Set(sweeps.filter((p) => p.length > 4).map((p) => bestLevel(p)));
    expect(levels.size).toBeGreaterThanOrEqual(3);
  });
});

describe("Spark's default dynamic allocation", () => {
  it('ramps exponentially: 1 s backlog, then double every second up to maxNeeded', () => {
    const policy = new SparkDefaultPolicy();
    new Simulation(tpchQuery('q21'), policy, { seed: 1 }).run();
    const ramp = policy.targetHistory.slice(0, 6);
    expect(ramp.map((r) => r.target)).toEqual([2, 4, 8, 16, 32, 50]);
    for (let i = 1; i < ramp.length; i++) expect(ramp[i]!.t - ramp[i - 1]!.t).toBeCloseTo(1, 0);
    expect(ramp[0]!.t).toBeCloseTo(1, 0);
  });
});

describe('TPC-H-like suite vs Spark default (Dexter §6.2: 2.02–4.65x cost, 1.50–3.50x efficiency)', () => {
  let suite: SuiteResult;
  beforeAll(() => {
    suite = runSuite({
      name: 'tpch',
      apps: tpchSuite(1),
      policies: ['spark-default', 'dexter', 'sluice', 'oracle'],
    });
  });
  const total = (p: 'spark-default' | 'dexter' | 'sluice') => {
    let runtimeSeconds = 0;
    let cost = 0;
    let executorSeconds = 0;
    let busyExecutorSeconds = 0;
    for (const a of suite.apps) {
      const r = a.results[p]!;
      runtimeSeconds += r.runtimeSeconds;
      cost += r.cost;
      executorSeconds += r.executorSeconds;
      busyExecutorSeconds += r.busyExecutorSeconds;
    }
    return { runtimeSeconds, cost, executorSeconds, busyExecutorSeconds };
  };

  it('the default policy pays for idle executors: several times what the agent idles', () => {
    const idleSeconds = (p: 'spark-default' | 'sluice') => {
      const t = total(p);
      return t.executorSeconds - t.busyExecutorSeconds;
    };
    const base = total('spark-default');
    expect(idleSeconds('spark-default') / base.executorSeconds).toBeGreaterThan(0.2);
    expect(idleSeconds('spark-default') / idleSeconds('sluice')).toBeGreaterThan(2);
  });

  it('the Sluice agent: cost >= 2x lower, efficiency >= 1.5x, at most 2x slower', () => {
    const base = total('spark-default');
    const agent = total('sluice');
    expect(base.cost / agent.cost).toBeGreaterThanOrEqual(2);
    expect(agent.runtimeSeconds / base.runtimeSeconds).toBeLessThanOrEqual(2);
    expect((base.runtimeSeconds * base.cost) / (agent.runtimeSeconds * agent.cost)).toBeGreaterThan(
      1.5,
    );
    const perQuery = suite.apps.map((a) => {
      const b = a.results['spark-default']!;
      const s = a.results.sluice!;
      return {
        cost: b.cost / s.cost,
        eff: efficiency(b, s),
        slow: s.runtimeSeconds / b.runtimeSeconds,
      };
    });
    const most = Math.ceil(suite.apps.length / 2);
    expect(perQuery.filter((q) => q.cost >= 2).length).toBeGreaterThanOrEqual(most);
    expect(perQuery.filter((q) => q.eff >= 1.5).length).toBeGreaterThanOrEqual(most);
    expect(perQuery.every((q) => q.slow <= 2)).toBe(true);
  });

  it('the Sluice agent is cheaper than Dexter and closer to the oracle per stage', () => {
    expect(total('sluice').cost).toBeLessThan(total('dexter').cost);
    const err = (p: 'dexter' | 'sluice') =>
      suite.apps.reduce((n, a) => n + a.stageError[p]!, 0) / suite.apps.length;
    expect(err('sluice')).toBeLessThan(err('dexter'));
  });
});
