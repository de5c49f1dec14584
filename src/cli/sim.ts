// `sluice sim`: the allocation simulator's command line (docs/operations.md#metrics, docs/architecture.md#allocation-agent).
import { ConfigError } from '../common/errors.js';
import { runSim } from '../agent/sim/run.js';
import type { FlagSpec } from './flags.js';

export const SIM_FLAGS: readonly FlagSpec[] = [
  { flag: 'out', doc: 'results directory (default bench/results/sim)' },
  { flag: 'seed', doc: 'simulation seed (default 1)' },
  { flag: 'fast', doc: 'a few TPC-H queries and the guard scenario only', boolean: true },
];

export function runSimCommand(options: Record<string, string[]>): void {
  const seed = Number(options.seed?.at(-1) ?? 1);
  if (!Number.isInteger(seed) || seed < 0)
    throw new ConfigError('--seed', `must be a non-negative integer, got ${options.seed?.at(-1)}`);
  const out = runSim({
    outDir: options.out?.at(-1) ?? 'bench/results/sim',
    seed,
    fast: options.fast !== undefined,
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
  });
  process.stderr.write(`wrote ${out.files.join(', ')}\n`);
}
