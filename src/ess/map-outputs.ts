// The map outputs an ESS serves (docs/architecture.md#ess-mode): each output's index is read
// once and kept with its data file open (bounded, least recently used first out), so a fetch
// costs one positioned read on the libuv pool and no open/close. A fetch of an output nobody
// registered still finds it on disk (an ESS restarted after the executors wrote), so
// registration is a check, not state.
//
// The data file is opened before the index is read and its size taken from the open file: an
// output rewritten under the same ids (data renamed over, then the index) is either the old
// pair, refused when the sizes disagree, or seen fresh at its REGISTER_OUTPUT, which replaces
// the cached entry. A replaced or evicted entry's file is closed once its reads in flight end.
import { close, fstat, open, read } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { decodeMapOutputIndex, mapOutputBase, type MapOutputKey } from '../common/map-output.js';
import { native } from '../common/native.js';
import { WireProtocolError } from '../common/wire/index.js';

const openAsync = promisify(open);
const fstatAsync = promisify(fstat);

export interface MapOutput {
  readonly key: string;
  readonly dataPath: string;
  readonly offsets: readonly number[];
}

interface Entry extends MapOutput {
  readonly fd: number;
  /** Reads in flight on fd. */
  reads: number;
  /** Out of the cache: fd is closed when the last read ends. */
  retired: boolean;
}

/** The bytes read: `buffer` holds `headroom` bytes the caller fills, then the body. */
export interface RegionRead {
  readonly regionLength: number;
  readonly buffer: Buffer;
}

export function mapOutputKey(k: MapOutputKey): string {
  return `${k.appId}/${k.shuffleId}/${k.mapId}/${k.attemptId}`;
}

export class MapOutputs {
  readonly #dir: string;
  readonly #maxOpen: number;
  readonly #cache = new Map<string, Entry>();
  readonly #loading = new Map<string, Promise<Entry>>();
  readonly #readSlots: number;
  readonly #waiting: (() => void)[] = [];
  readonly #delayMs: number;
  #reading = 0;

  /**
   * `maxOpen` bounds the outputs kept (each holds an open file); `readConcurrency` bounds disk
   * reads at once; `delayMs` is fault injection (a slow disk).
   */
  constructor(o: { dir: string; maxOpen: number; readConcurrency: number; delayMs?: number }) {
    this.#dir = o.dir;
    this.#maxOpen = o.maxOpen;
    this.#readSlots = o.readConcurrency;
    this.#delayMs = o.delayMs ?? 0;
  }

  get size(): number {
    return this.#cache.size;
  }

  /** The output if it is cached (and marks it recently used): the fetch path's fast case. */
  cached(key: string): MapOutput | undefined {
    const known = this.#cache.get(key);
    if (known) {
      this.#cache.delete(key);
      this.#cache.set(key, known);
    }
    return known;
  }

