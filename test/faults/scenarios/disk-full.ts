// Disk full on one worker (docs/architecture.md#worker flushers; a push answered FAILED moves the group):
// its data directory is a small tmpfs the scenario mounts (root only); once its flushes fail
// with ENOSPC its pushes fail over to other workers and nothing is lost.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { check, resultOf, withCluster, withJob, type Scenario } from '../harness.js';

const TMPFS_BYTES = 256 * 1024;

function mountTmpfs(bytes: number): { dir: string; unmount(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir], {
      stdio: 'pipe',
    });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    dir,
    unmount() {
      execFileSync('umount', [dir], { stdio: 'pipe' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let probe: string | undefined | null = null;

export const diskFull: Scenario = {
  name: 'disk full on one worker',
  skipReason() {
    if (probe !== null) return probe;
    try {
      mountTmpfs(64 * 1024).unmount();
      probe = undefined;
    } catch (err) {
      probe = `cannot mount a tmpfs here (needs root): ${String(err).split('\n')[0]}`;
    }
    return probe;
  },
  run: async (shape) => {
    const fs = mountTmpfs(TMPFS_BYTES);
    try {
      const victimDir = join(fs.dir, 'd0');
      mkdirSync(victimDir);
      return await withCluster(
        {
          workers: 3,
          // Small flushes: the victim writes (and hits ENOSPC) during the map stage.
          perWorkerConfig: { 'worker-2': { 'worker.flushBytes': 32 * 1024 } },
          perWorkerDirs: { 'worker-2': [victimDir] },
        },
        (cluster) =>
          // Uncompressed blocks: the records compress well and would not fill the disk.
          withJob(
            cluster.managerAddress,
            'diskfull',
            { shape, client: { compression: 'none' } },
            async (job) => {
              await job.runMaps();
              const { bavail, bsize } = statfsSync(victimDir);
              check(
                bavail * bsize < 16 * 1024,
                `the victim's disk is not full: ${bavail * bsize} B free`,
              );
              check(
                job.driver!.shuffle(0).groups.some((g) => g.epoch > 0),
                'no group moved off the full worker',
              );
              check(
                cluster
                  .worker('worker-2')
                  .output.some((l) => l.includes('partition file write failed')),
                'the full worker did not log its failed writes',
              );
              const outcome = await job.commit();
              check(outcome.lost.length === 0, `lost partitions ${outcome.lost.join(',')}`);
              return resultOf(job, await job.readAndVerify());
            },
          ),
      );
    } finally {
      fs.unmount();
    }
  },
};
