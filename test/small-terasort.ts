// The small terasort job the dev-cluster tests run against the cluster they started:
// `sluice job terasort` (the built CLI) with 8 MiB of records, 4 maps, 8 partitions.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { CLI_PATH } from '../src/testing/manager.js';

/** Runs the job against `manager` (one address or a comma-separated list). */
export async function runSmallTerasort(manager: string): Promise<{ code: number; output: string }> {
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
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  job.stdout.on('data', (b: Buffer) => (output += b.toString()));
  job.stderr.on('data', (b: Buffer) => (output += b.toString()));
  const [code] = (await once(job, 'exit')) as [number];
  return { code, output };
}
