// One partition file being written: (app, shuffle, partition, epoch). Pushed slices (whole
// blocks) are held until a flush — large parts as views of what was received, small ones
// copied into pooled staging pieces (#hold) — and the flush copies them into pooled aligned
// buffers (one full-size buffer, or for a partial write units of 64 KiB and 4 KiB, written
// together with pwritev) and writes them at the end of what is written. A full or partial
// flush writes whole 4 KiB blocks and leaves the unaligned rest pending; the final flush
// writes everything, padded to a block, and finish() truncates the file to its real length
// (docs/architecture.md#worker). Appends are synchronous; writes run on the disk's slots.
//
//   file:   [ written (aligned) ........ ][ pending slices ........ ]
//                                         ^ writtenBytes (multiple of 4 KiB)
import { crc32 } from 'node:zlib';
import { crc32Combine } from '../../common/wire/crc.js';
import { partsLength } from '../../common/wire/parts.js';
import type { MemoryManager } from '../memory/memory-manager.js';
import { ALIGNMENT, alignDown, alignUp, type DiskFile, type LocalDisk } from './local-disk.js';
import type { PartitionIndex } from './index-file.js';
import type { PartitionFileKey } from './layout.js';

export interface PartitionWriterOptions {
  readonly key: PartitionFileKey;
  readonly path: string;
  readonly disk: LocalDisk;
  readonly memory: MemoryManager;
  readonly chunkBytes: number;
}

/**
 * Smaller parts are always copied: a slow or hostile peer sending tiny TCP segments must not
 * make the worker keep an object and a socket buffer per few bytes.
 */
const MIN_VIEW_BYTES = 16 * 1024;

interface Segment {
  readonly bytes: Buffer;
  /** Bytes of `bytes` that are data (a staging piece fills up over several appends). */
  end: number;
  /** A pooled staging piece, given back to the disk once copied out. */
  readonly piece: boolean;
}

export class PartitionWriter {
  readonly key: PartitionFileKey;
  readonly path: string;
  readonly disk: LocalDisk;
  readonly #memory: MemoryManager;
  readonly #chunkBytes: number;
  #file: Promise<DiskFile> | undefined;
  /** Pending bytes, in order: views of large received parts and staging pieces. */
  #segments: Segment[] = [];
  /** Bytes of #segments[0] already copied out. */
  #head = 0;
  #pendingBytes = 0;
  #length = 0;
  #crc = 0;
  #written = 0;
  readonly #chunkStarts: number[] = [];
  readonly #writes = new Set<Promise<void>>();
  #error: Error | undefined;
  #finished = false;
  #flushing = false;

  constructor(opts: PartitionWriterOptions) {
    this.key = opts.key;
    this.path = opts.path;
    this.disk = opts.disk;
    this.#memory = opts.memory;
    this.#chunkBytes = opts.chunkBytes;
  }

  /** Logical file length: everything appended, written or not. */
  get length(): number {
    return this.#length;
  }

  /** Bytes held in memory for this file and not yet on their way to the disk. */
  get bufferedBytes(): number {
    return this.#pendingBytes;
  }

  /** Set when a write failed: the file is lost on this worker (the replica has it). */
  get error(): Error | undefined {
    return this.#error;
  }

