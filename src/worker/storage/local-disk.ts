// One local disk, the default storage tier (storage.ts, docs/architecture.md#storage-tiers):
// files opened with O_DIRECT where the filesystem accepts it (buffered otherwise), a bounded
// number of writes in flight, pooled aligned buffers so O_DIRECT writes never allocate on the
// hot path, and O_DIRECT reads of committed chunks (chunk-reader.ts). Measured on this
// machine: O_DIRECT with 4 KiB-aligned buffers and several writes in flight reaches
// ~1.6-1.9 GB/s, buffered writes from Node only ~0.5 GB/s. Everything about alignment lives
// here: a file's last write is padded to a block and the file truncated at commit.
import { constants, existsSync, promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Slots } from '../../common/flow/slots.js';
import { isAppId } from '../../common/ids.js';
import type { Logger } from '../../common/obs/logger.js';
import { mapLimit } from '../../common/flow/map-limit.js';
import type { CommitFileWrite, NativeOps } from '../../common/native.js';
import { sliceParts } from '../../common/wire/parts.js';
import { ALIGNMENT } from './aligned-pool.js';
import { ChunkReader } from './chunk-reader.js';
import { encodeIndex, readIndexFile, writeIndexFile, type PartitionIndex } from './index-file.js';
import { defaultOpenFileBudget, OpenFiles, type Reopenable } from './open-files.js';
import {
  ACCEPTED_MARKER,
  appDir,
  COMMITTED_MARKER,
  dataPath,
  indexPath,
  parseIndexName,
  shuffleDir,
  type PartitionFileKey,
} from './layout.js';
import type {
  ReadableFile,
  Storage,
  StoredFile,
  StoredShuffle,
  StorageUsage,
  WholeFile,
  WritableFile,
} from './storage.js';
import { alignDown, alignUp, WriteBuffers } from './write-buffers.js';

export { ALIGNMENT, alignDown, alignUp };

export interface LocalDiskOptions {
  readonly dir: string;
  readonly writesInFlight: number;
  readonly directIo: boolean;
  /** Size of each pooled aligned buffer (a multiple of ALIGNMENT). */
  readonly bufferBytes: number;
  /**
   * Idle aligned buffers kept for reuse (default writesInFlight × 4). Many partitions filling
   * at once queue more writes than there are slots; a buffer allocated per write costs a
   * zero-filled allocation, page faults and garbage collection (measured: bench/README).
   */
  readonly poolBuffers?: number;
  /** Idle staging pieces kept for reuse (write-buffers.ts; default: poolBuffers' bytes). */
  readonly poolPieces?: number;
  readonly native: NativeOps;
  /** Reads committed chunks; one may be shared by every disk (its pool). Default: its own. */
  readonly reader?: ChunkReader;
  readonly logger?: Logger;
  /** Fault injection (test.diskWriteBytesPerSec): a slow disk. 0 = full speed. */
  readonly throttleBytesPerSec?: number;
  /**
   * Fault injection (test.diskFaultFile): while `<dir>/<faultFile>` exists, every write, sync
   * and probe on this disk fails with EIO — a disk that starts failing, on demand.
   */
  readonly faultFile?: string;
  /** Called after every completed write (metrics). */
  readonly onWrite?: (bytes: number, seconds: number) => void;
  /** fsync the ACCEPTED and COMMITTED markers and their directories (worker.fsyncOnCommit). */
  readonly syncMarkers?: boolean;
  /** Partition files open for writing, shared by the worker's disks (worker.maxOpenFiles). */
  readonly openFiles?: OpenFiles;
}

/**
 * A batch of files written whole at commit (commitWhole): one thread-pool task. Batches of 16,
 * 64 and 256 small files cost the same CPU per file within noise (bench/commit-files.mjs on
 * tmpfs); 64 leaves several batches to run at once on the disk's write slots.
 */
const COMMIT_BATCH_FILES = 64;
/** A batch is cut after this many bytes, so that a commit's batches share the write slots. */
const COMMIT_BATCH_BYTES = 1024 * 1024;

/** The probe's file: written, read back and deleted (storage health). */
const PROBE_NAME = '.sluice-probe';

export class LocalDisk implements Storage {
  readonly kind = 'disk' as const;
  readonly dir: string;
  readonly writeAlignment = ALIGNMENT;
  readonly writesPieces = true;
  readonly writesInFlight: number;
  readonly #opts: LocalDiskOptions;
  readonly buffers: WriteBuffers;
  readonly openFiles: OpenFiles;
  readonly #reader: ChunkReader;
  readonly #slots: Slots;
  /** Start times of the writes and probes in progress. */
  readonly #operations = new Set<{ readonly startedMs: number }>();
  #queuedBytes = 0;
  #throttleFreeAt = 0;
  /** False once the filesystem refused O_DIRECT; later files go buffered right away. */
  #directWorks: boolean;

