// The small terasort job the dev-cluster tests run against the cluster they started:
// `sluice job terasort` (the built CLI) with 8 MiB of records, 4 maps, 8 partitions.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { CLI_PATH } from '../src/testing/manager.js';

/** Runs the job against `manager` (one address or a comma-separated list), `extra` flags added. */
export async function runSmallTerasort(
  manager: string,
  extra: readonly string[] = [],
): Promise<{ code: number; stdout: string; output: string }> {
  const job = spawn(
    process.execPath,
    [
      CLI_PATH,
      'job',
      'terasort',
      '--manager',
      manager,
      '--size',
      '8MiB',
      '--maps',
      '4',
      '--partitions',
      '8',
      ...extra,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  let stdout = '';
  job.stdout.on('data', (b: Buffer) => {
    output += b.toString();
    stdout += b.toString();
  });
  job.stderr.on('data', (b: Buffer) => (output += b.toString()));
  const [code] = (await once(job, 'exit')) as [number];
  return { code, stdout, output };
}
