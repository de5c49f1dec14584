// One partition file being written: (app, shuffle, partition, epoch), on one storage
// (storage.ts). Pushed slices (whole blocks) are copied into the storage's pooled staging
// pieces (#hold) and held there until a flush, which writes full aligned pieces as they are
// and copies anything else into the storage's pooled buffers (one full-size buffer, or for a
// partial write several units) and writes them at the end of what is written. A full or
// partial flush writes a multiple of the storage's writeAlignment (4 KiB on a local disk, the
// part size on S3) and leaves the rest pending; the final flush writes everything and
// finish() commits the file (docs/architecture.md#worker). Appends are synchronous; writes
// run on the storage's slots.
//
//   file:   [ written ........ ][ pending slices ........ ]
//                               ^ written (a multiple of writeAlignment until the final flush)
import { crc32, crc32Combine } from '../../common/wire/crc.js';
import { partsLength } from '../../common/wire/parts.js';
import type { MemoryManager } from '../memory/memory-manager.js';
import type { PartitionIndex } from './index-file.js';
import { fileKey, type PartitionFileKey } from './layout.js';
import type { Storage, WholeFile, WritableFile } from './storage.js';
import { ALIGNMENT } from './aligned-pool.js';
import { alignDown, alignUp, PIECE_BYTES, SMALL_PIECE_BYTES } from './write-buffers.js';

export interface PartitionWriterOptions {
  readonly key: PartitionFileKey;
  readonly storage: Storage;
  readonly memory: MemoryManager;
  readonly chunkBytes: number;
  /** Called once when a write fails (the storage's health counts it). */
  readonly onWriteError?: (err: Error) => void;
  /** Called after every write that reached the storage (metrics; the flusher's next round). */
  readonly onWrite?: (bytes: number, seconds: number) => void;
}

interface Segment {
  readonly bytes: Buffer;
  /** Bytes of `bytes` already copied out. */
  start: number;
  /** Bytes of `bytes` that are data (a staging piece fills up over several appends). */
  end: number;
  /** A pooled staging piece, given back to the storage once copied out. */
  readonly piece: boolean;
}

export class PartitionWriter {
  readonly key: PartitionFileKey;
  #storage: Storage;
  readonly #memory: MemoryManager;
  readonly #chunkBytes: number;
  readonly #onWriteError: ((err: Error) => void) | undefined;
  readonly #onWrite: ((bytes: number, seconds: number) => void) | undefined;
  #file: Promise<WritableFile> | undefined;
  /** Pending bytes, in order: staging pieces (and a moved file's unwritten tail, moveTo). */
  #segments: Segment[] = [];
  #pendingBytes = 0;
  #length = 0;
  #crc = 0;
  #written = 0;
  readonly #chunkStarts: number[] = [];
  readonly #writes = new Set<Promise<void>>();
  #error: Error | undefined;
  #finished = false;
  #committed = false;
  #flushing = false;
  /** Set while the file moves to another storage (moveTo): flushes wait. */
  #moving: Promise<void> | undefined;
  #moveStarted = false;
  /** Staging pieces handed to commitWhole with the file's bytes (takeWhole). */
  #taken: Segment[] | undefined;
  /** Where commitWhole put the file. */
  #wholeLocation: string | undefined;

  constructor(opts: PartitionWriterOptions) {
    this.key = opts.key;
    this.#storage = opts.storage;
    this.#memory = opts.memory;
    this.#chunkBytes = opts.chunkBytes;
    this.#onWriteError = opts.onWriteError;
    this.#onWrite = opts.onWrite;
  }

  /** Where the file is (it may move: moveTo). */
  get storage(): Storage {
    return this.#storage;
  }

  /** Logical file length: everything appended, written or not. */
  get length(): number {
    return this.#length;
  }

  /** Where the file is: the storage's name and the file's key (logs). */
  get where(): string {
    return `${this.storage.name}: ${fileKey(this.key)}`;
  }

  /** Bytes held in memory for this file and not yet on their way to the storage. */
  get bufferedBytes(): number {
    return this.#pendingBytes;
  }

  /** Set when a write failed: the file is lost on this worker (the replica has it). */
  get error(): Error | undefined {
    return this.#error;
  }

