// Tables and JSON of a suite run (docs/operations.md#metrics, docs/architecture.md#allocation-agent): per workload and per policy the runtime,
// cost, efficiency against Spark's default (Dexter eq. 3), peak executors and the mean
// per-stage error against the oracle, plus the suite totals.
import type { PolicyName } from './policies.js';
import type { SimResult } from './result.js';
import type { SuiteResult } from './suite.js';

export const BASELINE: PolicyName = 'spark-default';

export interface Row {
  readonly app: string;
  readonly policy: PolicyName;
  readonly runtimeSeconds: number;
  readonly cost: number;
  /** (runtime × cost of Spark default) / (runtime × cost of this policy). */
  readonly efficiency: number;
  readonly costRatio: number;
  readonly slowdown: number;
  readonly peakExecutors: number;
  readonly stageError: number;
}

export interface SuiteSummary {
  readonly suite: string;
  readonly seed: number;
  readonly rows: readonly Row[];
  /** Suite totals: runtime and cost summed over the workloads, ratios of the sums. */
  readonly totals: readonly Row[];
}

function row(app: string, policy: PolicyName, r: SimResult, base: SimResult, err: number): Row {
  return {
    app,
    policy,
    runtimeSeconds: r.runtimeSeconds,
    cost: r.cost,
    efficiency: (base.runtimeSeconds * base.cost) / (r.runtimeSeconds * r.cost),
    costRatio: base.cost / r.cost,
    slowdown: r.runtimeSeconds / base.runtimeSeconds,
    peakExecutors: r.peakExecutors,
    stageError: err,
  };
}

export function summarize(s: SuiteResult): SuiteSummary {
  const rows: Row[] = [];
  for (const a of s.apps) {
    const base = a.results[BASELINE];
    if (!base) continue;
    for (const p of s.policies) {
      const r = a.results[p];
      if (r) rows.push(row(a.app, p, r, base, a.stageError[p] ?? NaN));
    }
  }
  const totals = s.policies.flatMap((p): Row[] => {
    const mine = rows.filter((r) => r.policy === p);
    const base = rows.filter((r) => r.policy === BASELINE);
    if (mine.length === 0 || base.length === 0) return [];
    const sum = (xs: readonly Row[], f: (r: Row) => number) => xs.reduce((n, r) => n + f(r), 0);
    const t = sum(mine, (r) => r.runtimeSeconds);
    const c = sum(mine, (r) => r.cost);
    const bt = sum(base, (r) => r.runtimeSeconds);
    const bc = sum(base, (r) => r.cost);
    return [
      {
        app: 'TOTAL',
        policy: p,
        runtimeSeconds: t,
        cost: c,
        efficiency: (bt * bc) / (t * c),
        costRatio: bc / c,
        slowdown: t / bt,
        peakExecutors: mine.reduce((m, r) => Math.max(m, r.peakExecutors), -Infinity),
        stageError: sum(mine, (r) => r.stageError) / mine.length,
      },
    ];
  });
  return { suite: s.name, seed: s.seed, rows, totals };
}

const COLUMNS = [
  ['workload', 14],
  ['policy', 18],
  ['runtime s', 10],
  ['cost $', 9],
  ['cost x', 7],
  ['effic. x', 9],
  ['slower x', 9],
  ['peak', 5],
  ['stage err', 9],
] as const;

export function renderTable(sum: SuiteSummary, includeRows = true): string {
  const fmt = (r: Row) =>
    [
      r.app,
      r.policy,
      r.runtimeSeconds.toFixed(0),
      r.cost.toFixed(3),
      r.costRatio.toFixed(2),
      r.efficiency.toFixed(2),
      r.slowdown.toFixed(2),
      String(r.peakExecutors),
      Number.isNaN(r.stageError) ? '-' : r.stageError.toFixed(1),
    ]
      .map((v, i) => (i < 2 ? v.padEnd(COLUMNS[i]![1]) : v.padStart(COLUMNS[i]![1])))
      .join(' ');
  const header = COLUMNS.map(([h, w], i) => (i < 2 ? h.padEnd(w) : h.padStart(w))).join(' ');
  const lines = [`${sum.suite} (seed ${sum.seed}; ratios vs ${BASELINE})`, header];
  if (includeRows) {
    let last = '';
    for (const r of sum.rows) {
      if (r.app !== last && last !== '') lines.push('');
      last = r.app;
      lines.push(fmt(r));
    }
    lines.push('');
  }
  for (const r of sum.totals) lines.push(fmt(r));
  return `${lines.join('\n')}\n`;
}
