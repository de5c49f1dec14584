// HDFS as a storage tier (storage.ts, docs/architecture.md#storage-tiers), over WebHDFS
// (webhdfs-client.ts: no JVM in the worker). The layout is the local disk's (layout.ts)
// under the URL's path:
//
//   <root>/<appId>/<shuffleId>/<partition>-<epoch>.data    the partition's bytes, in push order
//   <root>/<appId>/<shuffleId>/<partition>-<epoch>.index   written at commit: .index.tmp, RENAME
//   <root>/<appId>/<shuffleId>/ACCEPTED, COMMITTED         empty marker files
//   <root>/.probe/probe-<random>                           probe(): create, read back, delete
//
// A file's first write CREATEs it with its bytes, each later one APPENDs. HDFS lets one writer
// at a time hold a file, so a file's writes go out one after the other (a caller may queue
// the next before the previous resolved); writes of different files share the storage's
// writesInFlight slots. Any length goes (writeAlignment 1): nothing is padded.
//
// commit() waits for the writes, checks with GETFILESTATUS that HDFS holds exactly the
// index's fileLength, then writes the index to `.index.tmp` and renames it to `.index`
// (atomic on the NameNode): a file is served only once its index exists. There is no fsync to
// ask for: a WebHDFS write returns once the file is closed, its blocks on every DataNode of
// the pipeline. usage() is the filesystem's capacity as the NameNode reports it (GETSTATUS),
// zeros from servers that do not.
import { randomBytes } from 'node:crypto';
import { userInfo } from 'node:os';
import { Slots } from '../../../common/flow/slots.js';
import { ConfigError, SluiceError } from '../../../common/errors.js';
import { isAppId } from '../../../common/ids.js';
import type { NativeOps } from '../../../common/native.js';
import type { Logger } from '../../../common/obs/logger.js';
import { WireProtocolError } from '../../../common/wire/index.js';
import { partsLength } from '../../../common/wire/parts.js';
import { decodeIndex, encodeIndex, type PartitionIndex } from '../index-file.js';
import {
  ACCEPTED_MARKER,
  COMMITTED_MARKER,
  DATA_SUFFIX,
  fileBase,
  INDEX_SUFFIX,
  parseIndexName,
  type PartitionFileKey,
} from '../layout.js';
import type {
  ChunkBytes,
  ReadableFile,
  Storage,
  StoredFile,
  StoredShuffle,
  StorageUsage,
  WritableFile,
} from '../storage.js';
import { mapLimit } from '../../../common/flow/map-limit.js';
import { WriteBuffers } from '../write-buffers.js';
import { WebHdfsClient, type HdfsFileStatus, type WebHdfsClientOptions } from './webhdfs-client.js';

export const DEFAULT_HDFS_BUFFER_BYTES = 8 * 1024 * 1024;
const PROBE_DIR = '.probe';
const PROBE_BYTES = 64;
/** Index files read at once by list(): a worker may hold 100 000 partitions. */
const INDEX_READS_IN_FLIGHT = 16;
const TMP_SUFFIX = '.tmp';

export interface HdfsStorageOptions {
  /** hdfs://namenode:httpPort/root: the NameNode's HTTP (WebHDFS) port. */
  readonly url: string;
  /** WebHDFS `user.name`; default HADOOP_USER_NAME, else the OS user. */
  readonly user?: string;
  /** One write (an APPEND) when a partition flushes. Default 8 MiB, a multiple of 4 KiB. */
  readonly bufferBytes?: number;
  /** Writes in flight at once on this storage (each to a different file). Default 4. */
  readonly writesInFlight?: number;
  /** One HTTP request, its body included. Default 60 s. */
  readonly requestTimeoutMs?: number;
  /** All attempts of one operation (webhdfs-client.ts: a retried append may wait for HDFS's
   *  lease recovery, 60 s on a stock cluster). Default 90 s. */
  readonly retryBudgetMs?: number;
  /** Attempts of one operation. Default 8. */
  readonly retryAttempts?: number;
  /** Idle full-size buffers kept for reuse (default writesInFlight × 2). */
  readonly poolBuffers?: number;
  /** Called with the DataNode each CREATE, APPEND or OPEN goes to (tests stop that one). */
  readonly onDataNode?: WebHdfsClientOptions['onDataNode'];
  readonly native: NativeOps;
  readonly logger: Logger;
}

