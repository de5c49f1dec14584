// Runs a suite of applications under every policy (docs/architecture.md#allocation-agent) and compares them with the
// Spark default: runtime, cost, efficiency (Dexter eq. 3), peak executors, per-stage error vs
// the oracle. The initial-point model of Dexter and the Sluice agent is trained leave-one-out
// (Dexter §3.2.1): for each application, on the oracle levels of the suite's other ones.
import { trainStumps, type StumpModel, type TrainingSample } from '../policy/initial-model.js';
import { Simulation } from './engine.js';
import { DEFAULT_MODEL, withModel, type SimModel } from './model.js';
import { oracleLevels } from './oracle.js';
import { makePolicy, POLICY_NAMES, type PolicyName } from './policies.js';
import type { SimResult } from './result.js';
import { stageFeatures, type AppSpec } from './workload.js';

export interface SuiteOptions {
  readonly name: string;
  readonly apps: readonly AppSpec[];
  readonly seed?: number;
  readonly model?: SimModel;
  readonly policies?: readonly PolicyName[];
  /** History from other suites (e.g. TPC-H for unseen workloads, Dexter §6.4). */
  readonly extraHistory?: readonly TrainingSample[];
  /** Skip the oracle sweep (no oracle policy, no per-stage error, no history). */
  readonly withoutOracle?: boolean;
  readonly onProgress?: (done: number, total: number, label: string) => void;
}

export interface AppRun {
  readonly app: string;
  readonly oracle: ReadonlyMap<number, number>;
  readonly results: Readonly<Partial<Record<PolicyName, SimResult>>>;
  /** Mean |avg executors held − oracle level| over the app's stages, per policy. */
  readonly stageError: Readonly<Partial<Record<PolicyName, number>>>;
}

export interface SuiteResult {
  readonly name: string;
  readonly seed: number;
  readonly policies: readonly PolicyName[];
  readonly apps: readonly AppRun[];
  readonly history: readonly TrainingSample[];
}

export function historyOf(app: AppSpec, oracle: ReadonlyMap<number, number>): TrainingSample[] {
  return app.stages.map((s) => ({ features: stageFeatures(s), level: oracle.get(s.id) ?? 1 }));
}

export function runSuite(o: SuiteOptions): SuiteResult {
  const seed = o.seed ?? 1;
  const model = o.model ?? DEFAULT_MODEL;
  const policies = o.policies ?? POLICY_NAMES;
  const total = o.apps.length * (policies.length + 1);
  let done = 0;
  const tick = (label: string) => o.onProgress?.(++done, total, label);
  const oracles = o.apps.map((app) => {
    if (o.withoutOracle) return new Map<number, number>();
    const levels = oracleLevels(app, model, seed);
    tick(`${app.name} oracle sweep`);
    return levels;
  });
  const samples = o.apps.map((app, i) => historyOf(app, oracles[i]!));
  const runs = o.apps.map((app, i): AppRun => {
    const others = samples.filter((_, j) => j !== i).flat();
    const initialModel = trainStumps([...others, ...(o.extraHistory ?? [])]);
    const results: Partial<Record<PolicyName, SimResult>> = {};
    const stageError: Partial<Record<PolicyName, number>> = {};
    for (const name of policies) {
      const m = name === 'spark-default-fair' ? withModel(model, { scheduling: 'FAIR' }) : model;
      const policy = makePolicy(name, { model: m, seed, initialModel, oracle: oracles[i]! });
      const r = new Simulation(app, policy, { model: m, seed }).run();
      results[name] = r;
      stageError[name] = meanStageError(r, oracles[i]!);
      tick(`${app.name} ${name}`);
    }
    return { app: app.name, oracle: oracles[i]!, results, stageError };
  });
  return { name: o.name, seed, policies, apps: runs, history: samples.flat() };
}

function meanStageError(r: SimResult, oracle: ReadonlyMap<number, number>): number {
  const errs = r.stages.map((s) => Math.abs(s.avgExecutors - (oracle.get(s.id) ?? 0)));
  return errs.reduce((a, b) => a + b, 0) / Math.max(1, errs.length);
}

export function trainedModelFor(history: readonly TrainingSample[]): StumpModel {
  return trainStumps(history);
}
