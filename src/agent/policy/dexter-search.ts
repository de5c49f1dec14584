// Dexter's search module exactly as published (the Dexter paper, Algorithm 1). The reference
// point (E[T]opt, E[C]opt) is the estimate made when the optimum was accepted, i.e. for the
// work that was missing *then*; the current level is estimated for the work missing *now*.
// Because missing work only shrinks, the current level looks faster and cheaper than the
// stale optimum and scale-ups keep being accepted — the flaw docs/architecture.md#allocation-agent corrects.
//
// The OCR of lines 28–29 and 38–39 is ambiguous; we read them so that both branches are a
// return-on-investment test: perfVariation = E[T]opt / E[T]curr (speed-up),
// costVariation = E[C]curr / E[C]opt (cost growth); scale-down accepts when the slow-down
// |1 − perfVariation| is smaller than the cost reduction E[C]opt / E[C]curr − 1.
import { expectedCost, expectedTime, type Pricing } from './cost.js';

export interface DexterState {
  readonly optSL: number;
  /** 0 until the first search step (Algorithm 1 line 24). */
  readonly etOpt: number;
  readonly ecOpt: number;
}

export interface SearchInput {
  readonly missingTasks: number;
  readonly avgTaskSeconds: number;
  readonly currSL: number;
  readonly stepSize: number;
  readonly maxSL: number;
  readonly pricing: Pricing;
  /** Uniform [0,1): Dexter picks the candidate at random in its range (line 18). */
  readonly random: () => number;
}

export interface DexterStep {
  readonly state: DexterState;
  readonly candidate: number;
}

export function dexterCandidate(
  newOptSL: number,
  optSL: number,
  currSL: number,
  stepSize: number,
  maxSL: number,
  random: () => number,
): number {
  let lo: number;
  let hi: number;
  if (Math.abs(currSL - optSL) > stepSize && optSL < currSL) {
    lo = Math.max(1, newOptSL - stepSize);
    hi = Math.max(lo, newOptSL - 1);
  } else {
    lo = newOptSL + 1;
    hi = newOptSL + stepSize;
  }
  const cand = lo + Math.floor(random() * (hi - lo + 1));
  return Math.min(maxSL, Math.max(1, cand));
}

export function dexterSearchStep(state: DexterState, input: SearchInput): DexterStep {
  const { currSL, pricing: p } = input;
  const etCurr = expectedTime(currSL, input.missingTasks, input.avgTaskSeconds, p.cores);
  const ecCurr = expectedCost(currSL, etCurr, p);
  const cand = (newOpt: number) =>
    dexterCandidate(newOpt, state.optSL, currSL, input.stepSize, input.maxSL, input.random);
  if (state.etOpt === 0) {
    return { state: { optSL: state.optSL, etOpt: etCurr, ecOpt: ecCurr }, candidate: cand(currSL) };
  }
  const perfVariation = state.etOpt / etCurr;
  const costVariation = ecCurr / state.ecOpt;
  let next = state;
  if (state.optSL <= currSL) {
    if (perfVariation > costVariation) next = { optSL: currSL, etOpt: etCurr, ecOpt: ecCurr };
  } else {
    const perfSlowDown = Math.abs(1 - perfVariation);
    const costReduction = state.ecOpt / ecCurr - 1;
    if (perfSlowDown < costReduction) next = { optSL: currSL, etOpt: etCurr, ecOpt: ecCurr };
  }
  return { state: next, candidate: cand(next.optSL) };
}
