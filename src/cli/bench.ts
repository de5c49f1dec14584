// `sluice bench`: the benchmark suite of bench/README.md (bench/run.mjs, `npm run bench`). The
// scenarios are plain scripts of the source repository that start real processes; this runs
// them as a child with the same arguments (`sluice bench --help` lists them).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SluiceError } from '../common/errors.js';

export async function runBenchCommand(argv: readonly string[]): Promise<void> {
  const script = fileURLToPath(new URL('../../bench/run.mjs', import.meta.url));
  if (!existsSync(script))
    throw new SluiceError(
      'SLUICE_ERR_UNSUPPORTED',
      `the benchmarks come with the source repository (${script} is missing)`,
    );
  const child = spawn(process.execPath, [script, ...argv], { stdio: 'inherit' });
  const code = await new Promise<number>((resolve) =>
    child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))),
  );
  process.exitCode = code;
}
