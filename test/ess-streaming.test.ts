// ESS-mode reads stream (docs/architecture.md#ess-mode): a reader walks a map's partition region
// range by range, carrying a block split between two ranges over to the next, instead of
// joining the whole region in memory (which made a region over 4 GiB unreadable and held up to
// 16 regions at once). One map writes one large partition on a real ESS whose ranges
// (ess.maxFetchBytes) end inside its 4 MiB blocks; the reader must return every record in
// order, and the process's peak RSS while reading must stay far below the region's size.
//
// Fast variant: 384 MiB. The 5 GiB one: `npm run test:ess-5g` (ESS_STREAM_TEST_BYTES=5GiB).
import { crc32 } from 'node:zlib';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ShuffleClient, ShuffleDriver } from '../src/client/index.js';
import { startEssNode, type EssNode } from '../src/testing/ess.js';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const REGION_BYTES = parseSize(process.env.ESS_STREAM_TEST_BYTES ?? '384MiB');
const RECORD_BYTES = 64 * 1024;
/** Not a multiple of anything the writer uses: ranges end inside blocks and headers. */
const RANGE_BYTES = MiB + 4093;
/** What reading may add to the peak RSS: ranges, blocks, and garbage not yet collected. */
const MAX_READ_GROWTH_BYTES = 256 * MiB;

function parseSize(text: string): number {
  const m = /^(\d+)(MiB|GiB)$/.exec(text);
  if (!m) throw new Error(`ESS_STREAM_TEST_BYTES: want e.g. 512MiB or 5GiB, got ${text}`);
  return Number(m[1]) * (m[2] === 'GiB' ? GiB : MiB);
}

function kib(status: string, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  if (!m) throw new Error(`no ${field} in /proc/self/status`);
  return Number(m[1]) * 1024;
}

let node: EssNode;
beforeAll(async () => {
  node = await startEssNode({
    prefix: 'sluice-ess-stream-',
    config: { 'ess.maxFetchBytes': RANGE_BYTES },
  });
});
afterAll(() => node?.close());

/** Record i: its index, then bytes of a pattern that differs per record. */
function record(i: number, pattern: Buffer): Buffer {
  const r = Buffer.allocUnsafe(RECORD_BYTES);
  r.writeUInt32BE(i, 0);
  pattern.copy(r, 4, i % 251, (i % 251) + RECORD_BYTES - 4);
  return r;
}

it(`a ${REGION_BYTES / MiB} MiB partition region reads back exactly, in bounded memory`, async () => {
  const appId = `ess-stream-${process.pid}`;
  const driver = await ShuffleDriver.start({
    manager: node.cluster.managerAddress,
    appId,
    mode: 'ess',
  });
  const client = new ShuffleClient({
    driver: driver.driverAddress,
    mode: 'ess',
    ess: { address: node.ess.address, dir: node.dir },
    maxBufferedBytesPerWriter: 64 * MiB,
    compression: 'none', // the region on disk is as large as the records
  });
  try {
    await driver.registerShuffle({ shuffleId: 0, numMappers: 1, numPartitions: 2 });
    const pattern = Buffer.alloc(RECORD_BYTES + 256);
    for (let i = 0; i < pattern.length; i++) pattern[i] = (i * 131 + 7) & 0xff;
    const count = Math.floor(REGION_BYTES / RECORD_BYTES);
    const w = client.writer({ appId, shuffleId: 0, mapId: 0, attemptId: 0, numPartitions: 2 });
    let written = 0;
    for (let i = 0; i < count; i++) {
      const r = record(i, pattern);
      written = crc32(r, written);
      w.write(1, r);
      if (i % 64 === 0) await w.flushIfNeeded();
    }
    w.write(0, Buffer.from('the other partition'));
    expect((await w.close()).discarded).toBe(false);

    // Peak RSS from here on (Linux: "5" resets VmHWM), against the RSS before reading.
    writeFileSync('/proc/self/clear_refs', '5');
    const before = kib(readFileSync('/proc/self/status', 'utf8'), 'VmRSS');
    let n = 0;
    let read = 0;
    let inOrder = true;
    const reader = client.reader({ appId, shuffleId: 0, partitionId: 1 });
    for await (const r of reader) {
      inOrder &&= r.length === RECORD_BYTES && r.readUInt32BE(0) === n;
      read = crc32(r, read);
      n++;
    }
    const peak = kib(readFileSync('/proc/self/status', 'utf8'), 'VmHWM');
    process.stdout.write(
      `ess streaming: ${n} records, ${(n * RECORD_BYTES) / MiB} MiB in ranges of ${RANGE_BYTES} B; ` +
        `reader process RSS ${Math.round(before / MiB)} MiB before, peak ${Math.round(peak / MiB)} MiB ` +
        `while reading (+${Math.round((peak - before) / MiB)} MiB)\n`,
    );
    expect(n).toBe(count);
    expect(inOrder).toBe(true);
    expect(read).toBe(written);
    expect(reader.stats.bytesRead).toBeGreaterThan(count * RECORD_BYTES);
    expect(peak - before).toBeLessThan(MAX_READ_GROWTH_BYTES);
  } finally {
    await client.close();
    await driver.close();
  }
}, 1_800_000);
