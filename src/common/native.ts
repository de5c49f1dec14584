// Aligned memory and page-cache hints for the worker's flushers (docs/architecture.md#worker, "Flushers"): the
// native/ N-API addon when `npm install` managed to build it, pure JS otherwise. Nothing here
// decides correctness, only speed, so a missing addon degrades and never fails:
//
//                    addon                              pure-JS fallback
//   alignedBuffer    posix_memalign, any 2^n >= 512     WebAssembly.Memory, 64 KiB pages,
//                                                       so alignments up to 64 KiB
//   fallocate        fallocate(2), true                 false: no preallocation
//   fadvise          posix_fadvise(2)                   no-op: the hint is lost
//   syncFileRange    sync_file_range(2), WRITE only     no-op: writeback left to the kernel
//   preadCached      preadv2(RWF_NOWAIT): a read that   -2: unknown, read through the pool
//                    never waits for the disk (the ESS)
//   commitFiles      a batch of small files (data and   fs/promises, one call at a time,
//                    index) in one thread-pool task     buffered (no O_DIRECT)
//
// Syscall failures surface as Node's fs errors do (`code` 'EBADF', 'ENOSPC', negative `errno`,
// `syscall`); bad arguments as InvalidArgumentError, identically on both paths.
import { constants as bufferConstants } from 'node:buffer';
import { open } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { InvalidArgumentError } from './errors.js';

export type FadviseAdvice = 'normal' | 'sequential' | 'willneed' | 'dontneed';
const ADVICE: readonly string[] = ['normal', 'sequential', 'willneed', 'dontneed'];

export interface NativeOps {
  readonly kind: 'addon' | 'js';
  /** Why the addon is not in use; undefined when kind is 'addon'. */
  readonly fallbackReason: string | undefined;
  /**
   * A zero-filled Buffer of exactly `size` bytes whose first byte is `alignment`-aligned, the
   * memory O_DIRECT needs. Its ArrayBuffer extends to a multiple of the alignment, so a
   * block-sized write past `size` stays inside owned memory. Pool these: memory comes back
   * only after GC (and, for the addon, a turn of the event loop).
   */
  alignedBuffer(size: number, alignment?: number): Buffer;
  /**
   * Preallocates [offset, offset + length). keepSize leaves the file length alone. Returns
   * false where preallocation is unavailable (filesystem or fallback): callers write anyway.
   */
  fallocate(fd: number, offset: number, length: number, keepSize?: boolean): boolean;
  /** posix_fadvise over [offset, offset + length); length 0 means to the end of the file. */
  fadvise(fd: number, offset: number, length: number, advice: FadviseAdvice): void;
  /**
   * Starts writeback of [offset, offset + nbytes) without waiting for it (nbytes 0: to the end
   * of the file), so dirty pages do not pile up before the commit's fsync. Not durability.
   */
  syncFileRange(fd: number, offset: number, nbytes: number): void;
  /**
   * Reads into buffer[offset, offset + length) from `position` only what the page cache holds,
   * without waiting for the disk: the bytes read (possibly fewer than asked), -1 when the
   * first byte is not cached, -2 when this system cannot tell (always -2 in the fallback).
   */
  preadCached(fd: number, buffer: Buffer, offset: number, length: number, position: number): number;
  /**
   * Writes each file whole — data (O_DIRECT with `direct`, padded to a block and truncated
   * back), then its index — with fsync of both when `sync`, closing each before the next:
   * one descriptor open at a time. A file's data is written from the caller's buffers, which
   * must stay unchanged until the promise settles (the index bytes are copied at the call).
   * A file whose data failed gets no index; what a failure left on disk is the caller's to
   * remove. The addon does a whole batch in one thread-pool task; the fallback makes the same
   * calls through fs/promises, buffered.
   */
  commitFiles(
    files: readonly CommitFileWrite[],
    direct: boolean,
    sync: boolean,
  ): Promise<CommitFilesResult>;
}

/** One partition file written whole at commit: its data, then its index (commitFiles). */
export interface CommitFileWrite {
  /** Path of the data file, created or truncated. */
  readonly data: string;
  /** Path of the index file, written after the data file is complete. */
  readonly index: string;
  /** The file's bytes: one Buffer, or several written one after the other. */
  readonly bytes: Buffer | readonly Buffer[];
  readonly indexBytes: Buffer;
}

export interface CommitFilesResult {
  /** Per file: null when written, else the fs error (code, syscall, path). */
  readonly errors: readonly (Error | null)[];
  /** The filesystem refused O_DIRECT (tmpfs): the batch went on buffered. */
  readonly directRefused: boolean;
}