  /**
   * Appends one slice of whole blocks, in one Buffer or as the parts it arrived in (views of
   * socket chunks); its memory is accounted until it is written.
   */
  append(slice: Buffer | readonly Buffer[], sliceCrc?: number): void {
    if (this.#finished) throw new Error(`${this.path} is already committed`);
    const parts = Buffer.isBuffer(slice) ? [slice] : slice;
    const length = partsLength(parts);
    // Nothing to add; an empty slice would also reset the running CRC (zlib's crc32 of an
    // empty Buffer returns 0 whatever the initial value) and could open an empty chunk.
    if (length === 0) return;
    // Chunk boundaries fall on slice (hence block) boundaries: a new chunk starts before a
    // slice that would take the current one past chunkBytes, so a chunk exceeds chunkBytes
    // only when one slice alone does (docs/architecture.md#worker: chunks of ~chunkBytes, block-aligned).
    const chunkStart = this.#chunkStarts.at(-1);
    const inChunk = chunkStart === undefined ? 0 : this.#length - chunkStart;
    if (chunkStart === undefined || (inChunk > 0 && inChunk + length > this.#chunkBytes)) {
      this.#chunkStarts.push(this.#length);
    }
    let crc = this.#crc;
    for (const part of parts) {
      if (part.length === 0) continue;
      if (sliceCrc === undefined) crc = crc32(part, crc);
      this.#hold(part);
    }
    this.#crc = sliceCrc === undefined ? crc : crc32Combine(this.#crc, sliceCrc, length);
    this.#pendingBytes += length;
    this.#length += length;
    this.#memory.acquire(length);
  }

  /**
   * Holds a part until the flush. A part that is most of its buffer (a socket chunk of a
   * large push) is kept as a view: copying it costs more than holding it (bench scenario 2).
   * A smaller one is copied into the disk's pooled staging pieces: held as a view it would
   * keep its whole chunk alive, and a copy of its own was a fresh allocation per slice, the
   * worker's largest cost with many partitions and small slices (bench scenario 5).
   */
  #hold(part: Buffer): void {
    if (part.length >= MIN_VIEW_BYTES && part.buffer.byteLength <= 2 * part.length) {
      this.#segments.push({ bytes: part, end: part.length, piece: false });
      return;
    }
    for (let at = 0; at < part.length;) {
      let last = this.#segments.at(-1);
      if (last === undefined || !last.piece || last.end === last.bytes.length) {
        last = { bytes: this.disk.takePiece(), end: 0, piece: true };
        this.#segments.push(last);
      }
      const n = part.copy(last.bytes, last.end, at);
      last.end += n;
      at += n;
    }
  }

  /**
   * Hands buffered data to the disk. 'full': only whole pooled buffers (the steady state);
   * 'aligned': all but the unaligned rest, < 4 KiB (memory pressure); 'final': everything,
   * the last write padded (finish() truncates the file), and no append is accepted after it.
   */
  flush(mode: 'full' | 'aligned' | 'final' = 'full'): void {
    if (this.#error) return this.#dropPending();
    // A memory listener may call back into flush while we copy: the outer loop goes on.
    if (this.#flushing) return;
    this.#flushing = true;
    try {
      if (mode === 'final') this.#finished = true;
      this.#flushLoop(mode);
    } finally {
      this.#flushing = false;
    }
  }

  #flushLoop(mode: 'full' | 'aligned' | 'final'): void {
    const size = this.disk.bufferBytes;
    const minimum = mode === 'full' ? size : mode === 'aligned' ? ALIGNMENT : 1;
    while (this.#pendingBytes >= minimum && !this.#error) {
      const held = this.#pendingBytes;
      const want = held >= size ? size : mode === 'final' ? held : alignDown(held);
      // One full-size buffer, or a partial write's units (each a multiple of 4 KiB).
      const bufs = this.disk.takeBuffers(want);
      // Account the buffers before the copy releases the pieces: usage never dips mid-copy.
      // A partial flush gets what it writes rounded up to 4 KiB, not a whole buffer: under
      // memory pressure, flushing must not raise the memory it lowers.
      const accounted = partsLength(bufs);
      this.#memory.acquire(accounted);
      this.#fill(bufs, want);
      // Every write but a file's last is whole 4 KiB blocks (want is aligned); the last is
      // padded to one, and the padding reaches the disk only until the truncate in finish().
      const writeLength = alignUp(want);
      if (writeLength > want) {
        let buf = 0;
        let at = want;
        while (at >= bufs[buf]!.length) at -= bufs[buf++]!.length;
        bufs[buf]!.fill(0, at, at + writeLength - want); // within one 4 KiB block
      }
      const position = this.#written;
      this.#written += writeLength;
      this.#track(
        this.#write(bufs, writeLength, position).finally(() => {
          this.#memory.release(accounted);
          this.disk.returnBuffers(bufs);
        }),
      );
    }
  }

  /** Final flush, wait for every write, truncate to the real length, fsync. */
  async finish(fsync: boolean): Promise<PartitionIndex> {
    if (!this.#finished) this.flush('final');
    await Promise.all(this.#writes);
    if (this.#error) throw this.#error;
    const file = await this.#open();
    await file.handle.truncate(this.#length);
    if (fsync) await file.handle.sync();
    return {
      fileLength: this.#length,
      fileCrc32: this.#crc >>> 0,
      chunkStarts: [...this.#chunkStarts],
    };
  }

  /** Stops everything: pending memory is released; writes in progress are awaited. */
  async discard(): Promise<void> {
    this.#finished = true;
    this.#dropPending();
    await Promise.allSettled([...this.#writes]);
    if (this.#file)
      await (await this.#file.catch(() => undefined))?.handle.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    if (this.#file) await (await this.#file).handle.close();
  }

  /** Moves the first `length` pending bytes (at most what `bufs` hold) into `bufs`. */
  #fill(bufs: readonly Buffer[], length: number): void {
    let index = 0;
    let offset = 0;
    let filled = 0;
    while (filled < length) {
      const seg = this.#segments[0]!;
      const n = seg.bytes.copy(
        bufs[index]!,
        offset,
        this.#head,
        Math.min(seg.end, this.#head + length - filled),
      );
      filled += n;
      offset += n;
      if (offset === bufs[index]!.length) {
        index++;
        offset = 0;
      }
      this.#head += n;
      if (this.#head === seg.end) {
        this.#segments.shift();
        if (seg.piece) this.disk.returnPiece(seg.bytes);
        this.#head = 0;
      }
    }
    this.#pendingBytes -= length;
    this.#memory.release(length);
  }

  #open(): Promise<DiskFile> {
    this.#file ??= this.disk.create(this.path);
    return this.#file;
  }

  async #write(bufs: readonly Buffer[], length: number, position: number): Promise<void> {
    try {
      await this.disk.write(await this.#open(), bufs, length, position);
    } catch (err) {
      this.#error ??= err as Error;
      this.#dropPending();
    }
  }

  #track(p: Promise<void>): void {
    this.#writes.add(p);
    void p.then(() => this.#writes.delete(p));
  }

  #dropPending(): void {
    this.#memory.release(this.#pendingBytes);
    for (const seg of this.#segments) if (seg.piece) this.disk.returnPiece(seg.bytes);
    this.#segments = [];
    this.#head = 0;
    this.#pendingBytes = 0;
  }
}
