// The raw-disk baseline every ingest figure is divided by (bench/README.md: "measure the raw disk
// baseline in the same run"): one file written sequentially with O_DIRECT from 4 KiB-aligned
// buffers (docs/architecture.md#worker: 512-byte alignment halved the throughput), a fixed number of writes in
// flight on libuv's thread pool, one fsync at the end, then the file is deleted. The buffers
// come from the same native().alignedBuffer the worker's flushers use and are filled with
// random bytes once, so a compressing or deduplicating layer below cannot flatter the disk.
//
//   file: [ buf0 | buf1 | buf2 | buf3 | buf0 | buf1 | ... ]   each slot = bufferBytes
//           \____ writesInFlight writes outstanding ____/
import { randomFillSync } from 'node:crypto';
import { constants } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { native } from '../../dist/common/native.js';

export const ALIGNMENT_BYTES = 4096;

/**
 * Writes `bytes` (a multiple of 4 KiB) to a fresh file in `dir` with O_DIRECT and returns the
 * rate. Throws when the filesystem refuses O_DIRECT (tmpfs, some overlays): there is then no
 * baseline to compare against, and a buffered rate would not be the one bench/README.md names.
 */
export async function measureDirectWrite({
  dir,
  bytes,
  bufferBytes,
  writesInFlight,
  keep = false,
}) {
  if (bytes % ALIGNMENT_BYTES !== 0 || bufferBytes % ALIGNMENT_BYTES !== 0)
    throw new RangeError(`sizes must be multiples of ${ALIGNMENT_BYTES} for O_DIRECT`);
  const path = join(dir, `odirect-baseline-${process.pid}.dat`);
  const buffers = Array.from({ length: writesInFlight }, () =>
    randomFillSync(native().alignedBuffer(bufferBytes, ALIGNMENT_BYTES)),
  );
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_DIRECT;
  let handle;
  try {
    handle = await open(path, flags, 0o644);
  } catch (err) {
    if (err.code === 'EINVAL') throw new Error(`${dir}: the filesystem refuses O_DIRECT`);
    throw err;
  }
  const cpuBefore = process.cpuUsage();
  try {
    const writes = Math.ceil(bytes / bufferBytes);
    let next = 0;
    const started = performance.now();
    await Promise.all(
      buffers.map(async (buf) => {
        for (let i = next++; i < writes; i = next++) {
          const position = i * bufferBytes;
          const length = Math.min(bufferBytes, bytes - position);
          for (let done = 0; done < length;) {
            const { bytesWritten } = await handle.write(buf, done, length - done, position + done);
            if (bytesWritten === 0) throw new Error(`short write to ${path}`);
            done += bytesWritten;
          }
        }
      }),
    );
    const written = performance.now();
    await handle.sync();
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    return {
      path: keep ? path : undefined,
      bytes,
      seconds,
      gbps: bytes / seconds / 1e9,
      fsyncSeconds: seconds - (written - started) / 1000,
      benchCpuPct: ((cpu.user + cpu.system) / 1e6 / seconds) * 100,
    };
  } finally {
    await handle.close().catch(() => undefined);
    if (!keep) await rm(path, { force: true });
  }
}

/**
 * Reads a file written by measureDirectWrite({ keep: true }) sequentially with O_DIRECT into
 * aligned buffers, `readsInFlight` reads outstanding, and deletes it. O_DIRECT bypasses the
 * page cache, so the file just written is read from the device whether or not caches were
 * dropped.
 */
export async function measureDirectRead({ path, bytes, bufferBytes, readsInFlight }) {
  const buffers = Array.from({ length: readsInFlight }, () =>
    native().alignedBuffer(bufferBytes, ALIGNMENT_BYTES),
  );
  const handle = await open(path, constants.O_RDONLY | constants.O_DIRECT);
  try {
    const reads = Math.ceil(bytes / bufferBytes);
    let next = 0;
    let total = 0;
    const started = performance.now();
    await Promise.all(
      buffers.map(async (buf) => {
        for (let i = next++; i < reads; i = next++) {
          const { bytesRead } = await handle.read(buf, 0, bufferBytes, i * bufferBytes);
          total += bytesRead;
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    if (total !== bytes) throw new Error(`read ${total} of ${bytes} bytes back from ${path}`);
    return { bytes, seconds, gbps: bytes / seconds / 1e9 };
  } finally {
    await handle.close().catch(() => undefined);
    await rm(path, { force: true });
  }
}
