// One partition file being written: (app, shuffle, partition, epoch). Pushed slices (whole
// blocks) are held until a flush — large parts as views of what was received, small ones
// copied into pooled staging pieces (#hold) — and the flush copies them, behind the previous
// unaligned tail, into pooled aligned buffers (one full-size buffer, or for a partial write
// units of one smaller size, written with one pwritev) and writes the aligned part; the tail (< 4 KiB) stays in
// memory until more data or the final flush, which writes it padded and truncates the file
// to its real length (design §7). Appends are synchronous; writes run on the disk's slots.
//
//   file:   [ written (aligned) ........ ][ tail ][ pending slices ........ ]
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
  #tail: Buffer = Buffer.alloc(0);
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

  /** Bytes held in memory for this file (pending slices and the unaligned tail). */
  get bufferedBytes(): number {
    return this.#pendingBytes + this.#tail.length;
  }

  get pendingBytes(): number {
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
    // only when one slice alone does (design §7: chunks of ~chunkBytes, block-aligned).
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
   * 'aligned': everything but an unaligned tail (memory pressure); 'final': everything, the
   * last write padded (finish() truncates the file), and no append is accepted after it.
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
    while (this.#pendingBytes + this.#tail.length >= minimum && !this.#error) {
      const held = this.#pendingBytes + this.#tail.length;
      const want = held >= size ? size : mode === 'final' ? held : alignDown(held);
      // One full-size buffer, or a partial write's units (each a multiple of 4 KiB).
      const bufs = this.disk.takeBuffers(want);
      // Account the buffers before the copy releases the pieces: usage never dips mid-copy.
      // A partial flush gets what it writes rounded up to 4 KiB, not a whole buffer: under
      // memory pressure, flushing must not raise the memory it lowers.
      const accounted = partsLength(bufs);
      this.#memory.acquire(accounted);
      const filled = this.#fill(bufs, Math.min(accounted, want));
      // The final write of a file takes everything left, padded to a whole block.
      const last = mode === 'final' && this.#pendingBytes === 0;
      const writeLength = last ? alignUp(filled) : alignDown(filled);
      const keep = filled - Math.min(filled, writeLength);
      // The tail and the padding lie within one 4 KiB block, hence within one buffer.
      const at = (offset: number) => {
        let i = 0;
        while (offset >= bufs[i]!.length) offset -= bufs[i++]!.length;
        return { buf: bufs[i]!, at: offset };
      };
      if (writeLength === 0) {
        this.#setTail(bufs[0]!.subarray(0, filled));
        this.#memory.release(accounted);
        this.disk.returnBuffers(bufs);
        break;
      }
      if (keep > 0) {
        const t = at(writeLength);
        this.#setTail(t.buf.subarray(t.at, t.at + keep));
      }
      // The padding of a final write reaches the disk only until the truncate in finish().
      if (writeLength > filled) {
        const p = at(filled);
        p.buf.fill(0, p.at, p.at + writeLength - filled);
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

  /** Copies the tail and then pending slices into `bufs`, up to `room` bytes; returns how many. */
  #fill(bufs: readonly Buffer[], room: number): number {
    let filled = 0;
    let index = 0;
    let offset = 0;
    /** Copies src[start, end) on from the fill position, as far as room allows. */
    const put = (src: Buffer, start: number, end: number): number => {
      let copied = 0;
      while (start + copied < end && filled < room) {
        const n = src.copy(
          bufs[index]!,
          offset,
          start + copied,
          Math.min(end, start + copied + room - filled),
        );
        copied += n;
        filled += n;
        offset += n;
        if (offset === bufs[index]!.length) {
          index++;
          offset = 0;
        }
      }
      return copied;
    };
    const tailWas = this.#tail.length;
    put(this.#tail, 0, tailWas);
    this.#tail = Buffer.alloc(0);
    let released = 0;
    while (this.#segments.length > 0 && filled < room) {
      const seg = this.#segments[0]!;
      const n = put(seg.bytes, this.#head, seg.end);
      released += n;
      this.#head += n;
      if (this.#head === seg.end) {
        this.#segments.shift();
        if (seg.piece) this.disk.returnPiece(seg.bytes);
        this.#head = 0;
      }
    }
    this.#pendingBytes -= released;
    this.#memory.release(released + tailWas);
    return filled;
  }

  /** The unaligned remainder is copied out of the pooled buffer and accounted as memory. */
  #setTail(bytes: Buffer): void {
    this.#tail = bytes.length > 0 ? Buffer.from(bytes) : Buffer.alloc(0);
    this.#memory.acquire(this.#tail.length);
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
    this.#memory.release(this.#pendingBytes + this.#tail.length);
    for (const seg of this.#segments) if (seg.piece) this.disk.returnPiece(seg.bytes);
    this.#segments = [];
    this.#head = 0;
    this.#pendingBytes = 0;
    this.#tail = Buffer.alloc(0);
  }
}
