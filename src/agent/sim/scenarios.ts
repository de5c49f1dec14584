// The shuffle-saturation scenario (docs/architecture.md#allocation-agent guard): other tenants keep the shuffle workers
// near their flush rate, so the workers sit above the pause watermark and throttle. A map
// stage then cannot push faster whatever executors it holds; executors added to it only wait.
import { terasort } from './apps.js';
import { DEFAULT_MODEL, withModel, type SimModel } from './model.js';
import type { AppSpec } from './workload.js';

export interface Scenario {
  readonly name: string;
  readonly apps: readonly AppSpec[];
  readonly model: SimModel;
}

/** Background pushes at 95% of the workers' flush rate, memory at 90% when the app starts. */
export function saturatedShuffleScenario(base: SimModel = DEFAULT_MODEL): Scenario {
  const flush = base.shuffle.flushBytesPerSec * base.shuffle.workers;
  return {
    name: 'saturated-shuffle',
    apps: [terasort(50)],
    model: withModel(base, {
      shuffle: { backgroundBytesPerSec: 0.95 * flush, initialMemoryFraction: 0.9 },
    }),
  };
}
