// NativeOps.commitFiles (native/sluice_native.c, the fallback in native.ts): whole partition
// files, data then index, written the same on both paths — exact bytes at every size around a
// block, data in one Buffer or in several, index bytes the caller may reuse once the call
// returns (the data buffers only once it settles), a failure reported per file
// (code, syscall, path) with no index written after a failed data file, and a filesystem
// refusing O_DIRECT (tmpfs) answered by writing buffered and saying so.
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAddon, loadNative, type CommitFileWrite, type NativeOps } from './native.js';

const addonLoad = loadAddon();
const PATHS: { name: string; ops: () => NativeOps; skip: boolean }[] = [
  { name: 'addon', ops: () => loadNative(), skip: addonLoad.addon === undefined },
  { name: 'js fallback', ops: () => loadNative({ disable: true }), skip: false },
];

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(join(tmpdir(), 'sluice-commit-files-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A file of `size` bytes (each byte its offset plus `seed`) and a made-up index. */
function fileOf(
  sub: string,
  name: string,
  size: number,
  seed: number,
): CommitFileWrite & { bytes: Buffer } {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i + seed) & 0xff;
  return {
    data: join(sub, `${name}.data`),
    index: join(sub, `${name}.index`),
    bytes,
    indexBytes: Buffer.from(`index of ${name}: ${size}`),
  };
}

describe.each(PATHS)('commitFiles ($name)', ({ name, ops, skip }) => {
  it.skipIf(skip)('writes every file whole, data then index, with and without fsync', async () => {
    for (const sync of [false, true]) {
      const sub = fs.mkdtempSync(join(dir, `${name.replace(' ', '-')}-`));
      const sizes = [0, 1, 40, 511, 4095, 4096, 4097, 100_000];
      const files = sizes.map((size, i) => fileOf(sub, `f${i}`, size, i));
      const want = files.map((f) => Buffer.from(f.bytes));
      const pending = ops().commitFiles(files, true, sync);
      // The index bytes were taken by the call: the caller's buffers are free again.
      for (const f of files) f.indexBytes.fill(0xee);
      const { errors } = await pending;
      expect(errors).toEqual(files.map(() => null));
      files.forEach((f, i) => {
        expect(fs.readFileSync(f.data).equals(want[i]!), `${sizes[i]} bytes`).toBe(true);
        expect(fs.readFileSync(f.index).toString()).toBe(`index of f${i}: ${sizes[i]}`);
      });
    }
  });

  it.skipIf(skip)('writes a file given as several buffers, one after the other', async () => {
    const sub = fs.mkdtempSync(join(dir, `${name.replace(' ', '-')}-parts-`));
    // Views at odd offsets of one slab, an empty part, and parts crossing block boundaries.
    const whole = fileOf(sub, 'whole', 3 * 4096 + 123, 7).bytes;
    const cuts = [0, 1, 1, 4095, 4097, 9000, whole.length];
    const parts = cuts.slice(1).map((end, i) => whole.subarray(cuts[i]!, end));
    const files: CommitFileWrite[] = [
      { ...fileOf(sub, 'parts', 0, 0), bytes: parts },
      { ...fileOf(sub, 'none', 0, 0), bytes: [] },
      { ...fileOf(sub, 'one', 0, 0), bytes: [whole.subarray(5, 10)] },
    ];
    for (const direct of [true, false]) {
      const { errors } = await ops().commitFiles(files, direct, false);
      expect(errors).toEqual([null, null, null]);
      expect(fs.readFileSync(files[0]!.data).equals(whole)).toBe(true);
      expect(fs.readFileSync(files[1]!.data).length).toBe(0);
      expect(fs.readFileSync(files[2]!.data).equals(whole.subarray(5, 10))).toBe(true);
    }
  });

  it.skipIf(skip)(
    'reports a failure per file, and writes no index after a failed data file',
    async () => {
      const sub = fs.mkdtempSync(join(dir, 'fail-'));
      const missing = join(sub, 'no-such-dir');
      const files = [
        fileOf(sub, 'a', 10, 1),
        fileOf(missing, 'b', 10, 2),
        fileOf(sub, 'c', 5000, 3),
      ];
      // The index of `a` cannot be created: a directory is in its way.
      fs.mkdirSync(files[0]!.index);
      const { errors } = await ops().commitFiles(files, false, false);
      expect(errors[0]).toMatchObject({ code: 'EISDIR', syscall: 'open', path: files[0]!.index });
      expect(errors[1]).toMatchObject({ code: 'ENOENT', syscall: 'open', path: files[1]!.data });
      expect(errors[2]).toBeNull();
      expect(fs.existsSync(files[1]!.index)).toBe(false);
      expect(fs.readFileSync(files[2]!.data).equals(files[2]!.bytes)).toBe(true);
    },
  );
});

// tmpfs refuses O_DIRECT with EINVAL: the addon writes the batch buffered and says so.
const TMPFS = '/dev/shm';
const directRefused = (() => {
  if (!fs.existsSync(TMPFS)) return false;
  const probe = join(TMPFS, `sluice-odirect-probe-${process.pid}`);
  try {
    fs.closeSync(
      fs.openSync(probe, fs.constants.O_DIRECT | fs.constants.O_CREAT | fs.constants.O_WRONLY),
    );
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EINVAL';
  } finally {
    fs.rmSync(probe, { force: true });
  }
})();

if (!directRefused)
  process.stderr.write(
    `native-commit-files.test: ${TMPFS} takes O_DIRECT here: no refusal to test\n`,
  );

describe('commitFiles on a filesystem that refuses O_DIRECT', () => {
  it.skipIf(addonLoad.addon === undefined || !directRefused)(
    'the addon writes buffered and reports directRefused',
    async () => {
      const sub = fs.mkdtempSync(join(TMPFS, 'sluice-commit-files-'));
      try {
        const files = [fileOf(sub, 'a', 40, 1), fileOf(sub, 'b', 9000, 2)];
        const result = await loadNative().commitFiles(files, true, false);
        expect(result).toEqual({ errors: [null, null], directRefused: true });
        for (const f of files) expect(fs.readFileSync(f.data).equals(f.bytes)).toBe(true);
      } finally {
        fs.rmSync(sub, { recursive: true, force: true });
      }
    },
  );
});

describe.skipIf(addonLoad.addon === undefined)('addon: commitFiles refuses bad data', () => {
  it.each([
    ['a string', 'abc'],
    ['an array holding a string', [Buffer.alloc(3), 'abc']],
    ['a number', 7],
  ])('file.bytes as %s: a TypeError before anything is written', (_what, bytes) => {
    const sub = fs.mkdtempSync(join(dir, 'bad-'));
    const file = { ...fileOf(sub, 'x', 0, 0), bytes } as unknown as CommitFileWrite;
    expect(() => loadNative().commitFiles([file], false, false)).toThrow(
      /file\.bytes must be a Buffer or an array of Buffers/,
    );
    expect(fs.existsSync(file.data)).toBe(false);
  });
});
