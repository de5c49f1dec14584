// The map outputs an ESS serves (docs/architecture.md#ess-mode): indexes read from disk once and kept (bounded,
// least recently used first out); a fetch of an output nobody registered still finds it on
// disk (an ESS restarted after the executors wrote), so registration is a check, not state.
import { open, readFile, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeMapOutputIndex, mapOutputBase, type MapOutputKey } from '../common/map-output.js';
import { WireProtocolError } from '../common/wire/index.js';

const MAX_CACHED = 10_000;

export interface MapOutput {
  readonly dataPath: string;
  readonly offsets: readonly number[];
}

export class MapOutputs {
  readonly #dir: string;
  readonly #cache = new Map<string, MapOutput>();
  readonly #readSlots: number;
  readonly #waiting: (() => void)[] = [];
  readonly #delayMs: number;
  #reading = 0;

  /** `readConcurrency` bounds disk reads at once; `delayMs` is fault injection (a slow disk). */
  constructor(dir: string, readConcurrency = 16, delayMs = 0) {
    this.#dir = dir;
    this.#readSlots = readConcurrency;
    this.#delayMs = delayMs;
  }

  async #slot(): Promise<void> {
    if (this.#reading < this.#readSlots) {
      this.#reading++;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve)); // the slot is handed over
  }

  #release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#reading--;
  }

  get size(): number {
    return this.#cache.size;
  }

  /** Loads (or re-reads) an output's index and checks it against its data file. */
  async load(k: MapOutputKey, fresh = false): Promise<MapOutput> {
    const key = `${k.appId}/${k.shuffleId}/${k.mapId}/${k.attemptId}`;
    const known = this.#cache.get(key);
    if (known && !fresh) {
      this.#cache.delete(key);
      this.#cache.set(key, known);
      return known;
    }
    const base = mapOutputBase(this.#dir, k);
    let offsets: number[];
    let length: number;
    try {
      offsets = decodeMapOutputIndex(await readFile(`${base}.index`));
      length = (await stat(`${base}.data`)).size;
    } catch (err) {
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      throw new WireProtocolError(
        missing ? 'NOT_FOUND' : 'INTERNAL',
        `map output ${key}: ${missing ? 'no such output on this node' : (err as Error).message}`,
      );
    }
    if (length !== offsets.at(-1))
      throw new WireProtocolError(
        'INTERNAL',
        `map output ${key}: data file is ${length} bytes, its index says ${offsets.at(-1)}`,
      );
    const out = { dataPath: `${base}.data`, offsets };
    this.#cache.set(key, out);
    while (this.#cache.size > MAX_CACHED) this.#cache.delete(this.#cache.keys().next().value!);
    return out;
  }

  /** Reads [offset, offset + maxLength) of partition `p`'s region, clamped to the region. */
  async read(
    out: MapOutput,
    p: number,
    offset: number,
    maxLength: number,
  ): Promise<{ regionLength: number; body: Buffer }> {
    if (p >= out.offsets.length - 1)
      throw new WireProtocolError(
        'NOT_FOUND',
        `partition ${p} is past the output's ${out.offsets.length - 1} partitions`,
      );
    const start = out.offsets[p]!;
    const regionLength = out.offsets[p + 1]! - start;
    if (offset > regionLength)
      throw new WireProtocolError(
        'NOT_FOUND',
        `offset ${offset} is past partition ${p}'s ${regionLength} bytes`,
      );
    const length = Math.min(maxLength, regionLength - offset);
    await this.#slot();
    try {
      // Allocated once the read may start: queued requests hold no buffers.
      const body = Buffer.allocUnsafe(length);
      if (this.#delayMs > 0) await sleep(this.#delayMs);
      await this.#readInto(out, body, start + offset);
      return { regionLength, body };
    } finally {
      this.#release();
    }
  }

  async #readInto(out: MapOutput, body: Buffer, position: number): Promise<void> {
    if (body.length === 0) return;
    const fh = await open(out.dataPath, 'r');
    try {
      let done = 0;
      while (done < body.length) {
        const { bytesRead } = await fh.read(body, done, body.length - done, position + done);
        if (bytesRead === 0) throw new WireProtocolError('INTERNAL', `${out.dataPath} ended early`);
        done += bytesRead;
      }
    } finally {
      await fh.close();
    }
  }
}