  constructor(opts: LocalDiskOptions) {
    if (opts.bufferBytes % ALIGNMENT !== 0)
      throw new RangeError(`bufferBytes must be a multiple of ${ALIGNMENT}`);
    this.dir = opts.dir;
    this.writesInFlight = opts.writesInFlight;
    this.#slots = new Slots(this.writesInFlight);
    this.#opts = opts;
    this.#directWorks = opts.directIo;
    this.openFiles = opts.openFiles ?? new OpenFiles(defaultOpenFileBudget());
    // Flushes of many partitions often queue more writes than there are slots: keep enough
    // buffers that the steady state does not allocate (and garbage-collect) per write.
    this.buffers = new WriteBuffers({
      bufferBytes: opts.bufferBytes,
      keep: opts.poolBuffers ?? opts.writesInFlight * 4,
      keepPieces: opts.poolPieces,
      native: opts.native,
    });
    this.#reader =
      opts.reader ??
      new ChunkReader({
        directIo: opts.directIo,
        poolBytes: 4 * opts.bufferBytes,
        native: opts.native,
      });
  }

  get name(): string {
    return this.dir;
  }

  get directIo(): boolean {
    return this.#directWorks;
  }

  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  get bufferBytes(): number {
    return this.buffers.bufferBytes;
  }

