// The shuffle-capacity guard (docs/architecture.md#allocation-agent, ours): while the workers serving a stage's shuffle
// are above 80% memory or throttling, map stages are not scaled up; the hold lifts once memory
// is back below 60% and nothing is throttled. Hysteresis keeps it from flapping.

export interface GuardThresholds {
  readonly high: number;
  readonly low: number;
}

export const DEFAULT_GUARD: GuardThresholds = Object.freeze({ high: 0.8, low: 0.6 });

export function guardActive(
  wasActive: boolean,
  memoryFraction: number,
  throttling: boolean,
  t: GuardThresholds = DEFAULT_GUARD,
): boolean {
  if (throttling) return true;
  if (wasActive) return memoryFraction >= t.low;
  return memoryFraction > t.high;
}