  /**
   * Appends one slice of whole blocks, in one Buffer or as the parts it arrived in (views of
   * socket chunks, valid only during this call: they are copied); its memory is accounted
   * until it is written.
   */
  append(slice: Buffer | readonly Buffer[], sliceCrc?: number): void {
    if (this.#finished) throw new Error(`${this.where} is already committed`);
    const parts = Buffer.isBuffer(slice) ? [slice] : slice;
    const length = partsLength(parts);
    // Nothing to add; an empty slice would only open an empty chunk.
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
   * Copies a part into the storage's pooled staging pieces until the flush. Parts are views
   * of pooled receive slabs, reused once the push is handled (src/common/net/receive-buffers.ts),
   * so nothing received is held as a view; and a copy of its own per slice was a fresh
   * allocation, the worker's largest cost with many partitions and small slices (bench
   * scenario 5).
   */
  #hold(part: Buffer): void {
    for (let at = 0; at < part.length;) {
      let last = this.#segments.at(-1);
      if (
        last?.piece &&
        last.end === last.bytes.length &&
        last.bytes.length === SMALL_PIECE_BYTES
      ) {
        // A full small piece with more to come moves into a full piece: full pieces after a
        // 512-byte one would start off 4 KiB alignment, and never be written as they are.
        const full = this.storage.buffers.takePiece('full');
        const n = last.bytes.copy(full, 0, last.start, last.end);
        this.storage.buffers.givePiece(last.bytes);
        last = { bytes: full, start: 0, end: n, piece: true };
        this.#segments[this.#segments.length - 1] = last;
      }
      if (last === undefined || !last.piece || last.end === last.bytes.length) {
        // Nothing staged yet and little to stage: a small piece (most partitions of a shuffle
        // with 10^5+ partitions never hold more than a few hundred bytes).
        const size = last === undefined && part.length - at <= SMALL_PIECE_BYTES ? 'small' : 'full';
        last = { bytes: this.storage.buffers.takePiece(size), start: 0, end: 0, piece: true };
        this.#segments.push(last);
      }
      const n = part.copy(last.bytes, last.end, at);
      last.end += n;
      at += n;
    }
  }

