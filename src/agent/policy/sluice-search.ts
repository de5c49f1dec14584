// The Sluice agent's search step (docs/architecture.md#allocation-agent): Dexter's hill climbing with the comparison
// corrected. Both levels are estimated on the same remaining work, each with the average task
// time measured while the stage ran at that level:
//   E[T](SL) = ceil(missing / (SL × cores)) × ATR(SL),  score = E[T] × E[C]
// A level is accepted when its score is lower. The climb is two-sided: a rejected step up
// turns the search down; a rejected step down ends it (converged). Moves whose outcome the
// model already knows are not measured: a step up that does not remove a wave of the remaining
// work cannot pay (ATR does not fall with more executors), and a step down that adds no wave
// cannot lose, so it is taken directly (last-wave waste).
import { expectedCost, expectedTime, type Pricing } from './cost.js';

export interface SluiceSearchState {
  readonly optSL: number;
  /** Average task seconds measured at optSL (NaN until the first step). */
  readonly atrOpt: number;
  readonly direction: 1 | -1;
  readonly converged: boolean;
}

export interface SluiceSearchInput {
  readonly missingTasks: number;
  readonly avgTaskSeconds: number;
  readonly currSL: number;
  readonly stepSize: number;
  readonly maxSL: number;
  readonly pricing: Pricing;
  /** The shuffle-capacity guard holds this stage: no step up. */
  readonly guarded: boolean;
}

export interface SluiceStep {
  readonly state: SluiceSearchState;
  readonly candidate: number;
}

export function initialSearchState(level: number): SluiceSearchState {
  return { optSL: level, atrOpt: NaN, direction: 1, converged: false };
}

export function score(level: number, missing: number, atr: number, p: Pricing): number {
  const t = expectedTime(level, missing, atr, p.cores);
  return t * expectedCost(level, t, p);
}

export function sluiceSearchStep(state: SluiceSearchState, input: SluiceSearchInput): SluiceStep {
  const { currSL, missingTasks: missing, avgTaskSeconds: atr, pricing: p } = input;
  let s: SluiceSearchState;
  if (Number.isNaN(state.atrOpt) || currSL === state.optSL) {
    // First measurement, or a fresh one at the optimum: refresh its task time.
    s = { ...state, optSL: currSL, atrOpt: atr };
  } else if (score(currSL, missing, atr, p) < score(state.optSL, missing, state.atrOpt, p)) {
    s = { ...state, optSL: currSL, atrOpt: atr };
  } else {
    const turn = state.direction === 1 && currSL > state.optSL;
    s = { ...state, direction: turn ? -1 : state.direction, converged: !turn };
  }
  return nextCandidate(s, input);
}

function waves(level: number, missing: number, cores: number): number {
  return Math.ceil(missing / (level * cores));
}

function nextCandidate(s: SluiceSearchState, input: SluiceSearchInput): SluiceStep {
  const { missingTasks: missing, pricing: p } = input;
  let state = s;
  if (!state.converged && state.direction === 1) {
    const up = Math.min(input.maxSL, state.optSL + input.stepSize);
    const pays = waves(up, missing, p.cores) < waves(state.optSL, missing, p.cores);
    if (up > state.optSL && pays && !input.guarded) return { state, candidate: up };
    state = { ...state, direction: -1 };
  }
  if (!state.converged) {
    const down = Math.max(1, state.optSL - input.stepSize);
    if (down === state.optSL) return { state: { ...state, converged: true }, candidate: down };
    if (waves(down, missing, p.cores) === waves(state.optSL, missing, p.cores)) {
      // Same number of waves with fewer executors: cheaper at no cost in time.
      return { state: { ...state, optSL: down }, candidate: down };
    }
    return { state, candidate: down };
  }
  const down = Math.max(1, state.optSL - input.stepSize);
  if (down < state.optSL && waves(down, missing, p.cores) === waves(state.optSL, missing, p.cores))
    state = { ...state, optSL: down };
  return { state, candidate: state.optSL };
}
