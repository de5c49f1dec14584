// LocalDisk's aligned buffers for writes: a full-size buffer, or units of 64 KiB and 4 KiB
// for partial writes, pooled and carved from slabs. Counted through a NativeOps wrapper: the
// pure-JS fallback's aligned buffers are WebAssembly memories, of which only ~13,000 can be
// live at once, so how many allocations a write costs is what matters.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadNative, native, type NativeOps } from '../../common/native.js';
import { ALIGNMENT, LocalDisk } from './local-disk.js';

const KiB = 1024;

describe('LocalDisk.takeBuffers', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  function disk(bufferBytes: number, ops: NativeOps = native()) {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-disk-'));
    dirs.push(dir);
    const sizes: number[] = [];
    const counted: NativeOps = {
      ...ops,
      alignedBuffer: (size, alignment) => {
        sizes.push(size);
        return ops.alignedBuffer(size, alignment);
      },
    };
    const d = new LocalDisk({
      dir,
      writesInFlight: 4,
      directIo: true,
      bufferBytes,
      native: counted,
    });
    return { disk: d, sizes };
  }

  it.each([
    [4 * KiB * KiB, 4 * KiB * KiB, [4 * KiB * KiB]],
    [4 * KiB * KiB, 1, [4 * KiB]],
    [4 * KiB * KiB, 200 * KiB + 1, [64 * KiB, 64 * KiB, 64 * KiB, 4 * KiB, 4 * KiB, 4 * KiB]],
    [64 * KiB, 60 * KiB, Array(15).fill(4 * KiB)],
    [64 * KiB, 61 * KiB, [64 * KiB]],
    [ALIGNMENT, 100, [ALIGNMENT]],
  ])('bufferBytes %i, a write of %i bytes: buffers %j, aligned', (bufferBytes, bytes, expected) => {
    const { disk: d } = disk(bufferBytes);
    const bufs = d.takeBuffers(bytes);
    expect(bufs.map((b) => b.length)).toEqual(expected);
    for (const b of bufs) expect(b.byteOffset % ALIGNMENT).toBe(0); // slabs start aligned
    d.returnBuffers(bufs);
  });

  it.each([
    ['native addon', () => native()],
    ['pure-JS fallback', () => loadNative({ disable: true })],
  ])('units come from slabs and are reused (%s)', (_name, ops) => {
    const { disk: d, sizes } = disk(4 * KiB * KiB, ops());
    // 400 partial writes of 3 x 64 KiB + 3 x 4 KiB in flight at once: 2400 buffers.
    const held = Array.from({ length: 400 }, () => d.takeBuffers(204 * KiB));
    expect(held.flat().length).toBe(2400);
    // 1200 units of 64 KiB at 16 a slab, 1200 of 4 KiB at 64 a slab: 94 allocations.
    expect(sizes.length).toBe(1200 / 16 + Math.ceil(1200 / 64));
    for (const bufs of held) d.returnBuffers(bufs);
    sizes.length = 0;
    for (let i = 0; i < 100; i++) d.returnBuffers(d.takeBuffers(204 * KiB));
    expect(sizes).toEqual([]);
  });

  it('with bufferBytes of 64 KiB, a partial write reuses the full-size pool', () => {
    const { disk: d, sizes } = disk(64 * KiB);
    for (let i = 0; i < 100; i++) d.returnBuffers(d.takeBuffers(62 * KiB));
    expect(sizes).toEqual([64 * KiB]);
  });
});