/** NameNode HTTP address and root path ('/' or '/a/b', no trailing slash) of an hdfs:// URL. */
export function parseHdfsUrl(url: string): { baseUrl: string; root: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(
      'storage.remote',
      `is not a URL: ${JSON.stringify(url)} (hdfs://namenode:port/path)`,
    );
  }
  if (parsed.protocol !== 'hdfs:' || !parsed.hostname || !parsed.port) {
    throw new ConfigError(
      'storage.remote',
      `${url} is not an hdfs://namenode:port/path URL naming the NameNode's HTTP (WebHDFS) port`,
    );
  }
  const path = decodeURIComponent(parsed.pathname).replace(/\/+$/, '');
  return { baseUrl: `http://${parsed.host}`, root: path === '' ? '/' : path };
}

/** The user WebHDFS is told, as Hadoop's own clients pick it. */
function defaultUser(): string {
  return process.env.HADOOP_USER_NAME || userInfo().username;
}

function contractError(location: string, message: string): SluiceError {
  return new SluiceError('SLUICE_ERR_INTERNAL', `${location}: ${message}`);
}

const isNotFound = (err: unknown) =>
  err instanceof SluiceError && err.code === 'SLUICE_ERR_NOT_FOUND';

const NOTHING = () => undefined;

export class HdfsStorage implements Storage {
  readonly kind = 'hdfs' as const;
  readonly name: string;
  readonly writeAlignment = 1;
  readonly bufferBytes: number;
  readonly writesInFlight: number;
  readonly client: WebHdfsClient;
  readonly logger: Logger;
  readonly #origin: string;
  readonly #root: string;
  readonly buffers: WriteBuffers;
  readonly #slots: Slots;
  /** Start times of the writes (retries included) and probes in progress. */
  readonly #operations = new Set<{ readonly startedMs: number }>();
  #queuedBytes = 0;
  #closing: Promise<void> | undefined;

