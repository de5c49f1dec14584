// ChunkReader on real files in a temp dir: O_DIRECT reads of chunks at unaligned offsets
// return exactly the chunk's bytes, pooled buffers are reused only after release, a file
// shorter than its index is CORRUPT_FILE, and buffered reads give the same bytes.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { native } from '../../common/native.js';
import { WireProtocolError } from '../../common/wire/index.js';
import { ChunkReader } from './chunk-reader.js';

describe('ChunkReader', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-cr-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const data = randomBytes(100_000 + 123); // not a multiple of 4 KiB
  const path = join(dir, 'data');
  writeFileSync(path, data);
  const ranges: [number, number][] = [
    [0, 4096],
    [1, 10_000],
    [4095, 4098],
    [37_000, 63_123],
    [data.length - 5_000, 5_000], // ends at EOF, inside the last (short) block
    [0, data.length],
  ];

  it.each([true, false])('reads exactly the chunk bytes (directIo=%s)', async (directIo) => {
    const reader = new ChunkReader({
      directIo,
      poolBytes: 1024 * 1024,

      native: native(),
    });
    const file = await reader.open(path);
    try {
      for (const [position, length] of ranges) {
        const { body, release } = await reader.read(file, position, length);
        expect(body.equals(data.subarray(position, position + length))).toBe(true);
        release();
        release(); // idempotent
      }
    } finally {
      await file.handle.close();
    }
  });

  it('reuses a pooled buffer only after it was released', async () => {
    const reader = new ChunkReader({
      directIo: true,
      poolBytes: 1024 * 1024,

      native: native(),
    });
    const file = await reader.open(path);
    try {
      const a = await reader.read(file, 10, 1000);
      const b = await reader.read(file, 20, 1000);
      expect(b.body.buffer).not.toBe(a.body.buffer);
      const before = Buffer.from(a.body);
      a.release();
      const c = await reader.read(file, 5000, 1000);
      if (file.direct) expect(c.body.buffer).toBe(a.body.buffer);
      expect(b.body.equals(data.subarray(20, 1020))).toBe(true);
      expect(before.equals(data.subarray(10, 1010))).toBe(true);
      b.release();
      c.release();
    } finally {
      await file.handle.close();
    }
  });

  it.each([true, false])(
    'answers CORRUPT_FILE when the file is shorter (directIo=%s)',
    async (directIo) => {
      const short = join(dir, `short-${directIo}`);
      writeFileSync(short, data);
      truncateSync(short, 50_000);
      const reader = new ChunkReader({
        directIo,
        poolBytes: 1024 * 1024,

        native: native(),
      });
      const file = await reader.open(short);
      try {
        const err = await reader.read(file, 40_000, 20_000).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(WireProtocolError);
        expect((err as WireProtocolError).status).toBe('CORRUPT_FILE');
      } finally {
        await file.handle.close();
      }
    },
  );
});
