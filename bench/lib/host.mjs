// What the host lets the benchmarks do: drop the page cache (root only: writing 3 to
// /proc/sys/vm/drop_caches after a sync, so reads after it come from the device), and find fio.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
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
 * fio's sequential direct write and read rates (GB/s) on `dir`, or undefined when fio is not
 * installed. Same shape as the Node baseline: 4 MiB blocks, 4 in flight (libaio), one file.
 */
export async function fioBaseline(dir, bytes) {
  try {
    await run('fio', ['--version']);
  } catch {
    return undefined;
  }
  const rate = async (rw) => {
    const { stdout } = await run('fio', [
      '--name=sluice-bench',
      `--directory=${dir}`,
      `--rw=${rw}`,
      '--bs=4M',
      '--iodepth=4',
      '--ioengine=libaio',
      '--direct=1',
      `--size=${bytes}`,
      '--end_fsync=1',
      '--output-format=json',
    ]);
    const job = JSON.parse(stdout).jobs[0];
    return (rw === 'write' ? job.write.bw_bytes : job.read.bw_bytes) / 1e9;
  };
  try {
    const write = await rate('write');
    const read = await rate('read');
    return { writeGbps: write, readGbps: read };
  } finally {
    await run('rm', ['-f', `${dir}/sluice-bench.0.0`]).catch(() => undefined);
  }
}