  constructor(opts: HdfsStorageOptions) {
    const { baseUrl, root } = parseHdfsUrl(opts.url);
    const bufferBytes = opts.bufferBytes ?? DEFAULT_HDFS_BUFFER_BYTES;
    if (!Number.isSafeInteger(bufferBytes) || bufferBytes <= 0 || bufferBytes % 4096 !== 0) {
      throw new ConfigError(
        'storage.remoteBufferBytes',
        `${bufferBytes}: must be a positive multiple of 4096`,
      );
    }
    this.#origin = `hdfs://${new URL(baseUrl).host}`;
    this.#root = root;
    this.name = `${this.#origin}${root}`;
    this.bufferBytes = bufferBytes;
    this.writesInFlight = opts.writesInFlight ?? 4;
    this.#slots = new Slots(this.writesInFlight);
    this.logger = opts.logger;
    this.buffers = new WriteBuffers({
      bufferBytes,
      keep: opts.poolBuffers ?? this.writesInFlight * 2,
      native: opts.native,
    });
    this.client = new WebHdfsClient({
      baseUrl,
      user: opts.user || defaultUser(),
      requestTimeoutMs: opts.requestTimeoutMs,
      retryBudgetMs: opts.retryBudgetMs,
      retryAttempts: opts.retryAttempts,
      onDataNode: opts.onDataNode,
      onRetry: (op, path, err, attempt) =>
        this.logger.warn(
          { err, storage: this.name, op, path, attempt },
          'retrying an HDFS request',
        ),
    });
  }

  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** The oldest write or probe in progress, or HDFS request in flight (reads, listings). */
  oldestOperationMs(): number {
    let oldest = Infinity;
    for (const op of this.#operations) oldest = Math.min(oldest, op.startedMs);
    const operation = oldest === Infinity ? 0 : Date.now() - oldest;
    return Math.max(operation, this.client.oldestRequestMs());
  }

  markAccepted(appId: string, shuffleId: number): Promise<void> {
    return this.#putEmpty(this.#path(appId, String(shuffleId), ACCEPTED_MARKER));
  }

  markCommitted(appId: string, shuffleId: number): Promise<void> {
    return this.#putEmpty(this.#path(appId, String(shuffleId), COMMITTED_MARKER));
  }

  async create(key: PartitionFileKey): Promise<WritableFile> {
    const data = this.dataPath(key);
    return new HdfsWritableFile(
      this,
      data,
      this.#path(key.appId, String(key.shuffleId), fileBase(key) + INDEX_SUFFIX),
    );
  }

  async openRead(file: StoredFile): Promise<ReadableFile> {
    return new HdfsReadableFile(
      this.client,
      this.dataPath(file),
      this.location(this.dataPath(file)),
    );
  }

  deleteShuffle(appId: string, shuffleId: number): Promise<number> {
    return this.#deleteTree(this.#path(appId, String(shuffleId)));
  }

  deleteApp(appId: string): Promise<number> {
    return this.#deleteTree(this.#path(appId));
  }

  /**
   * Every shuffle directory under the root: its files whose index decodes and whose data
   * file has the index's length, and whether the COMMITTED marker is there.
   */
  async list(): Promise<StoredShuffle[]> {
    const found: StoredShuffle[] = [];
    for (const app of await this.#listDir(this.#root)) {
      if (app.type !== 'DIRECTORY' || !isAppId(app.pathSuffix)) continue;
      const appId = app.pathSuffix;
      for (const shuffle of await this.#listDir(this.#path(appId))) {
        if (shuffle.type !== 'DIRECTORY' || !/^\d{1,10}$/.test(shuffle.pathSuffix)) continue;
        const shuffleId = Number(shuffle.pathSuffix);
        const entries = await this.#listDir(this.#path(appId, shuffle.pathSuffix));
        const sizes = new Map(entries.map((e) => [e.pathSuffix, e.length]));
        const indexes = entries.filter(
          (e) => e.type === 'FILE' && parseIndexName(e.pathSuffix) !== undefined,
        );
        const checked = await mapLimit(indexes, INDEX_READS_IN_FLIGHT, (entry) =>
          this.#checkFile(appId, shuffleId, entry, sizes),
        );
        const files = checked.filter((f): f is StoredFile => f !== undefined);
        found.push({
          appId,
          shuffleId,
          committed: sizes.has(COMMITTED_MARKER),
          files,
          skipped: checked.length - files.length,
        });
      }
    }
    return found;
  }

  async usage(): Promise<StorageUsage> {
    const status = await this.client.getStatus();
    if (status === undefined) return { capacityBytes: 0, freeBytes: 0 };
    return { capacityBytes: status.capacity, freeBytes: status.remaining };
  }

  /** Creates a small file under <root>/.probe, reads it back, deletes it. */
  async probe(): Promise<void> {
    const op = { startedMs: Date.now() };
    this.#operations.add(op);
    const path = this.#path(PROBE_DIR, `probe-${randomBytes(8).toString('hex')}`);
    const bytes = randomBytes(PROBE_BYTES);
    try {
      await this.client.create(path, [bytes], bytes.length, { overwrite: true });
      const back = await this.client.open(path, 0, bytes.length);
      if (!back.equals(bytes)) {
        throw new SluiceError(
          'SLUICE_ERR_WORKER_STORAGE',
          `probe of ${this.name} read back other bytes (${back.length} of ${bytes.length})`,
        );
      }
    } finally {
      this.#operations.delete(op);
      await this.client.delete(path, { recursive: false }).catch(NOTHING);
    }
  }

  /** Aborts every request in flight; the storage takes no more. */
  close(): Promise<void> {
    this.buffers.close();
    this.#closing ??= (async () => this.client.close())();
    return this.#closing;
  }

  /** The hdfs:// URL of a path (StoredFile.location, logs). */
  location(path: string): string {
    return `${this.#origin}${path}`;
  }

  dataPath(k: PartitionFileKey): string {
    return this.#path(k.appId, String(k.shuffleId), fileBase(k) + DATA_SUFFIX);
  }

  /**
   * Runs `write` on one of the storage's write slots; `bytes` count as queued from now until
   * it ends, and its time as an operation in progress once it has a slot.
   */
  async inSlot<T>(bytes: number, write: () => Promise<T>): Promise<T> {
    this.#queuedBytes += bytes;
    try {
      await this.#slots.take();
      const op = { startedMs: Date.now() };
      this.#operations.add(op);
      try {
        return await write();
      } finally {
        this.#operations.delete(op);
        this.#slots.release();
      }
    } finally {
      this.#queuedBytes -= bytes;
    }
  }

  /** Counts bytes as queued before the write even waits for its file's previous one. */
  addQueued(bytes: number): void {
    this.#queuedBytes += bytes;
  }

  #path(...parts: string[]): string {
    return `${this.#root === '/' ? '' : this.#root}/${parts.join('/')}`;
  }

