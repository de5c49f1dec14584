// What the host lets the benchmarks do: drop the page cache (root only: writing 3 to
// /proc/sys/vm/drop_caches after a sync, so reads after it come from the device), and run fio
// (installed from Debian when missing and root).
import { execFile } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Syncs and drops the page cache; false when not permitted (not root, read-only /proc/sys). */
export async function dropCaches() {
  try {
    await run('sync');
    await writeFile('/proc/sys/vm/drop_caches', '3\n');
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether fio is on the PATH. As root on Debian, a missing fio is installed first (its random
 * reads are scenario 5's disk baseline), unless the package cannot be had.
 */
async function haveFio() {
  const present = () =>
    run('fio', ['--version']).then(
      () => true,
      () => false,
    );
  if (await present()) return true;
  if (process.getuid?.() !== 0) return false;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () =>
    run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'fio'], { env });
  await install().catch(() => run('apt-get', ['update', '-qq'], { env }).then(install, () => {}));
  return present();
}

/** Runs one fio job on a file in `dir` (deleted afterwards) and returns its JSON job result. */
async function fioJob(dir, args) {
  try {
    const { stdout } = await run('fio', [
      '--name=sluice-bench',
      `--directory=${dir}`,
      '--ioengine=libaio',
      '--direct=1',
      '--output-format=json',
      ...args,
    ]);
    return JSON.parse(stdout).jobs[0];
  } finally {
    await rm(join(dir, 'sluice-bench.0.0'), { force: true });
  }
}

/**
 * fio's sequential direct write and read rates (GB/s) on `dir`, or undefined when fio is not
 * installed. Same shape as the Node baseline: 4 MiB blocks, 4 in flight (libaio), one file.
 */
export async function fioBaseline(dir, bytes) {
  if (!(await haveFio())) return undefined;
  const rate = async (rw) => {
    const job = await fioJob(dir, [
      `--rw=${rw}`,
      '--bs=4M',
      '--iodepth=4',
      `--size=${bytes}`,
      '--end_fsync=1',
    ]);
    return (rw === 'write' ? job.write.bw_bytes : job.read.bw_bytes) / 1e9;
  };
  return { writeGbps: await rate('write'), readGbps: await rate('read') };
}

/**
 * The disk's random-read limit as scenario 5's ESS baseline: fio reading 16 KiB blocks at random
 * offsets of a `bytes` file in `dir` for `seconds` (time-based: it re-reads when the file is
 * done), 16 in flight (libaio, O_DIRECT), the page cache dropped first (O_DIRECT bypasses it
 * anyway). Undefined when fio is not installed.
 */
export async function fioRandomRead(dir, bytes, seconds) {
  if (!(await haveFio())) return undefined;
  // fio lays the file out first (a sequential write), then reads it.
  await dropCaches();
  const job = await fioJob(dir, [
    '--rw=randread',
    '--bs=16k',
    '--iodepth=16',
    `--size=${bytes}`,
    '--time_based',
    `--runtime=${seconds}`,
  ]);
  return {
    blockBytes: 16 * 1024,
    iodepth: 16,
    iops: job.read.iops,
    gbps: job.read.bw_bytes / 1e9,
    seconds: job.read.runtime / 1000,
  };
}