/** The addon's raw exports (native/sluice_native.c). */
export interface NativeAddon {
  alignedBuffer(size: number, alignment?: number): ArrayBuffer;
  fallocate(fd: number, offset: number, length: number, keepSize?: boolean): void;
  fadvise(fd: number, offset: number, length: number, advice: number): void;
  /** Blocks the event loop with either WAIT flag: pass SYNC_FILE_RANGE_WRITE alone. */
  syncFileRange(fd: number, offset: number, nbytes: number, flags: number): void;
  preadCached(fd: number, buffer: Buffer, offset: number, length: number, position: number): number;
  commitFiles(
    files: readonly CommitFileWrite[],
    direct: boolean,
    sync: boolean,
  ): Promise<CommitFilesResult>;
  /**
   * CRC-32 as zlib.crc32 computes it, through Intel ISA-L; present only when the addon found
   * libisal.so.2 at load (src/common/wire/crc.ts picks it up).
   */
  crc32?(data: Uint8Array, previous: number): number;
  /** The address of the first byte covered; for alignment tests only. */
  addressOf(view: ArrayBuffer | ArrayBufferView): bigint;
  readonly FADV_NORMAL: number;
  readonly FADV_SEQUENTIAL: number;
  readonly FADV_WILLNEED: number;
  readonly FADV_DONTNEED: number;
  readonly SYNC_FILE_RANGE_WAIT_BEFORE: number;
  readonly SYNC_FILE_RANGE_WRITE: number;
  readonly SYNC_FILE_RANGE_WAIT_AFTER: number;
}

/** Alignment of O_DIRECT buffers: 4 KiB; 512 B halved the measured throughput (docs/architecture.md#worker). */
export const DEFAULT_ALIGNMENT_BYTES = 4096;
const MIN_ALIGNMENT_BYTES = 512;
const MAX_ALIGNMENT_BYTES = 2 ** 30;
/** WebAssembly memory is allocated in 64 KiB pages, and V8 aligns it to a page at least. */
const WASM_PAGE_BYTES = 65_536;
/**
 * The one WebAssembly member used. The project's libs (ES2023 + @types/node, no DOM) declare
 * no WebAssembly values, and the DOM lib would bring browser globals into daemon code.
 */
const { Memory: WasmMemory } = (
  globalThis as unknown as {
    WebAssembly: {
      Memory: new (descriptor: { initial: number; maximum?: number }) => { buffer: ArrayBuffer };
    };
  }
).WebAssembly;
/** Relative to this module, and so valid from both src/common and dist/common. */
const ADDON_SPECIFIER = '../../native/build/Release/sluice_native.node';

export type AddonLoad =
  { addon: NativeAddon; error?: undefined } | { addon?: undefined; error: Error };

/** Loads the addon without caching a failure; `specifier` resolves relative to this module. */
export function loadAddon(specifier: string = ADDON_SPECIFIER): AddonLoad {
  try {
    return { addon: createRequire(import.meta.url)(specifier) as NativeAddon };
  } catch (err) {
    return { error: err instanceof Error ? err : new Error(String(err)) };
  }
}

export interface LoadNativeOptions {
  /** Use the pure-JS fallback even when the addon is available. */
  disable?: boolean;
  /** Where to find the addon; tests point it at a missing file to exercise the fallback. */
  addonPath?: string;
}

export function loadNative(options: LoadNativeOptions = {}): NativeOps {
  if (options.disable === true) return jsOps('disabled by loadNative({ disable: true })');
  const { addon, error } = loadAddon(options.addonPath);
  if (addon === undefined) return jsOps(`native addon not loaded: ${firstLine(error)}`);
  try {
    // Probe once: a Node built without external ArrayBuffers (a V8 sandbox) loads the addon
    // but refuses its buffers, and that should cost a fallback, not every allocation.
    addon.alignedBuffer(DEFAULT_ALIGNMENT_BYTES, DEFAULT_ALIGNMENT_BYTES);
  } catch (err) {
    return jsOps(`native addon unusable: ${firstLine(err)}`);
  }
  return addonOps(addon);
}

let defaultOps: NativeOps | undefined;

/** The process-wide ops: the addon if it loads (tried once), otherwise the fallback. */
export function native(): NativeOps {
  defaultOps ??= loadNative();
  return defaultOps;
}

function addonOps(addon: NativeAddon): NativeOps {
  const advice: Record<FadviseAdvice, number> = {
    normal: addon.FADV_NORMAL,
    sequential: addon.FADV_SEQUENTIAL,
    willneed: addon.FADV_WILLNEED,
    dontneed: addon.FADV_DONTNEED,
  };
  return Object.freeze({
    kind: 'addon' as const,
    fallbackReason: undefined,
    alignedBuffer(size: number, alignment = DEFAULT_ALIGNMENT_BYTES): Buffer {
      checkAllocation(size, alignment, MAX_ALIGNMENT_BYTES);
      return Buffer.from(addon.alignedBuffer(size, alignment), 0, size);
    },
    fallocate(fd: number, offset: number, length: number, keepSize = false): boolean {
      checkRange(fd, offset, length, 1);
      try {
        addon.fallocate(fd, offset, length, keepSize);
        return true;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EOPNOTSUPP' || code === 'ENOSYS') return false;
        throw err;
      }
    },
    fadvise(fd: number, offset: number, length: number, hint: FadviseAdvice): void {
      checkRange(fd, offset, length, 0);
      checkAdvice(hint);
      addon.fadvise(fd, offset, length, advice[hint]);
    },
    syncFileRange(fd: number, offset: number, nbytes: number): void {
      checkRange(fd, offset, nbytes, 0);
      addon.syncFileRange(fd, offset, nbytes, addon.SYNC_FILE_RANGE_WRITE);
    },
    preadCached(fd: number, buffer: Buffer, offset: number, length: number, position: number) {
      // The addon checks its arguments (RangeError); this is the ESS's hot path.
      return addon.preadCached(fd, buffer, offset, length, position);
    },
    commitFiles(files: readonly CommitFileWrite[], direct: boolean, sync: boolean) {
      // The addon checks each file's fields (TypeError) before anything is written.
      return addon.commitFiles(files, direct, sync);
    },
  });
}