  #putEmpty(path: string): Promise<void> {
    return this.client.create(path, [], 0, { overwrite: true });
  }

  /** A directory's entries; none when it does not exist. */
  async #listDir(path: string): Promise<HdfsFileStatus[]> {
    try {
      return await this.client.listStatus(path);
    } catch (err) {
      if (isNotFound(err)) return [];
      throw err;
    }
  }

  /** The bytes of every file under `path` (one replica each), then the tree deleted. */
  async #deleteTree(path: string): Promise<number> {
    let bytes: number;
    try {
      bytes = (await this.client.getContentSummary(path)).length;
    } catch (err) {
      if (isNotFound(err)) return 0;
      throw err;
    }
    await this.client.delete(path, { recursive: true });
    return bytes;
  }

  /** The file of index `entry` when it checks out; undefined (and a warning) otherwise. */
  async #checkFile(
    appId: string,
    shuffleId: number,
    entry: HdfsFileStatus,
    sizes: ReadonlyMap<string, number>,
  ): Promise<StoredFile | undefined> {
    const name = entry.pathSuffix;
    const key = { appId, shuffleId, ...parseIndexName(name)! };
    const indexPath = this.#path(appId, String(shuffleId), name);
    let bytes: Buffer = Buffer.alloc(0);
    try {
      if (entry.length > 0) bytes = await this.client.open(indexPath, 0, entry.length);
    } catch (err) {
      // Deleted since the listing: nothing to serve. Any other failure fails the listing: a
      // file skipped because HDFS was briefly unavailable would be lost to the reload.
      if (isNotFound(err)) return undefined;
      throw err;
    }
    const dataName = fileBase(key) + DATA_SUFFIX;
    try {
      const index = decodeIndex(bytes);
      const size = sizes.get(dataName);
      if (size !== index.fileLength) {
        throw new Error(
          size === undefined
            ? 'its data file is missing'
            : `its data file is ${size} bytes, its index says ${index.fileLength}`,
        );
      }
      return { ...key, location: this.location(this.dataPath(key)), index };
    } catch (err) {
      this.logger.warn(
        { err, storage: this.name, appId, shuffleId, file: name },
        'not serving a committed file that does not check out',
      );
      return undefined;
    }
  }
}

/**
 * A partition file being written to HDFS: CREATE with the first write's bytes, APPEND for
 * each later one, one at a time in position order.
 */
class HdfsWritableFile implements WritableFile {
  readonly location: string;
  readonly #storage: HdfsStorage;
  readonly #path: string;
  readonly #indexPath: string;
  /** Ends the file's requests in flight (abort()). */
  readonly #abort = new AbortController();
  /** Where the next write must start: the bytes of every write accepted so far. */
  #next = 0;
  /** The last write accepted; the next one starts once it has landed. */
  #tail: Promise<void> = Promise.resolve();
  #error: Error | undefined;
  #state: 'open' | 'committing' | 'committed' | 'aborted' = 'open';
  #aborting: Promise<void> | undefined;

  constructor(storage: HdfsStorage, path: string, indexPath: string) {
    this.#storage = storage;
    this.#path = path;
    this.#indexPath = indexPath;
    this.location = storage.location(path);
  }

  write(bufs: readonly Buffer[], length: number, position: number): Promise<void> {
    try {
      this.#checkWrite(bufs, length, position);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    this.#next += length;
    const storage = this.#storage;
    // Queued from now: the write may first wait for the file's previous one.
    storage.addQueued(length);
    const write = this.#tail.then(async () => {
      storage.addQueued(-length);
      if (this.#error) throw this.#error;
      if (this.#state === 'aborted') throw contractError(this.location, 'write after abort');
      await storage.inSlot(length, () => this.#send(bufs, length, position));
    });
    this.#tail = write.catch((err: Error) => {
      this.#error ??= err;
    });
    return write;
  }