  oldestOperationMs(): number {
    let oldest = Infinity;
    for (const op of this.#operations) oldest = Math.min(oldest, op.startedMs);
    return oldest === Infinity ? 0 : Date.now() - oldest;
  }

  /** The shuffle's directory: the durable trace, found after a restart, that data was acked. */
  async markAccepted(appId: string, shuffleId: number): Promise<void> {
    await this.#mark(appId, shuffleId, ACCEPTED_MARKER);
  }

  async markCommitted(appId: string, shuffleId: number): Promise<void> {
    await this.#mark(appId, shuffleId, COMMITTED_MARKER);
  }

  /**
   * Writes an empty marker in the shuffle's directory. With syncMarkers it is made durable:
   * the file, then every directory from the shuffle's up to the disk's, so a power loss
   * cannot leave acknowledged data without its ACCEPTED trace, or keep a COMMITTED marker of
   * files that are not there.
   */
  async #mark(appId: string, shuffleId: number, marker: string): Promise<void> {
    this.#checkFault();
    const dir = shuffleDir(this.dir, appId, shuffleId);
    await fsp.mkdir(dir, { recursive: true });
    const path = join(dir, marker);
    if (!this.#opts.syncMarkers) return fsp.writeFile(path, '');
    const fh = await fsp.open(path, 'w');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    for (const d of [dir, appDir(this.dir, appId), this.dir]) {
      const dh = await fsp.open(d, 'r');
      try {
        await dh.sync();
      } finally {
        await dh.close();
      }
    }
  }

  async create(key: PartitionFileKey): Promise<WritableFile> {
    this.#checkFault();
    const path = dataPath(this.dir, key);
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC;
    await this.openFiles.admit();
    let file: LocalFile | undefined;
    try {
      if (this.#directWorks) {
        try {
          const fh = await openCreating(path, flags | constants.O_DIRECT);
          file = new LocalFile(this, key, path, fh, true);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
          this.#directWorks = false; // e.g. tmpfs: fall back to buffered writes for good
        }
      }
      file ??= new LocalFile(this, key, path, await openCreating(path, flags), false);
    } catch (err) {
      this.openFiles.abandoned();
      throw err;
    }
    this.openFiles.opened(file);
    return file;
  }

  /**
   * Writes files held whole in memory at commit in batches (COMMIT_BATCH_FILES, or
   * COMMIT_BATCH_BYTES), each batch one thread-pool task of the native addon
   * (NativeOps.commitFiles): per file the same calls as create + write + commit, and the same
   * order (data, then its index; fsync of both with `fsync`), without a pool hop per call.
   * A batch holds one write slot and one descriptor of the open-file budget at a time.
   */
  async commitWhole(files: readonly WholeFile[], fsync: boolean): Promise<(string | Error)[]> {
    const results = new Array<string | Error>(files.length);
    const batches: number[][] = [];
    let bytes = Infinity;
    for (const [i, f] of files.entries()) {
      if (bytes >= COMMIT_BATCH_BYTES || batches.at(-1)!.length >= COMMIT_BATCH_FILES) {
        batches.push([]);
        bytes = 0;
      }
      batches.at(-1)!.push(i);
      bytes += f.index.fileLength;
    }
    await mapLimit(batches, this.writesInFlight, async (batch) => {
      const writes = batch.map((i) => ({
        data: dataPath(this.dir, files[i]!.key),
        index: indexPath(this.dir, files[i]!.key),
        bytes: files[i]!.bytes,
        indexBytes: encodeIndex(files[i]!.index),
      }));
      const errors = await this.#commitBatch(writes, fsync);
      await Promise.all(
        batch.map(async (i, k) => {
          const err = errors[k];
          results[i] = err ?? writes[k]!.data;
          // What a failed file left: nothing of it may look committed, nor take room.
          if (err) await removeFiles(writes[k]!.data, writes[k]!.index);
        }),
      );
    });
    return results;
  }

  async #commitBatch(writes: CommitFileWrite[], fsync: boolean): Promise<(Error | null)[]> {
    await this.#slots.take();
    const op = { startedMs: Date.now() };
    this.#operations.add(op);
    const budget = this.openFiles;
    const descriptor: Reopenable = { busy: true, release: async () => undefined };
    try {
      await budget.admit();
      budget.opened(descriptor);
      this.#checkFault();
      const done = await this.#opts.native.commitFiles(writes, this.#directWorks, fsync);
      if (done.directRefused) this.#directWorks = false; // e.g. tmpfs, as in create()
      // A data directory removed under the worker is made again, as create() does.
      const errors = [...done.errors];
      const missing = [...errors.keys()].filter((k) => errorCode(errors[k]) === 'ENOENT');
      if (missing.length === 0) return errors;
      for (const dir of new Set(missing.map((k) => dirname(writes[k]!.data))))
        await fsp.mkdir(dir, { recursive: true });
      const again = await this.#opts.native.commitFiles(
        missing.map((k) => writes[k]!),
        this.#directWorks,
        fsync,
      );
      missing.forEach((k, j) => (errors[k] = again.errors[j]!));
      return errors;
    } catch (err) {
      return writes.map(() => err as Error);
    } finally {
      budget.forget(descriptor);
      this.#operations.delete(op);
      this.#slots.release();
    }
  }

  async openRead(file: StoredFile): Promise<ReadableFile> {
    const input = await this.#reader.open(file.location);
    return {
      read: (position, length) => this.#reader.read(input, position, length),
      close: () => input.handle.close(),
    };
  }

  async deleteShuffle(appId: string, shuffleId: number): Promise<number> {
    return removeTree(shuffleDir(this.dir, appId, shuffleId));
  }

  async deleteApp(appId: string): Promise<number> {
    return removeTree(appDir(this.dir, appId));
  }

  /**
   * Every shuffle directory: files whose index decodes and whose data file has the index's
   * length, and whether the COMMITTED marker is there.
   */
  async list(): Promise<StoredShuffle[]> {
    const found: StoredShuffle[] = [];
    for (const appId of await listDir(this.dir)) {
      if (!isAppId(appId)) continue; // lost+found and the like: not Sluice's
      for (const shuffleName of await listDir(appDir(this.dir, appId))) {
        if (!/^\d{1,10}$/.test(shuffleName)) continue;
        const shuffleId = Number(shuffleName);
        const names = await listDir(shuffleDir(this.dir, appId, shuffleId));
        const files: StoredFile[] = [];
        let skipped = 0;
        for (const name of names) {
          const parsed = parseIndexName(name);
          if (!parsed) continue;
          const key = { appId, shuffleId, ...parsed };
          try {
            const index = await readIndexFile(indexPath(this.dir, key));
            const location = dataPath(this.dir, key);
            if ((await fsp.stat(location)).size !== index.fileLength)
              throw new Error('data file length differs from its index');
            files.push({ ...key, location, index });
          } catch (err) {
            skipped++;
            this.#opts.logger?.warn(
              { err, disk: this.dir, appId, shuffleId, file: name },
              'not serving a committed file that does not check out',
            );
          }
        }
        found.push({
          appId,
          shuffleId,
          committed: names.includes(COMMITTED_MARKER),
          files,
          skipped,
        });
      }
    }
    return found;
  }

  async usage(): Promise<StorageUsage> {
    const s = await fsp.statfs(this.dir); // async: a hung mount must not block the loop
    return { capacityBytes: s.blocks * s.bsize, freeBytes: s.bavail * s.bsize };
  }

  /** Writes a block (O_DIRECT where possible), syncs, reads it back, deletes it. */
  async probe(): Promise<void> {
    const op = { startedMs: Date.now() };
    this.#operations.add(op);
    const path = join(this.dir, PROBE_NAME);
    try {
      this.#checkFault();
      // A data directory removed under the worker is made again, as a new file's would be.
      await fsp.mkdir(this.dir, { recursive: true });
      const [block] = this.buffers.take(ALIGNMENT) as [Buffer];
      try {
        block.fill(0x5a);
        const flags = constants.O_RDWR | constants.O_CREAT;
        const fh = this.#directWorks
          ? await fsp.open(path, flags | constants.O_DIRECT, 0o644).catch((err: unknown) => {
              if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
              return fsp.open(path, flags, 0o644); // tmpfs
            })
          : await fsp.open(path, flags, 0o644);
        try {
          await fh.write(block, 0, ALIGNMENT, 0);
          await fh.sync();
          block.fill(0);
          const { bytesRead } = await fh.read(block, 0, ALIGNMENT, 0);
          if (bytesRead !== ALIGNMENT || block.some((b) => b !== 0x5a))
            throw new Error(`probe of ${this.dir} read back other bytes`);
        } finally {
          await fh.close();
        }
      } finally {
        this.buffers.give([block]);
      }
    } finally {
      this.#operations.delete(op);
      await fsp.rm(path, { force: true }).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    this.buffers.close();
  }

  /**
   * Writes `length` bytes of `bufs` at `position`, waiting for a free write slot first. The
   * position is aligned (every earlier write was whole blocks) and the length is rounded up
   * to a block: the buffers (from takeBuffers) have the room, and the padding is zeroed.
   */
  async write(
    file: LocalFile,
    bufs: readonly Buffer[],
    length: number,
    position: number,
  ): Promise<void> {
    // Always whole blocks (buffered files too, the same format either way); the padding of
    // a file's last write is truncated at commit.
    const writeLength = alignUp(length);
    if (writeLength > length) zeroFill(bufs, length, writeLength);
    this.#queuedBytes += writeLength;
    try {
      await this.#slots.take();
      const op = { startedMs: Date.now() };
      this.#operations.add(op);
      try {
        this.#checkFault();
        await this.#throttle(writeLength);
        const started = process.hrtime.bigint();
        await file.use(async (fh) => {
          let done = 0;
          while (done < writeLength) {
            const { bytesWritten } =
              bufs.length === 1
                ? await fh.write(bufs[0]!, done, writeLength - done, position + done)
                : await fh.writev(sliceParts(bufs, done, writeLength), position + done);
            if (bytesWritten === 0) throw new Error(`short write to ${file.location}`);
            done += bytesWritten;
          }
          // Buffered files (O_DIRECT refused): start writeback now so dirty pages do not pile
          // up until the commit's fsync; O_DIRECT writes bypass the page cache.
          if (!file.direct) this.#opts.native.syncFileRange(fh.fd, position, writeLength);
        });
        this.#opts.onWrite?.(writeLength, Number(process.hrtime.bigint() - started) / 1e9);
      } finally {
        this.#operations.delete(op);
        this.#slots.release();
      }
    } finally {
      this.#queuedBytes -= writeLength;
    }
  }

  /** Fault injection: EIO while the fault file exists. */
  #checkFault(): void {
    const name = this.#opts.faultFile;
    if (name && existsSync(join(this.dir, name))) {
      throw Object.assign(new Error(`EIO: i/o error (injected: ${join(this.dir, name)} exists)`), {
        code: 'EIO',
      });
    }
  }

  checkFault(): void {
    this.#checkFault();
  }

  async #throttle(length: number): Promise<void> {
    const rate = this.#opts.throttleBytesPerSec ?? 0;
    if (rate <= 0) return;
    const now = Date.now();
    const start = Math.max(now, this.#throttleFreeAt);
    this.#throttleFreeAt = start + (length / rate) * 1000;
    await sleep(this.#throttleFreeAt - now);
  }
}

