// Dexter's expected time and cost of finishing a stage at a scaling level (the Dexter paper,
// Algorithm 1 lines 1–10, eq. 1). Shared by Dexter's search and the Sluice agent's.

export interface Pricing {
  readonly cores: number;
  readonly memoryGb: number;
  /** $/vCPU·h and $/GB·h (docs/architecture.md#allocation-agent defaults 0.154 and 0.0146). */
  readonly priceCpuHour: number;
  readonly priceGbHour: number;
}

export const DEFAULT_PRICING: Pricing = Object.freeze({
  cores: 4,
  memoryGb: 16,
  priceCpuHour: 0.154,
  priceGbHour: 0.0146,
});

/** E[T] = ceil(missing / (SL × cores)) × avgTaskTime. */
export function expectedTime(
  level: number,
  missingTasks: number,
  avgTaskSeconds: number,
  cores: number,
): number {
  return Math.ceil(missingTasks / (level * cores)) * avgTaskSeconds;
}

/** E[C] = E[T]/3600 × SL × (cores × priceCpuHour + memGB × priceGbHour). */
export function expectedCost(level: number, expectedSeconds: number, p: Pricing): number {
  return (expectedSeconds / 3600) * level * (p.cores * p.priceCpuHour + p.memoryGb * p.priceGbHour);
}

/** Dexter §6.1 eq. 2: the search interval grows with the average task runtime. */
export function searchInterval(avgTaskSeconds: number): number {
  return 5.77 * avgTaskSeconds + 1.89;
}