  /** The file's bytes are all in HDFS; the index goes next to them, atomically. */
  async commit(index: PartitionIndex, _fsync: boolean): Promise<void> {
    if (this.#state !== 'open')
      throw contractError(this.location, `commit of a file that is ${this.#state}`);
    this.#state = 'committing';
    await this.#tail;
    if (this.#error) throw this.#error;
    if (index.fileLength !== this.#next) {
      throw contractError(
        this.location,
        `commit of ${index.fileLength} bytes, but ${this.#next} were written`,
      );
    }
    const { client } = this.#storage;
    const signal = this.#abort.signal;
    if (this.#next === 0) await client.create(this.#path, [], 0, { overwrite: true, signal });
    const { length } = await client.getFileStatus(this.#path);
    if (length !== index.fileLength) {
      throw new SluiceError(
        'SLUICE_ERR_WORKER_STORAGE',
        `${this.location} is ${length} bytes in HDFS after its writes, not ${index.fileLength}`,
        { context: { location: this.location, length, expected: index.fileLength } },
      );
    }
    const bytes = encodeIndex(index);
    const tmp = this.#indexPath + TMP_SUFFIX;
    await client.create(tmp, [bytes], bytes.length, { overwrite: true, signal });
    await client.rename(tmp, this.#indexPath);
    this.#state = 'committed';
  }

  /** Stops the writes and deletes what was written (and a committed index); never rejects. */
  abort(): Promise<void> {
    this.#aborting ??= this.#abortOnce();
    return this.#aborting;
  }

  async #abortOnce(): Promise<void> {
    const was = this.#state;
    this.#state = 'aborted';
    this.#abort.abort();
    // Nothing may recreate the file after the DELETE: wait for the write being sent to end.
    await this.#tail;
    const { client, logger } = this.#storage;
    try {
      if (was === 'committing' || was === 'committed') {
        await client.delete(this.#indexPath, { recursive: false });
        await client.delete(this.#indexPath + TMP_SUFFIX, { recursive: false });
      }
      await client.delete(this.#path, { recursive: false });
    } catch (err) {
      logger.warn(
        { err, location: this.location },
        'could not remove an abandoned file from HDFS; deleting its shuffle removes it',
      );
    }
  }

  #send(bufs: readonly Buffer[], length: number, position: number): Promise<void> {
    const { client } = this.#storage;
    const signal = this.#abort.signal;
    return position === 0
      ? client.create(this.#path, bufs, length, { overwrite: true, signal })
      : client.append(this.#path, bufs, length, position, { signal });
  }

  /** Throws unless the write keeps the contract (storage.ts). */
  #checkWrite(bufs: readonly Buffer[], length: number, position: number): void {
    if (this.#state !== 'open')
      throw contractError(this.location, `write to a file that is ${this.#state}`);
    if (this.#error) throw this.#error;
    if (!Number.isSafeInteger(length) || length <= 0)
      throw contractError(this.location, `write of ${length} bytes`);
    if (position !== this.#next)
      throw contractError(
        this.location,
        `write at ${position}, but the file ends at ${this.#next}`,
      );
    if (partsLength(bufs) < length)
      throw contractError(this.location, `write of ${length} bytes from ${partsLength(bufs)}`);
  }
}

/** Ranged reads of a committed file: one OPEN per read. */
class HdfsReadableFile implements ReadableFile {
  readonly #client: WebHdfsClient;
  readonly #path: string;
  readonly #location: string;

  constructor(client: WebHdfsClient, path: string, location: string) {
    this.#client = client;
    this.#path = path;
    this.#location = location;
  }

  async read(position: number, length: number): Promise<ChunkBytes> {
    if (length === 0) return { body: Buffer.alloc(0), release: NOTHING };
    let body: Buffer;
    try {
      body = await this.#client.open(this.#path, position, length);
    } catch (err) {
      // An offset at or past the end is refused (IOException: out of the range).
      if (err instanceof SluiceError && err.code === 'SLUICE_ERR_WORKER_STORAGE') {
        const status = await this.#client.stat(this.#path).catch(NOTHING);
        if (status !== undefined && status.length <= position)
          throw this.#short(position, length, 0);
      }
      throw err;
    }
    if (body.length < length) throw this.#short(position, length, body.length);
    return { body, release: NOTHING };
  }

  async close(): Promise<void> {}

  #short(position: number, length: number, got: number): WireProtocolError {
    return new WireProtocolError(
      'CORRUPT_FILE',
      `${this.#location} has ${got} of the ${length} bytes at ${position}: shorter than its index`,
      { context: { location: this.#location, position, length, got } },
    );
  }
}