  /** Loads an output (once, however many fetches ask at the same time); `fresh` re-reads it. */
  load(k: MapOutputKey, fresh = false): Promise<MapOutput> {
    const key = mapOutputKey(k);
    const known = fresh ? undefined : this.cached(key);
    if (known) return Promise.resolve(known);
    const pending = this.#loading.get(key);
    if (pending && !fresh) return pending;
    const loading = this.#open(key, mapOutputBase(this.#dir, k)).finally(() => {
      if (this.#loading.get(key) === loading) this.#loading.delete(key);
    });
    this.#loading.set(key, loading);
    return loading;
  }

  async #open(key: string, base: string): Promise<Entry> {
    const dataPath = `${base}.data`;
    let fd: number | undefined;
    try {
      fd = await openAsync(dataPath, 'r');
      const [index, st] = await Promise.all([readFile(`${base}.index`), fstatAsync(fd)]);
      const offsets = decodeMapOutputIndex(index);
      if (st.size !== offsets.at(-1))
        throw new WireProtocolError(
          'INTERNAL',
          `map output ${key}: data file is ${st.size} bytes, its index says ${offsets.at(-1)}`,
        );
      const entry: Entry = { key, dataPath, offsets, fd, reads: 0, retired: false };
      this.#insert(entry);
      return entry;
    } catch (err) {
      if (fd !== undefined) close(fd, () => undefined);
      if (err instanceof WireProtocolError) throw err;
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      throw new WireProtocolError(
        missing ? 'NOT_FOUND' : 'INTERNAL',
        `map output ${key}: ${missing ? 'no such output on this node' : (err as Error).message}`,
      );
    }
  }

  #insert(entry: Entry): void {
    const old = this.#cache.get(entry.key);
    if (old) this.#retire(old);
    this.#cache.set(entry.key, entry);
    while (this.#cache.size > this.#maxOpen) {
      const oldest = this.#cache.values().next().value!;
      this.#retire(oldest);
    }
  }

  #retire(e: Entry): void {
    if (this.#cache.get(e.key) === e) this.#cache.delete(e.key);
    if (e.retired) return;
    e.retired = true;
    if (e.reads === 0) close(e.fd, () => undefined);
  }

  /** Forgets (and closes) every cached output whose key starts with `prefix` ("app/", "app/7/"). */
  forget(prefix: string): void {
    for (const e of [...this.#cache.values()]) if (e.key.startsWith(prefix)) this.#retire(e);
  }

  /**
   * Deletes the map outputs of one shuffle of an app, or of all its shuffles (the app ended),
   * from the cache and from disk; returns how many outputs (index files) were deleted. Reads
   * in flight finish on the open files (an unlinked file stays readable until closed).
   */
  async remove(appId: string, shuffleId?: number): Promise<number> {
    const app = join(this.#dir, appId);
    this.forget(shuffleId === undefined ? `${appId}/` : `${appId}/${shuffleId}/`);
    const shuffles =
      shuffleId === undefined ? await readdir(app).catch(() => []) : [String(shuffleId)];
    let outputs = 0;
    for (const s of shuffles)
      outputs += (await readdir(join(app, s)).catch(() => [])).filter((f) =>
        f.endsWith('.index'),
      ).length;
    await rm(shuffleId === undefined ? app : join(app, String(shuffleId)), {
      recursive: true,
      force: true,
    });
    return outputs;
  }

  /** Closes every cached output (reads in flight finish first). */
  closeAll(): void {
    for (const e of [...this.#cache.values()]) this.#retire(e);
  }

  /** An open entry for `k`, counted as read from until release(): its fd stays open. */
  async #acquire(k: MapOutputKey): Promise<Entry> {
    const key = mapOutputKey(k);
    for (;;) {
      const e = (this.cached(key) as Entry | undefined) ?? ((await this.load(k)) as Entry);
      // Retired between its load and now with no read holding it: its file is closed.
      if (e.retired && e.reads === 0) continue;
      e.reads++;
      return e;
    }
  }

  #release(e: Entry): void {
    if (--e.reads === 0 && e.retired) close(e.fd, () => undefined);
  }

  /**
   * Reads [offset, offset + maxLength) of partition `p`'s region of output `k`, clamped to the
   * region, into a new buffer after `headroom` bytes.
   */
  async read(
    k: MapOutputKey,
    p: number,
    offset: number,
    maxLength: number,
    headroom = 0,
  ): Promise<RegionRead> {
    const e = await this.#acquire(k);
    try {
      return await this.#readRegion(e, p, offset, maxLength, headroom);
    } finally {
      this.#release(e);
    }
  }

  async #readRegion(
    e: Entry,
    p: number,
    offset: number,
    maxLength: number,
    headroom: number,
  ): Promise<RegionRead> {
    if (p >= e.offsets.length - 1)
      throw new WireProtocolError(
        'NOT_FOUND',
        `partition ${p} is past the output's ${e.offsets.length - 1} partitions`,
      );
    const start = e.offsets[p]!;
    const regionLength = e.offsets[p + 1]! - start;
    if (offset > regionLength)
      throw new WireProtocolError(
        'NOT_FOUND',
        `offset ${offset} is past partition ${p}'s ${regionLength} bytes`,
      );
    const length = Math.min(maxLength, regionLength - offset);
    if (this.#reading < this.#readSlots) this.#reading++;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve)); // handed a slot
    try {
      // Allocated once the read may start: queued requests hold no buffers.
      const buffer = Buffer.allocUnsafe(headroom + length);
      if (this.#delayMs > 0) await sleep(this.#delayMs);
      await readFully(e, buffer, headroom, start + offset);
      return { regionLength, buffer };
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#reading--;
    }
  }
}

/** Set once the system says it cannot read without waiting (no RWF_NOWAIT): pool reads only. */
let cachedReadsUnsupported = false;

/**
 * Fills buffer[from..] from `position` of the entry's file: what the page cache holds with a
 * read on this thread that never waits for the disk (native preadCached), the rest with
 * callback fs.read on libuv's pool (one job a read; FileHandle costs more).
 */
function readFully(e: Entry, buffer: Buffer, from: number, position: number): Promise<void> {
  let cached = 0;
  if (!cachedReadsUnsupported) {
    const ops = native();
    while (from + cached < buffer.length) {
      const n = ops.preadCached(
        e.fd,
        buffer,
        from + cached,
        buffer.length - from - cached,
        position + cached,
      );
      if (n === -2) cachedReadsUnsupported = true;
      if (n <= 0) break;
      cached += n;
    }
    if (from + cached === buffer.length) return Promise.resolve();
  }
  return new Promise((resolve, reject) => {
    const step = (done: number) => {
      if (from + done === buffer.length) return resolve();
      read(e.fd, buffer, from + done, buffer.length - from - done, position + done, (err, n) => {
        if (err) reject(new WireProtocolError('INTERNAL', `${e.dataPath}: ${err.message}`));
        else if (n === 0) reject(new WireProtocolError('INTERNAL', `${e.dataPath} ended early`));
        else step(done + n);
      });
    };
    step(cached);
  });
}