function jsOps(fallbackReason: string): NativeOps {
  return Object.freeze({
    kind: 'js' as const,
    fallbackReason,
    alignedBuffer(size: number, alignment = DEFAULT_ALIGNMENT_BYTES): Buffer {
      checkAllocation(size, alignment, WASM_PAGE_BYTES);
      // Memory#buffer starts on a page, is zero-filled and is freed by GC like any
      // ArrayBuffer. Each one reserves ~10 GiB of address space for V8's guard regions
      // (measured: about 13,000 live at once before "could not allocate memory"), so pool.
      const pages = Math.ceil(size / WASM_PAGE_BYTES);
      const memory = new WasmMemory({ initial: pages, maximum: pages });
      return Buffer.from(memory.buffer, 0, size);
    },
    fallocate(fd: number, offset: number, length: number): boolean {
      checkRange(fd, offset, length, 1);
      return false;
    },
    fadvise(fd: number, offset: number, length: number, hint: FadviseAdvice): void {
      checkRange(fd, offset, length, 0);
      checkAdvice(hint);
    },
    syncFileRange(fd: number, offset: number, nbytes: number): void {
      checkRange(fd, offset, nbytes, 0);
    },
    preadCached(): number {
      return -2;
    },
    async commitFiles(files: readonly CommitFileWrite[], _direct: boolean, sync: boolean) {
      // The index bytes are copied before the first await, as the addon does; not aligned,
      // so no O_DIRECT: the same bytes, buffered.
      const copies = files.map((f) => ({
        ...f,
        bytes: Buffer.isBuffer(f.bytes) ? f.bytes : Buffer.concat(f.bytes),
        indexBytes: Buffer.from(f.indexBytes),
      }));
      const errors: (Error | null)[] = [];
      for (const f of copies) {
        try {
          await writeWhole(f.data, f.bytes, sync);
          await writeWhole(f.index, f.indexBytes, sync);
          errors.push(null);
        } catch (err) {
          errors.push(err as Error);
        }
      }
      return { errors, directRefused: false };
    },
  });
}

async function writeWhole(path: string, bytes: Buffer, sync: boolean): Promise<void> {
  const fh = await open(path, 'w', 0o644);
  try {
    for (let done = 0; done < bytes.length;) {
      const { bytesWritten } = await fh.write(bytes, done, bytes.length - done, done);
      done += bytesWritten;
    }
    if (sync) await fh.sync();
  } finally {
    await fh.close();
  }
}

function checkAllocation(size: number, alignment: number, maxAlignment: number): void {
  const maxSize = Math.min(bufferConstants.MAX_LENGTH, Number.MAX_SAFE_INTEGER);
  if (!Number.isSafeInteger(size) || size < 0 || size > maxSize) {
    throw new InvalidArgumentError('size', `must be an integer in [0, ${maxSize}], got ${size}`);
  }
  if (
    !Number.isSafeInteger(alignment) ||
    alignment < MIN_ALIGNMENT_BYTES ||
    alignment > maxAlignment ||
    (alignment & (alignment - 1)) !== 0
  ) {
    throw new InvalidArgumentError(
      'alignment',
      `must be a power of two in [${MIN_ALIGNMENT_BYTES}, ${maxAlignment}], got ${alignment}`,
    );
  }
}

function checkRange(fd: number, offset: number, length: number, minLength: number): void {
  if (!Number.isInteger(fd) || fd < 0 || fd > 0x7fff_ffff) {
    throw new InvalidArgumentError('fd', `must be a file descriptor, got ${fd}`);
  }
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new InvalidArgumentError('offset', `must be a non-negative integer, got ${offset}`);
  }
  if (!Number.isSafeInteger(length) || length < minLength) {
    throw new InvalidArgumentError('length', `must be an integer >= ${minLength}, got ${length}`);
  }
}

function checkAdvice(hint: FadviseAdvice): void {
  if (!ADVICE.includes(hint)) {
    throw new InvalidArgumentError('advice', `must be one of ${ADVICE.join(', ')}, got ${hint}`);
  }
}

/** require() appends its whole require stack to the message; the first line is the reason. */
function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n', 1)[0] ?? '';
}
