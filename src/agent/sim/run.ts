// `sluice sim` (docs/architecture.md#allocation-agent): runs the suites, prints per-workload tables, writes JSON and SVG
// charts to the results directory. Progress goes to stderr, tables to stdout.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pagerank, terasort } from './apps.js';
import { DEFAULT_MODEL } from './model.js';
import { POLICY_NAMES, type PolicyName } from './policies.js';
import { renderTable, summarize, type SuiteSummary } from './report.js';
import { saturatedShuffleScenario } from './scenarios.js';
import { runSuite, type SuiteResult } from './suite.js';
import { barChart, timelineChart } from './svg.js';
import { TPCH_QUERIES, tpchSuite } from './tpch.js';

export interface SimRunOptions {
  readonly outDir: string;
  readonly seed: number;
  /** The fast variant: a few TPC-H queries and the guard scenario only. */
  readonly fast: boolean;
  readonly stdout: (s: string) => void;
  readonly stderr: (s: string) => void;
}

const FAST_QUERIES = ['q1', 'q3', 'q7', 'q13', 'q21'];
const GUARD_POLICIES: readonly PolicyName[] = [
  'spark-default',
  'dexter',
  'sluice',
  'sluice-unguarded',
];

export interface SimRunOutput {
  readonly summaries: readonly SuiteSummary[];
  readonly files: readonly string[];
}

export function runSim(o: SimRunOptions): SimRunOutput {
  mkdirSync(o.outDir, { recursive: true });
  const progress = (suite: string) => (done: number, total: number, label: string) =>
    o.stderr(`\r[${suite}] ${done}/${total} ${label}`.padEnd(70).slice(0, 90));
  const run = (
    name: string,
    extra: Omit<Parameters<typeof runSuite>[0], 'name' | 'onProgress'>,
  ) => {
    const r = runSuite({ name, seed: o.seed, onProgress: progress(name), ...extra });
    o.stderr('\n');
    return r;
  };
  const queries = o.fast ? FAST_QUERIES : Object.keys(TPCH_QUERIES);
  const tpch = run('tpch', { apps: tpchSuite(o.seed, queries) });
  const suites: SuiteResult[] = [tpch];
  if (!o.fast) {
    const unseen = { extraHistory: tpch.history };
    suites.push(
      run('terasort', { apps: [25, 50, 100].map((g) => terasort(g, o.seed)), ...unseen }),
    );
    suites.push(
      run('pagerank', { apps: [10, 20, 40].map((k) => pagerank(k, 10, o.seed)), ...unseen }),
    );
  }
  const sc = saturatedShuffleScenario(DEFAULT_MODEL);
  suites.push(
    run(sc.name, {
      apps: sc.apps,
      model: sc.model,
      extraHistory: tpch.history,
      policies: GUARD_POLICIES,
      withoutOracle: true,
    }),
  );
  const summaries = suites.map(summarize);
  for (const s of summaries) o.stdout(`${renderTable(s)}\n`);
  return { summaries, files: writeResults(o.outDir, suites, summaries) };
}

function writeResults(
  dir: string,
  suites: readonly SuiteResult[],
  summaries: readonly SuiteSummary[],
): string[] {
  const files: string[] = [];
  const write = (name: string, body: string) => {
    const path = join(dir, name);
    writeFileSync(path, body);
    files.push(path);
  };
  write(
    'summary.json',
    JSON.stringify({ model: DEFAULT_MODEL, generatedBy: 'sluice sim', summaries }, null, 2),
  );
  for (const [i, s] of suites.entries()) {
    const sum = summaries[i]!;
    const detail = s.apps.map((a) => ({
      app: a.app,
      oracle: Object.fromEntries(a.oracle),
      stageError: a.stageError,
      results: a.results,
    }));
    write(`${s.name}.json`, JSON.stringify({ suite: s.name, seed: s.seed, apps: detail }));
    const policies = s.policies.filter((p) => POLICY_NAMES.includes(p));
    write(
      `${s.name}-cost.svg`,
      barChart(`${s.name}: cost per workload`, sum.rows, policies, (r) => r.cost, 'USD'),
    );
    write(
      `${s.name}-efficiency.svg`,
      barChart(
        `${s.name}: efficiency vs spark-default (runtime × cost ratio)`,
        sum.rows,
        policies,
        (r) => r.efficiency,
        'x',
      ),
    );
    const pick = s.apps.find((a) => a.app === 'tpch-q7') ?? s.apps[0];
    if (pick)
      write(
        `${s.name}-timeline.svg`,
        timelineChart(
          `${pick.app}: ready executors over time`,
          policies.flatMap((p) => {
            const r = pick.results[p];
            return r ? [{ policy: p, points: r.timeline }] : [];
          }),
        ),
      );
  }
  return files;
}
