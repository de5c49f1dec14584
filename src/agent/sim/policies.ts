// The policies the simulator compares (docs/architecture.md#allocation-agent), built per application.
import { DEFAULT_GUARD } from '../policy/guard.js';
import { initialLevel, type StumpModel } from '../policy/initial-model.js';
import { SparkDefaultPolicy, StaticPolicy } from '../policy/spark-default.js';
import { StagePolicy } from '../policy/stage-policy.js';
import type { AllocationPolicy } from '../policy/types.js';
import type { SimModel } from './model.js';
import { Rng } from './rng.js';

export const POLICY_NAMES = [
  'spark-default',
  'spark-default-fair',
  'static-50',
  'dexter',
  'sluice',
  'sluice-unguarded',
  'oracle',
] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

export interface PolicyContext {
  readonly model: SimModel;
  readonly seed: number;
  /** Initial-point model trained on other applications' history (leave-one-out). */
  readonly initialModel: StumpModel | undefined;
  /** Oracle level per stage id. */
  readonly oracle: ReadonlyMap<number, number>;
}

export function makePolicy(name: PolicyName, ctx: PolicyContext): AllocationPolicy {
  const cores = ctx.model.executor.cores;
  const pricing = {
    cores,
    memoryGb: ctx.model.executor.memoryGb,
    priceCpuHour: ctx.model.executor.priceCpuHour,
    priceGbHour: ctx.model.executor.priceGbHour,
  };
  const predicted = (_id: number, f: Parameters<typeof initialLevel>[1]) =>
    initialLevel(ctx.initialModel, f, cores, ctx.model.executor.maxExecutors);
  switch (name) {
    case 'spark-default':
    case 'spark-default-fair':
      return new SparkDefaultPolicy({ maxExecutors: ctx.model.executor.maxExecutors }, name);
    case 'static-50':
      return new StaticPolicy(50);
    case 'dexter': {
      const rng = Rng.derive(ctx.seed, 'dexter-candidates');
      return new StagePolicy({
        name,
        search: 'dexter',
        initial: predicted,
        pricing,
        reassignFree: true,
        random: () => rng.next(),
      });
    }
    case 'sluice':
    case 'sluice-unguarded':
      return new StagePolicy({
        name,
        search: 'sluice',
        initial: predicted,
        pricing,
        drainWhenNoPending: true,
        ...(name === 'sluice' ? { guard: DEFAULT_GUARD } : {}),
      });
    case 'oracle':
      return new StagePolicy({
        name,
        search: 'none',
        initial: (id) => ctx.oracle.get(id) ?? 1,
        pricing,
        drainWhenNoPending: true,
      });
  }
}