  /**
   * Hands buffered data to the storage. 'full': only whole pooled buffers (the steady state);
   * 'aligned': all but the rest below writeAlignment (memory pressure); 'final': everything,
   * and no append is accepted after it.
   */
  flush(mode: 'full' | 'aligned' | 'final' = 'full'): void {
    if (this.#error) return this.#dropPending();
    if (mode === 'final') this.#finished = true;
    // A memory listener may call back into flush while we copy: the outer loop goes on. While
    // the file moves, data waits in memory (finish() flushes after the move).
    if (this.#flushing || this.#moving) return;
    this.#flushing = true;
    try {
      this.#flushLoop(mode);
    } finally {
      this.#flushing = false;
    }
  }

  #flushLoop(mode: 'full' | 'aligned' | 'final'): void {
    const storage = this.storage;
    const size = storage.bufferBytes;
    const alignment = storage.writeAlignment;
    const minimum = mode === 'full' ? size : mode === 'aligned' ? alignment : 1;
    while (this.#pendingBytes >= minimum && !this.#error) {
      const held = this.#pendingBytes;
      const want = held >= size ? size : mode === 'final' ? held : alignDown(held, alignment);
      const pieces = storage.writesPieces ? this.#takePieces(want) : undefined;
      if (pieces) {
        // The pieces themselves are written: no copy. Their bytes stay accounted until then.
        const position = this.#written;
        this.#written += want;
        this.#track(
          this.#write(pieces.bufs, want, position).finally(() => {
            this.#memory.release(want);
            for (const piece of pieces.owned) storage.buffers.givePiece(piece);
          }),
        );
        continue;
      }
      // One full-size buffer, or a partial write's units (each a multiple of 4 KiB).
      const bufs = storage.buffers.take(want);
      // Account the buffers before the copy releases the pieces: usage never dips mid-copy.
      // A partial flush gets what it writes rounded up to 4 KiB, not a whole buffer: under
      // memory pressure, flushing must not raise the memory it lowers.
      const accounted = partsLength(bufs);
      this.#memory.acquire(accounted);
      this.#fill(bufs, want);
      const position = this.#written;
      this.#written += want;
      this.#track(
        this.#write(bufs, want, position).finally(() => {
          this.#memory.release(accounted);
          storage.buffers.give(bufs);
        }),
      );
    }
  }

  /** Final flush, wait for every write, commit the file (durable, index written). */
  async finish(fsync: boolean): Promise<PartitionIndex> {
    if (!this.#finished) this.flush('final');
    if (this.#moving) {
      await this.#moving;
      this.flush('final');
    }
    await Promise.all(this.#writes);
    if (this.#error) throw this.#error;
    const index: PartitionIndex = {
      fileLength: this.#length,
      fileCrc32: this.#crc >>> 0,
      chunkStarts: [...this.#chunkStarts],
    };
    const file = await this.#open();
    await file.commit(index, fsync);
    this.#committed = true;
    return index;
  }

  /**
   * The commit of a file none of whose bytes went to its storage yet, when the storage can
   * write such files whole (Storage.commitWhole): the file's bytes and index. No append or
   * flush follows; wholeDone() says how it went. Undefined for any other file: finish() it.
   */
  takeWhole(): WholeFile | undefined {
    if (this.#finished || this.#file || this.#moveStarted || this.#error) return undefined;
    if (!this.storage.commitWhole) return undefined;
    this.#finished = true;
    const segments = this.#segments;
    const views = segments.map((seg) => seg.bytes.subarray(seg.start, seg.end));
    // Out of the writer: a flush under memory pressure must not write them meanwhile.
    this.#taken = segments;
    this.#segments = [];
    this.#pendingBytes = 0;
    return {
      key: this.key,
      // The pieces themselves, not a join of them: they stay ours until wholeDone.
      bytes: views.length === 1 ? views[0]! : views,
      index: {
        fileLength: this.#length,
        fileCrc32: this.#crc >>> 0,
        chunkStarts: [...this.#chunkStarts],
      },
    };
  }

  /** After takeWhole: the file is committed at `location`, or failed (undefined). */
  wholeDone(location: string | undefined): void {
    if (!this.#taken) return;
    for (const seg of this.#taken) if (seg.piece) this.storage.buffers.givePiece(seg.bytes);
    this.#taken = undefined;
    this.#memory.release(this.#length);
    this.#wholeLocation = location;
    this.#committed = location !== undefined;
  }

  /** Where the committed file's data is (a path or URL); undefined before the file exists. */
  async location(): Promise<string | undefined> {
    return this.#wholeLocation ?? (await this.#file?.catch(() => undefined))?.location;
  }

  /**
   * Stops everything: pending memory is released, writes in progress are awaited, and an
   * uncommitted file is removed from its storage (a committed one stays). Returns the bytes
   * it removed (what had been written of an uncommitted file).
   */
  async discard(): Promise<number> {
    this.#finished = true;
    this.#dropPending();
    await Promise.allSettled([...this.#writes]);
    await this.#moving?.catch(() => undefined);
    if (!this.#file || this.#committed) return 0;
    const file = await this.#file.catch(() => undefined);
    this.#committed = true; // nothing left to remove: a second discard removes nothing
    if (!file) return 0;
    const removed = await file.abort().then(
      () => true,
      () => false,
    );
    return removed ? this.#written : 0;
  }

  /**
   * The first `length` pending bytes as the full pieces holding them, when they all lie in
   * full pieces from an aligned offset (the steady state; a partition's first small piece, or
   * a moved file's tail, goes the copying way): `bufs` to write, `owned` to give back after
   * the write. The piece the write ends in keeps its rest, copied into a fresh piece; the last
   * piece of a final write is handed over up to its next 4 KiB boundary, room for the
   * padding the storage writes. Undefined when a copy is needed.
   */
  #takePieces(length: number): { bufs: Buffer[]; owned: Buffer[] } | undefined {
    const segments = this.#segments;
    for (let i = 0, covered = 0; covered < length; i++) {
      const seg = segments[i]!;
      if (!seg.piece || seg.bytes.length !== PIECE_BYTES || seg.start % ALIGNMENT !== 0) return;
      covered += seg.end - seg.start;
    }
    const bufs: Buffer[] = [];
    const owned: Buffer[] = [];
    for (let left = length; left > 0;) {
      const seg = segments[0]!;
      const n = Math.min(seg.end - seg.start, left);
      left -= n;
      owned.push(seg.bytes);
      if (seg.start + n === seg.end) {
        const room = seg.end === seg.bytes.length ? seg.end : alignUp(seg.end);
        bufs.push(seg.bytes.subarray(seg.start, room));
        segments.shift();
      } else {
        bufs.push(seg.bytes.subarray(seg.start, seg.start + n));
        const fresh = this.storage.buffers.takePiece('full');
        const rest = seg.bytes.copy(fresh, 0, seg.start + n, seg.end);
        segments[0] = { bytes: fresh, start: 0, end: rest, piece: true };
      }
    }
    this.#pendingBytes -= length;
    return { bufs, owned };
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
        seg.start,
        Math.min(seg.end, seg.start + length - filled),
      );
      filled += n;
      offset += n;
      if (offset === bufs[index]!.length) {
        index++;
        offset = 0;
      }
      seg.start += n;
      if (seg.start === seg.end) {
        this.#segments.shift();
        if (seg.piece) this.storage.buffers.givePiece(seg.bytes);
      }
    }
    this.#pendingBytes -= length;
    this.#memory.release(length);
  }

  /** Whether moveTo was called (a file moves at most once). */
  get moveStarted(): boolean {
    return this.#moveStarted;
  }

  /**
   * Moves the file to `to` (storage.remoteAfterBytes: a large file continues on the remote
   * tier): waits for the writes in flight, copies what is written to a new file there —
   * whole writes of the new storage; the rest becomes pending again, in memory — removes the
   * old file and goes on writing on `to`. Appends go on meanwhile, held in memory (accounted;
   * the memory manager pauses pushes if they pile up). On failure the file stays where it
   * was and the error is returned to log.
   */
  moveTo(to: Storage): Promise<void> {
    this.#moveStarted = true;
    const moving = this.#move(to).finally(() => {
      this.#moving = undefined;
      if (!this.#finished) this.flush('full');
    });
    this.#moving = moving;
    return moving;
  }

  async #move(to: Storage): Promise<void> {
    await Promise.all(this.#writes);
    if (this.#error || this.#committed || this.#finished) return;
    const from = await this.#file?.catch(() => undefined);
    if (!from?.readWritten) return; // nothing written yet, or a storage that cannot be read back
    const written = this.#written;
    const whole = alignDown(written, to.writeAlignment);
    const target = await to.create(this.key);
    let tail: Buffer | undefined;
    try {
      for (let at = 0; at < whole;) {
        const length = Math.min(to.bufferBytes, whole - at);
        const bytes = await from.readWritten(at, length);
        const bufs = to.buffers.take(length);
        const accounted = partsLength(bufs);
        this.#memory.acquire(accounted);
        try {
          let copied = 0;
          for (const b of bufs) copied += bytes.copy(b, 0, copied);
          await target.write(bufs, length, at);
        } finally {
          this.#memory.release(accounted);
          to.buffers.give(bufs);
        }
        at += length;
      }
      if (whole < written) tail = await from.readWritten(whole, written - whole);
      // Discarded meanwhile (its shuffle deleted): the copy goes too.
      if (this.#committed || this.#error)
        throw new Error(`${this.where} was discarded while moving`);
    } catch (err) {
      await target.abort().catch(() => undefined);
      throw err;
    }
    await from.abort().catch(() => undefined);
    if (tail) {
      this.#segments.unshift({ bytes: tail, start: 0, end: tail.length, piece: false });
      this.#pendingBytes += tail.length;
      this.#memory.acquire(tail.length);
    }
    this.#written = whole;
    this.#storage = to;
    this.#file = Promise.resolve(target);
  }

  #open(): Promise<WritableFile> {
    this.#file ??= this.storage.create(this.key);
    return this.#file;
  }

  async #write(bufs: readonly Buffer[], length: number, position: number): Promise<void> {
    try {
      const file = await this.#open();
      const started = process.hrtime.bigint();
      await file.write(bufs, length, position);
      this.#onWrite?.(length, Number(process.hrtime.bigint() - started) / 1e9);
    } catch (err) {
      if (!this.#error) {
        this.#error = err as Error;
        this.#onWriteError?.(this.#error);
      }
      this.#dropPending();
    }
  }

  #track(p: Promise<void>): void {
    this.#writes.add(p);
    void p.then(() => this.#writes.delete(p));
  }

  #dropPending(): void {
    this.#memory.release(this.#pendingBytes);
    for (const seg of this.#segments) if (seg.piece) this.storage.buffers.givePiece(seg.bytes);
    this.#segments = [];
    this.#pendingBytes = 0;
  }
}