/**
 * Opens (creating) a file, and its directory if that is missing: one call per file where a
 * mkdir before every open was two, 10^5 times in a 10^5-partition shuffle.
 */
async function openCreating(path: string, flags: number): Promise<FileHandle> {
  try {
    return await fsp.open(path, flags, 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await fsp.mkdir(dirname(path), { recursive: true });
    return fsp.open(path, flags, 0o644);
  }
}

/**
 * A partition file on a local disk. Its descriptor may be closed while no write is in flight
 * (the worker's open-file budget, open-files.ts) and is opened again, without truncating, by
 * the next write or the commit.
 */
class LocalFile implements WritableFile, Reopenable {
  readonly #disk: LocalDisk;
  readonly #key: PartitionFileKey;
  readonly location: string;
  readonly direct: boolean;
  #handle: FileHandle | undefined;
  #reopening: Promise<FileHandle> | undefined;
  #inFlight = 0;
  #closed = false;

  constructor(
    disk: LocalDisk,
    key: PartitionFileKey,
    path: string,
    handle: FileHandle,
    direct: boolean,
  ) {
    this.#disk = disk;
    this.#key = key;
    this.location = path;
    this.#handle = handle;
    this.direct = direct;
  }

  get busy(): boolean {
    return this.#inFlight > 0;
  }

  /** Runs `f` with the file's descriptor, opened again if the budget closed it. */
  async use<T>(f: (fh: FileHandle) => Promise<T>): Promise<T> {
    if (this.#closed) throw new Error(`${this.location} is already committed or aborted`);
    this.#inFlight++;
    try {
      const fh = this.#handle ?? (await (this.#reopening ??= this.#reopen()));
      this.#disk.openFiles.touch(this);
      return await f(fh);
    } finally {
      if (--this.#inFlight === 0) this.#disk.openFiles.wake();
    }
  }

  async #reopen(): Promise<FileHandle> {
    const budget = this.#disk.openFiles;
    try {
      await budget.admit();
      const flags = constants.O_WRONLY | (this.direct ? constants.O_DIRECT : 0);
      try {
        this.#handle = await fsp.open(this.location, flags);
      } catch (err) {
        budget.abandoned();
        throw err;
      }
      budget.opened(this);
      return this.#handle;
    } finally {
      this.#reopening = undefined;
    }
  }

  async release(): Promise<void> {
    const fh = this.#handle;
    this.#handle = undefined;
    await fh?.close();
  }

  write(bufs: readonly Buffer[], length: number, position: number): Promise<void> {
    return this.#disk.write(this, bufs, length, position);
  }

  /** Truncates the padding of the last write, fsyncs, closes, writes the index. */
  async commit(index: PartitionIndex, fsync: boolean): Promise<void> {
    this.#disk.checkFault();
    await this.use(async (fh) => {
      await fh.truncate(index.fileLength);
      if (fsync) await fh.sync();
    });
    await this.#close();
    await writeIndexFile(indexPath(this.#disk.dir, this.#key), index, fsync);
  }

  /** Reads back what was written, through the page cache (a move to another tier). */
  async readWritten(position: number, length: number): Promise<Buffer> {
    const fh = await fsp.open(this.location, 'r');
    try {
      const buf = Buffer.allocUnsafe(length);
      for (let done = 0; done < length;) {
        const { bytesRead } = await fh.read(buf, done, length - done, position + done);
        if (bytesRead === 0) throw new Error(`${this.location} is shorter than what was written`);
        done += bytesRead;
      }
      return buf;
    } finally {
      await fh.close();
    }
  }

  async abort(): Promise<void> {
    await this.#close().catch(() => undefined);
    await fsp.rm(this.location, { force: true }).catch(() => undefined);
  }

  /** For good: the budget forgets the file, and a later use() throws. */
  async #close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#reopening?.catch(() => undefined);
    this.#disk.openFiles.forget(this);
    await this.release();
  }
}

function errorCode(err: Error | null | undefined): string | undefined {
  return (err as NodeJS.ErrnoException | null | undefined)?.code;
}

/** Removes files if they are there (best effort). */
async function removeFiles(...paths: string[]): Promise<void> {
  await Promise.all(paths.map((p) => fsp.rm(p, { force: true }).catch(() => undefined)));
}

/** Zeroes bytes [from, to) of the buffers taken as one. */
function zeroFill(bufs: readonly Buffer[], from: number, to: number): void {
  let at = 0;
  for (const buf of bufs) {
    const start = Math.max(from, at);
    const end = Math.min(to, at + buf.length);
    if (start < end) buf.fill(0, start - at, end - at);
    at += buf.length;
    if (at >= to) break;
  }
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await fsp.readdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw err;
  }
}

/** Deletes a directory tree; returns the bytes of the regular files it held (0 if absent). */
async function removeTree(path: string): Promise<number> {
  const bytes = await treeBytes(path);
  await fsp.rm(path, { recursive: true, force: true });
  return bytes;
}

async function treeBytes(path: string): Promise<number> {
  let total = 0;
  for (const name of await listDir(path)) {
    const child = join(path, name);
    const st = await fsp.stat(child).catch(() => undefined);
    if (st?.isDirectory()) total += await treeBytes(child);
    else if (st?.isFile()) total += st.size;
  }
  return total;
}
