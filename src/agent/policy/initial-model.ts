// The initial point of a stage (docs/architecture.md#allocation-agent, Dexter §3.2.1): a regression over stage features
// known before the stage runs, trained on the levels past stages settled on. Dexter deployed
// boosted decision stumps (BDS); so do we: each round fits one threshold split on one feature
// to the residuals. The model is plain JSON so the agent can keep it in SQLite.
import type { StageFeatures } from './types.js';

export interface Stump {
  readonly feature: number;
  readonly threshold: number;
  readonly left: number;
  readonly right: number;
}

export interface StumpModel {
  readonly kind: 'bds';
  readonly base: number;
  readonly rate: number;
  readonly stumps: readonly Stump[];
  readonly samples: number;
}

export interface TrainingSample {
  readonly features: StageFeatures;
  readonly level: number;
}

export function featureVector(f: StageFeatures): number[] {
  return [
    f.tasks,
    Math.log1p(f.inputBytes),
    Math.log1p(f.shuffleReadBytes),
    Math.log1p(f.shuffleWriteBytes),
    f.parentShuffles,
    f.skew,
  ];
}

export function trainStumps(
  samples: readonly TrainingSample[],
  rounds = 100,
  rate = 0.1,
): StumpModel {
  const xs = samples.map((s) => featureVector(s.features));
  const ys = samples.map((s) => s.level);
  const base = ys.length ? ys.reduce((a, b) => a + b, 0) / ys.length : 1;
  const pred = ys.map(() => base);
  const stumps: Stump[] = [];
  for (let r = 0; r < rounds && ys.length > 1; r++) {
    const resid = ys.map((y, i) => y - pred[i]!);
    const st = bestStump(xs, resid);
    if (!st) break;
    stumps.push(st);
    for (let i = 0; i < xs.length; i++) pred[i]! += rate * apply(st, xs[i]!);
  }
  return { kind: 'bds', base, rate, stumps, samples: ys.length };
}

function apply(st: Stump, x: readonly number[]): number {
  return x[st.feature]! <= st.threshold ? st.left : st.right;
}

/** The split minimising squared error, over every feature and every midpoint. */
function bestStump(xs: readonly number[][], resid: readonly number[]): Stump | undefined {
  let best: Stump | undefined;
  let bestSse = Infinity;
  const dims = xs[0]?.length ?? 0;
  for (let f = 0; f < dims; f++) {
    const order = xs.map((_, i) => i).sort((a, b) => xs[a]![f]! - xs[b]![f]!);
    const total = resid.reduce((a, b) => a + b, 0);
    let leftSum = 0;
    for (let k = 0; k < order.length - 1; k++) {
      const i = order[k]!;
      leftSum += resid[i]!;
      const here = xs[i]![f]!;
      const after = xs[order[k + 1]!]![f]!;
      if (here === after) continue;
      const nl = k + 1;
      const nr = order.length - nl;
      const l = leftSum / nl;
      const rr = (total - leftSum) / nr;
      // SSE up to a constant: −(nl·l² + nr·r²).
      const sse = -(nl * l * l + nr * rr * rr);
      if (sse < bestSse) {
        bestSse = sse;
        best = { feature: f, threshold: (here + after) / 2, left: l, right: rr };
      }
    }
  }
  return best;
}

export function predictLevel(model: StumpModel, f: StageFeatures): number {
  const x = featureVector(f);
  let y = model.base;
  for (const st of model.stumps) y += model.rate * apply(st, x);
  return y;
}

/** Fallback (docs/architecture.md#allocation-agent) when there is no history: clamp(ceil(tasks / (cores × 2)), 1, max). */
export function fallbackLevel(tasks: number, cores: number, max: number): number {
  return Math.min(max, Math.max(1, Math.ceil(tasks / (cores * 2))));
}

/** Dexter §3.2.3: the prediction is rounded down, and 1 if below 1. */
export function initialLevel(
  model: StumpModel | undefined,
  f: StageFeatures,
  cores: number,
  max: number,
): number {
  if (!model || model.samples === 0) return fallbackLevel(f.tasks, cores, max);
  return Math.min(max, Math.max(1, Math.floor(predictLevel(model, f))));
}
