// Push and fetch throughput over the last hour (docs/operations.md#dashboard), per worker and
// for the cluster, from the rates workers report in their heartbeats. Time is cut into buckets
// of `resolutionMs`; a worker's value in a bucket is the mean of the rates it reported in it,
// and the cluster's is the sum of its workers' values. Memory is fixed: `points` buckets per
// ring, one ring for the cluster and one per worker for at most `maxWorkers` workers (typed
// arrays, 16 bytes a bucket: about 11 KB a worker at 720 points, 11 MB for 1,000 workers).
import { InvalidArgumentError } from '../../common/errors.js';

/** Five-second buckets over an hour. */
export const SERIES_RESOLUTION_MS = 5_000;
export const SERIES_POINTS = 720;
/** Workers with a series of their own; the cluster's series counts every worker. */
export const SERIES_MAX_WORKERS = 1_000;

export interface SeriesOptions {
  readonly resolutionMs?: number;
  readonly points?: number;
  readonly maxWorkers?: number;
}

export interface Series {
  /** Bytes per second; null where nothing was reported in that bucket. */
  readonly push: (number | null)[];
  readonly fetch: (number | null)[];
}

/** One ring of buckets; a slot is valid for the bucket number it holds. */
class Ring {
  readonly bucket: Float64Array;
  readonly push: Float32Array;
  readonly fetch: Float32Array;

  constructor(points: number) {
    this.bucket = new Float64Array(points).fill(-1);
    this.push = new Float32Array(points);
    this.fetch = new Float32Array(points);
  }

  /** Adds to bucket `b`, starting it from zero when its slot held an older bucket. */
  add(b: number, push: number, fetch: number): void {
    const i = b % this.bucket.length;
    if (this.bucket[i] !== b) {
      this.bucket[i] = b;
      this.push[i] = 0;
      this.fetch[i] = 0;
    }
    this.push[i]! += push;
    this.fetch[i]! += fetch;
  }

  read(from: number, to: number): Series {
    const out: Series = { push: [], fetch: [] };
    for (let b = from; b < to; b++) {
      const i = b % this.bucket.length;
      const held = this.bucket[i] === b;
      out.push.push(held ? this.push[i]! : null);
      out.fetch.push(held ? this.fetch[i]! : null);
    }
    return out;
  }
}

interface WorkerState {
  /** Null past maxWorkers: the worker still counts in the cluster's series. */
  readonly ring: Ring | null;
  bucket: number;
  n: number;
  pushSum: number;
  fetchSum: number;
}

export class ThroughputSeries {
  readonly resolutionMs: number;
  readonly points: number;
  readonly #maxWorkers: number;
  readonly #cluster: Ring;
  readonly #workers = new Map<string, WorkerState>();
  #rings = 0;
  /** The oldest bucket anything was recorded in (reads start there, not an hour back). */
  #first = Number.POSITIVE_INFINITY;

  constructor(opts: SeriesOptions = {}) {
    this.resolutionMs = positive('resolutionMs', opts.resolutionMs ?? SERIES_RESOLUTION_MS);
    this.points = positive('points', opts.points ?? SERIES_POINTS);
    this.#maxWorkers = opts.maxWorkers ?? SERIES_MAX_WORKERS;
    this.#cluster = new Ring(this.points);
  }

  /** One heartbeat's rates (bytes/s) from `workerId` at `atMs`. */
  record(workerId: string, atMs: number, pushBytesPerSec: number, fetchBytesPerSec: number): void {
    const b = Math.floor(atMs / this.resolutionMs);
    this.#first = Math.min(this.#first, b);
    const w = this.#worker(workerId);
    if (w.bucket !== b) Object.assign(w, { bucket: b, n: 0, pushSum: 0, fetchSum: 0 });
    const before = w.n === 0 ? [0, 0] : [w.pushSum / w.n, w.fetchSum / w.n];
    w.n++;
    w.pushSum += pushBytesPerSec;
    w.fetchSum += fetchBytesPerSec;
    const push = w.pushSum / w.n;
    const fetch = w.fetchSum / w.n;
    // The cluster's bucket holds the sum of its workers' means: add the change of this one's.
    this.#cluster.add(b, push - before[0]!, fetch - before[1]!);
    w.ring?.add(b, push - before[0]!, fetch - before[1]!);
  }

  /** Forgets a worker's series (it left the registry). */
  drop(workerId: string): void {
    const w = this.#workers.get(workerId);
    if (!w) return;
    if (w.ring) this.#rings--;
    this.#workers.delete(workerId);
  }

  /**
   * The complete buckets up to `nowMs` (the one in progress is left out: it would show a
   * dip until every worker has reported in it), at most `points` of them, for the cluster and
   * each of `workerIds` that has a series.
   */
  read(
    nowMs: number,
    workerIds: readonly string[] = [],
  ): {
    /** Start of each bucket, ms since the epoch, oldest first. */
    times: number[];
    cluster: Series;
    workers: Record<string, Series>;
  } {
    const to = Math.floor(nowMs / this.resolutionMs);
    const from = Math.max(this.#first, to - this.points);
    const times: number[] = [];
    for (let b = from; b < to; b++) times.push(b * this.resolutionMs);
    const workers: Record<string, Series> = {};
    for (const id of workerIds) {
      const ring = this.#workers.get(id)?.ring;
      if (ring) workers[id] = ring.read(from, to);
    }
    return { times, cluster: this.#cluster.read(from, to), workers };
  }

  #worker(workerId: string): WorkerState {
    let w = this.#workers.get(workerId);
    if (!w) {
      const ring = this.#rings < this.#maxWorkers ? new Ring(this.points) : null;
      if (ring) this.#rings++;
      w = { ring, bucket: -1, n: 0, pushSum: 0, fetchSum: 0 };
      this.#workers.set(workerId, w);
    }
    return w;
  }
}

function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new InvalidArgumentError(name, `must be a positive integer, got ${value}`);
  return value;
}
