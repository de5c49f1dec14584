import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { constants as osConstants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from './errors.js';
import {
  DEFAULT_ALIGNMENT_BYTES,
  loadAddon,
  loadNative,
  native,
  type NativeOps,
} from './native.js';

const MiB = 1024 * 1024;
const WASM_PAGE_BYTES = 65_536;

// The addon half is skipped only when the build failed, and says why; `npm install` builds it.
const addonLoad = loadAddon();
const addon = addonLoad.addon;
if (addon === undefined) {
  process.stderr.write(`native.test: addon tests skipped: ${addonLoad.error.message}\n`);
}

const PATHS: { name: string; ops: () => NativeOps; skip: boolean }[] = [
  { name: 'addon', ops: () => loadNative(), skip: addon === undefined },
  { name: 'js fallback', ops: () => loadNative({ disable: true }), skip: false },
];

/** Probes the temp filesystem once: tmpfs and some overlay setups refuse O_DIRECT. */
function probeODirect(): boolean {
  const dir = fs.mkdtempSync(join(tmpdir(), 'sluice-native-probe-'));
  try {
    const flags = fs.constants.O_DIRECT | fs.constants.O_WRONLY | fs.constants.O_CREAT;
    fs.closeSync(fs.openSync(join(dir, 'probe'), flags));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EINVAL') return false;
    throw err;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
const O_DIRECT_OK = probeODirect();

/** Deterministic bytes (xorshift32), so a failure reproduces. */
function pseudoRandom(size: number, seed: number): Buffer {
  const out = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out.writeUInt32LE(x >>> 0, i);
  }
  return out;
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const isAllZero = (b: Uint8Array): boolean => Buffer.from(b).equals(Buffer.alloc(b.length));

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(join(tmpdir(), 'sluice-native-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('loading', () => {
  it.skipIf(addon === undefined)('uses the addon when it is built', () => {
    const ops = loadNative();
    expect(ops.kind).toBe('addon');
    expect(ops.fallbackReason).toBeUndefined();
  });

  it('falls back to pure JS when disabled, and says so', () => {
    const ops = loadNative({ disable: true });
    expect(ops.kind).toBe('js');
    expect(ops.fallbackReason).toMatch(/disabled/);
  });

  it('falls back to pure JS when the addon file is missing, and says why', () => {
    const ops = loadNative({ addonPath: '../../native/build/Release/missing.node' });
    expect(ops.kind).toBe('js');
    expect(ops.fallbackReason).toMatch(/native addon not loaded: .*missing\.node/);
  });

  it('native() loads once and returns the same ops every time', () => {
    const first = native();
    expect(native()).toBe(first);
    expect(first.kind).toBe(addon === undefined ? 'js' : 'addon');
  });
});

describe.each(PATHS)('$name: alignedBuffer', ({ ops, skip }) => {
  const sizes = [0, 1, 511, 4095, 4096, 4097, 65_537, MiB, MiB + 1];

  it.skipIf(skip).each(sizes)('size %i: exact length, zero-filled, aligned tail', (size) => {
    const buf = ops().alignedBuffer(size);
    expect(buf.length).toBe(size);
    expect(buf.byteOffset).toBe(0);
    // The backing memory extends to a whole number of blocks, all of it zero.
    expect(buf.buffer.byteLength % DEFAULT_ALIGNMENT_BYTES).toBe(0);
    expect(buf.buffer.byteLength).toBeGreaterThanOrEqual(size);
    expect(buf.buffer.byteLength - size).toBeLessThan(
      ops().kind === 'addon' ? DEFAULT_ALIGNMENT_BYTES : WASM_PAGE_BYTES,
    );
    expect(isAllZero(new Uint8Array(buf.buffer))).toBe(true);
  });

  const alignments = [512, 4096, 65_536];
  it.skipIf(skip || addon === undefined).each(alignments)(
    'alignment %i: the first byte is aligned (checked with addressOf)',
    (alignment) => {
      for (let i = 0; i < 16; i++) {
        const buf = ops().alignedBuffer(3 * alignment + i, alignment);
        expect(addon!.addressOf(buf) % BigInt(alignment)).toBe(0n);
      }
    },
  );

  it.skipIf(skip)('separate buffers do not share memory', () => {
    const a = ops().alignedBuffer(MiB);
    const b = ops().alignedBuffer(MiB);
    a.fill(0xab);
    expect(isAllZero(b)).toBe(true);
    expect(a.every((v) => v === 0xab)).toBe(true);
  });

  it.skipIf(skip).each([0, 256, 1000, 4095, -4096, 1.5, Number.NaN])(
    'rejects alignment %s',
    (alignment) => {
      expect(() => ops().alignedBuffer(4096, alignment)).toThrow(InvalidArgumentError);
    },
  );

  it.skipIf(skip).each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])(
    'rejects size %s',
    (size) => {
      expect(() => ops().alignedBuffer(size)).toThrow(InvalidArgumentError);
    },
  );
});

describe('alignment beyond a WebAssembly page', () => {
  it.skipIf(addon === undefined)('the addon aligns to 1 MiB', () => {
    const buf = loadNative().alignedBuffer(MiB, MiB);
    expect(addon!.addressOf(buf) % BigInt(MiB)).toBe(0n);
  });

  it('the fallback refuses more than 64 KiB rather than misalign', () => {
    const ops = loadNative({ disable: true });
    expect(() => ops.alignedBuffer(MiB, 2 * WASM_PAGE_BYTES)).toThrow(/alignment/);
  });

  it.skipIf(addon === undefined)('the raw addon reports the length rounded up', () => {
    expect(addon!.alignedBuffer(0).byteLength).toBe(0);
    expect(addon!.alignedBuffer(1).byteLength).toBe(4096);
    expect(addon!.alignedBuffer(4097, 512).byteLength).toBe(4608);
  });
});

describe.skipIf(addon === undefined)('addon: fallocate', () => {
  it('mode 0 grows the allocation and the file length', () => {
    const file = join(dir, 'falloc-grow');
    const fd = fs.openSync(file, 'w');
    try {
      const before = fs.fstatSync(fd);
      expect(loadNative().fallocate(fd, 0, 4 * MiB)).toBe(true);
      const after = fs.fstatSync(fd);
      expect(before.size).toBe(0);
      expect(after.size).toBe(4 * MiB);
      // st_blocks counts 512-byte units.
      expect(after.blocks - before.blocks).toBeGreaterThanOrEqual((4 * MiB) / 512);
    } finally {
      fs.closeSync(fd);
    }
    expect(isAllZero(fs.readFileSync(file))).toBe(true);
  });

  it('keepSize reserves blocks but leaves the length alone', () => {
    const fd = fs.openSync(join(dir, 'falloc-keep'), 'w');
    try {
      expect(loadNative().fallocate(fd, 0, 2 * MiB, true)).toBe(true);
      const st = fs.fstatSync(fd);
      expect(st.size).toBe(0);
      expect(st.blocks).toBeGreaterThanOrEqual((2 * MiB) / 512);
    } finally {
      fs.closeSync(fd);
    }
  });
});

describe('js fallback: fallocate preallocates nothing', () => {
  it('returns false and leaves the file untouched', () => {
    const fd = fs.openSync(join(dir, 'falloc-js'), 'w');
    try {
      expect(loadNative({ disable: true }).fallocate(fd, 0, 4 * MiB)).toBe(false);
      const st = fs.fstatSync(fd);
      expect(st.size).toBe(0);
      expect(st.blocks).toBe(0);
    } finally {
      fs.closeSync(fd);
    }
  });
});

describe.skipIf(addon === undefined)('addon: syscall errors carry errno codes', () => {
  const closedFd = (): number => {
    const fd = fs.openSync(join(dir, 'closed'), 'w');
    fs.closeSync(fd);
    return fd;
  };
  const ops = (): NativeOps => loadNative();

  it.each([
    ['fallocate', (fd: number) => ops().fallocate(fd, 0, 4096)],
    ['posix_fadvise', (fd: number) => ops().fadvise(fd, 0, 0, 'sequential')],
    ['sync_file_range', (fd: number) => ops().syncFileRange(fd, 0, 0)],
  ] as const)('%s on a closed fd throws EBADF', (syscall, call) => {
    const fd = closedFd();
    let caught: NodeJS.ErrnoException | undefined;
    try {
      call(fd);
    } catch (err) {
      caught = err as NodeJS.ErrnoException;
    }
    expect(caught).toBeInstanceOf(Error);
    expect(caught).toMatchObject({ code: 'EBADF', errno: -osConstants.errno.EBADF, syscall });
    expect(caught!.message).toMatch(/^EBADF: /);
  });

  it('the kernel refusing an argument comes back as EINVAL', () => {
    const fd = fs.openSync(join(dir, 'einval'), 'w');
    try {
      // Only the raw addon lets these through; NativeOps checks them first.
      expect(() => addon!.fallocate(fd, 0, 0)).toThrow(
        expect.objectContaining({ code: 'EINVAL', syscall: 'fallocate' }),
      );
      expect(() => addon!.fadvise(fd, 0, 0, 99)).toThrow(
        expect.objectContaining({ code: 'EINVAL', syscall: 'posix_fadvise' }),
      );
    } finally {
      fs.closeSync(fd);
    }
  });
});

describe('preadCached: a read that never waits for the disk', () => {
  it.skipIf(addon === undefined)('reads what the page cache holds, -1 once it is evicted', () => {
    const path = join(dir, 'cached-read');
    const data = pseudoRandom(256 * 1024, 7);
    fs.writeFileSync(path, data);
    const fd = fs.openSync(path, 'r');
    try {
      const ops = loadNative();
      const buf = Buffer.alloc(10_000 + 16);
      // Just written: in the page cache. Into the buffer after 16 bytes, from 100 000.
      expect(ops.preadCached(fd, buf, 16, 10_000, 100_000)).toBe(10_000);
      expect(buf.subarray(16)).toEqual(data.subarray(100_000, 110_000));
      // Clean pages dropped: the read would wait for the disk, so it reads nothing. (A
      // filesystem that keeps its pages whatever the advice, like tmpfs, still reads them.)
      fs.fdatasyncSync(fd);
      ops.fadvise(fd, 0, 0, 'dontneed');
      const n = ops.preadCached(fd, buf, 0, 4096, 200_000);
      if (n !== -1) {
        expect(n).toBe(4096);
        expect(buf.subarray(0, 4096)).toEqual(data.subarray(200_000, 204_096));
      }
      // Past the end of the file: 0 bytes, as pread.
      expect(ops.preadCached(fd, buf, 0, 10, data.length)).toBe(0);
      expect(() => addon!.preadCached(fd, buf, 0, buf.length + 1, 0)).toThrow(RangeError);
    } finally {
      fs.closeSync(fd);
    }
  });

  it('the fallback cannot tell what is cached: -2, so callers read through the pool', () => {
    expect(loadNative({ disable: true }).preadCached(3, Buffer.alloc(8), 0, 8, 0)).toBe(-2);
  });
});

describe.each(PATHS)('$name: argument checks match on both paths', ({ ops, skip }) => {
  it.skipIf(skip)('rejects bad fds, offsets, lengths and advice', () => {
    const o = ops();
    expect(() => o.fallocate(-1, 0, 1)).toThrow(InvalidArgumentError);
    expect(() => o.fallocate(3, -1, 1)).toThrow(InvalidArgumentError);
    expect(() => o.fallocate(3, 0, 0)).toThrow(InvalidArgumentError);
    expect(() => o.fadvise(3, 0, 1.5, 'normal')).toThrow(InvalidArgumentError);
    expect(() => o.fadvise(3, 0, 0, 'random' as 'normal')).toThrow(InvalidArgumentError);
    expect(() => o.syncFileRange(3, Number.NaN, 0)).toThrow(InvalidArgumentError);
  });
});

describe('both paths write identical files', () => {
  const TOTAL_BYTES = 8 * MiB;
  const CHUNK_BYTES = MiB;
  const source = pseudoRandom(TOTAL_BYTES, 0x5eed);
  const mode = O_DIRECT_OK ? 'O_DIRECT' : 'buffered: the temp filesystem refused O_DIRECT';

  /** Writes `source` in aligned 1 MiB chunks with every hint along the way. */
  function writeThrough(ops: NativeOps, file: string): void {
    const direct = O_DIRECT_OK ? fs.constants.O_DIRECT : 0;
    const fd = fs.openSync(file, direct | fs.constants.O_WRONLY | fs.constants.O_CREAT);
    try {
      ops.fallocate(fd, 0, TOTAL_BYTES, true);
      ops.fadvise(fd, 0, 0, 'sequential');
      const buf = ops.alignedBuffer(CHUNK_BYTES);
      for (let pos = 0; pos < TOTAL_BYTES; pos += CHUNK_BYTES) {
        source.copy(buf, 0, pos, pos + CHUNK_BYTES);
        expect(fs.writeSync(fd, buf, 0, CHUNK_BYTES, pos)).toBe(CHUNK_BYTES);
        ops.syncFileRange(fd, pos, CHUNK_BYTES);
      }
      fs.fsyncSync(fd);
      ops.fadvise(fd, 0, 0, 'dontneed');
    } finally {
      fs.closeSync(fd);
    }
  }

  it.skipIf(addon === undefined)(`8 MiB through addon and fallback (${mode})`, () => {
    if (!O_DIRECT_OK) process.stderr.write(`native.test: ${tmpdir()} refused O_DIRECT\n`);
    const addonFile = join(dir, 'via-addon');
    const jsFile = join(dir, 'via-js');
    writeThrough(loadNative(), addonFile);
    writeThrough(loadNative({ disable: true }), jsFile);

    const viaAddon = fs.readFileSync(addonFile);
    const viaJs = fs.readFileSync(jsFile);
    expect(viaAddon.length).toBe(TOTAL_BYTES);
    expect(viaAddon.equals(viaJs)).toBe(true);
    expect(viaAddon.equals(source)).toBe(true);
    expect(sha256(viaAddon)).toBe(sha256(viaJs));
    expect(sha256(viaAddon)).toBe(sha256(source));
  });

  it(`8 MiB through the fallback alone reads back intact (${mode})`, () => {
    const file = join(dir, 'via-js-only');
    writeThrough(loadNative({ disable: true }), file);
    expect(sha256(fs.readFileSync(file))).toBe(sha256(source));
  });
});
