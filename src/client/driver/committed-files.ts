// The driver's record of a committed shuffle's files, and of what each winning map attempt
// wrote: columns of typed arrays rather than an object per file (with its path string) or per
// (map, partition). A 10^6-partition shuffle commits 2 x 10^6 replicas, about 40 bytes each
// here (docs/architecture.md#lifecycle-of-one-shuffle, docs/client.md#large-shuffles).
import { SluiceError } from '../../common/errors.js';
import type { CommittedFile__Output } from '../../common/proto/gen/sluice/v1/CommittedFile.js';
import type { FileReplica } from '../../common/proto/gen/sluice/v1/FileReplica.js';
import type { PartitionWritten__Output } from '../../common/proto/gen/sluice/v1/PartitionWritten.js';
import type { WorkerAddress__Output } from '../../common/proto/gen/sluice/v1/WorkerAddress.js';

/** Typed-array columns that grow by doubling. */
class Columns<K extends string> {
  length = 0;
  #capacity: number;
  readonly #kinds: Record<K, Uint32ArrayConstructor | Float64ArrayConstructor>;
  cols: Record<K, Uint32Array | Float64Array>;

  constructor(kinds: Record<K, Uint32ArrayConstructor | Float64ArrayConstructor>, capacity = 64) {
    this.#kinds = kinds;
    this.#capacity = capacity;
    this.cols = this.#alloc(capacity);
  }

  /** Index of a new row (its cells zero until set). */
  push(): number {
    if (this.length === this.#capacity) {
      this.#capacity *= 2;
      const bigger = this.#alloc(this.#capacity);
      for (const k of Object.keys(this.cols) as K[]) bigger[k].set(this.cols[k]);
      this.cols = bigger;
    }
    return this.length++;
  }

  #alloc(n: number): Record<K, Uint32Array | Float64Array> {
    const out = {} as Record<K, Uint32Array | Float64Array>;
    for (const k of Object.keys(this.#kinds) as K[]) out[k] = new this.#kinds[k](n);
    return out;
  }
}

const FILE_COLUMNS = {
  partition: Uint32Array,
  epoch: Uint32Array,
  worker: Uint32Array,
  length: Float64Array,
  crc32: Uint32Array,
  chunkCount: Uint32Array,
  /** Index into the path table: the path's directory, or (FULL_PATH bit) the whole path. */
  path: Uint32Array,
};
const FULL_PATH = 0x8000_0000;

/** One worker's CommitFiles answer, page by page. Dropped whole when a page fails. */
export class WorkerFiles {
  readonly worker: WorkerAddress__Output;
  readonly rows = new Columns(FILE_COLUMNS);

  constructor(worker: WorkerAddress__Output) {
    this.worker = worker;
  }

  /**
   * Adds a page of the worker's answer. A file of a partition the shuffle does not have means
   * the answer cannot be trusted: the whole answer is refused (the driver then counts that
   * worker as failed, and its partitions are looked for on the other replicas).
   */
  add(files: readonly CommittedFile__Output[], paths: PathTable, numPartitions: number): void {
    for (const f of files) {
      if (!(f.partition < numPartitions)) {
        throw new SluiceError(
          'SLUICE_ERR_INTERNAL',
          `worker ${this.worker.workerId} answered CommitFiles with a file of partition ${f.partition}, but the shuffle has ${numPartitions} partitions`,
          { retriable: false, context: { workerId: this.worker.workerId } },
        );
      }
    }
    for (const f of files) {
      const i = this.rows.push();
      const c = this.rows.cols;
      c.partition[i] = f.partition;
      c.epoch[i] = f.epoch;
      c.length[i] = Number(f.length);
      c.crc32[i] = f.crc32;
      c.chunkCount[i] = f.chunkCount;
      c.path[i] = paths.encode(f.path, f.partition, f.epoch);
    }
  }
}

/**
 * Paths as "<directory>/<partition>-<epoch>.data" share a few directories per worker: each
 * directory is stored once. A path of another shape is stored whole.
 */
export class PathTable {
  readonly #ids = new Map<string, number>();
  readonly #strings: string[] = [];

  encode(path: string, partition: number, epoch: number): number {
    const name = `/${partition}-${epoch}.data`;
    const dir = path.endsWith(name) ? path.slice(0, -name.length) : undefined;
    const key = dir ?? `\0${path}`;
    let id = this.#ids.get(key);
    if (id === undefined) {
      id = this.#strings.length;
      this.#ids.set(key, id);
      this.#strings.push(dir ?? path);
    }
    return dir === undefined ? id | FULL_PATH : id;
  }

  decode(code: number, partition: number, epoch: number): string {
    const s = this.#strings[code & ~FULL_PATH]!;
    return code & FULL_PATH ? s : `${s}/${partition}-${epoch}.data`;
  }
}

/**
 * Every committed replica of a shuffle, by partition: the workers' answers merged and bucketed
 * by partition (a counting sort, linear in files and partitions). Read like a
 * `Map<partition, Map<epoch, FileReplica[]>>`; the maps are built per call.
 */
export class CommittedFiles {
  readonly #workers: WorkerAddress__Output[];
  readonly #paths: PathTable;
  readonly #rows: WorkerFiles[];
  /** Rows of partition p: #order[#starts[p] .. #starts[p + 1]), as (worker index, row). */
  readonly #starts: Uint32Array;
  readonly #order: Uint32Array;
  readonly #orderWorker: Uint32Array;

  constructor(numPartitions: number, answers: readonly WorkerFiles[], paths: PathTable) {
    this.#rows = [...answers];
    this.#workers = answers.map((a) => a.worker);
    this.#paths = paths;
    const starts = new Uint32Array(numPartitions + 1);
    for (const a of answers) {
      const part = a.rows.cols.partition;
      for (let i = 0; i < a.rows.length; i++) starts[part[i]! + 1]!++;
    }
    for (let p = 0; p < numPartitions; p++) starts[p + 1]! += starts[p]!;
    const total = starts[numPartitions]!;
    const next = starts.slice(0, numPartitions);
    this.#order = new Uint32Array(total);
    this.#orderWorker = new Uint32Array(total);
    for (const [w, a] of answers.entries()) {
      const part = a.rows.cols.partition;
      for (let i = 0; i < a.rows.length; i++) {
        const at = next[part[i]!]!++;
        this.#order[at] = i;
        this.#orderWorker[at] = w;
      }
    }
    this.#starts = starts;
  }

  /** Replicas of a partition by epoch; undefined when no worker committed any. */
  get(partition: number): Map<number, FileReplica[]> | undefined {
    if (partition + 1 >= this.#starts.length) return undefined;
    const from = this.#starts[partition]!;
    const to = this.#starts[partition + 1]!;
    if (from === to) return undefined;
    const byEpoch = new Map<number, FileReplica[]>();
    for (let k = from; k < to; k++) {
      const w = this.#orderWorker[k]!;
      const i = this.#order[k]!;
      const c = this.#rows[w]!.rows.cols;
      const epoch = c.epoch[i]!;
      const replicas = byEpoch.get(epoch) ?? [];
      byEpoch.set(epoch, replicas);
      replicas.push({
        worker: this.#workers[w],
        path: this.#paths.decode(c.path[i]!, partition, epoch),
        length: c.length[i]!,
        crc32: c.crc32[i]!,
        chunkCount: c.chunkCount[i]!,
      });
    }
    return byEpoch;
  }

  /** Whether some worker committed (partition, epoch). */
  has(partition: number, epoch: number): boolean {
    if (partition + 1 >= this.#starts.length) return false;
    for (let k = this.#starts[partition]!; k < this.#starts[partition + 1]!; k++)
      if (this.#rows[this.#orderWorker[k]!]!.rows.cols.epoch[this.#order[k]!] === epoch)
        return true;
    return false;
  }

  /** Committed replicas in all. */
  get replicaCount(): number {
    return this.#order.length;
  }

  *entries(): IterableIterator<[number, Map<number, FileReplica[]>]> {
    for (let p = 0; p + 1 < this.#starts.length; p++) {
      const byEpoch = this.get(p);
      if (byEpoch) yield [p, byEpoch];
    }
  }

  *values(): IterableIterator<Map<number, FileReplica[]>> {
    for (const [, byEpoch] of this.entries()) yield byEpoch;
  }

  [Symbol.iterator](): IterableIterator<[number, Map<number, FileReplica[]>]> {
    return this.entries();
  }
}

const WRITTEN_COLUMNS = {
  partition: Uint32Array,
  bytes: Float64Array,
  crc32: Uint32Array,
  blocks: Uint32Array,
  /** Bit e set: epoch e acknowledged a block (epochs < 32; others in #highEpochs). */
  epochs: Uint32Array,
};

/**
 * What one winning attempt wrote, by partition (MapperEnd's PartitionWritten list), sorted by
 * partition for binary search. Read like a `Map<partition, PartitionWritten>`.
 */
export class PartitionTotals {
  readonly #rows: Columns<keyof typeof WRITTEN_COLUMNS>;
  /** Rows naming an epoch >= 32 (a group reallocated that often): their whole epoch list. */
  readonly #highEpochs = new Map<number, number[]>();

  /** `written` must be sorted by partition with no repeats (ShuffleState checks). */
  constructor(written: readonly PartitionWritten__Output[]) {
    this.#rows = new Columns(WRITTEN_COLUMNS, Math.max(1, written.length));
    for (const p of written) {
      const i = this.#rows.push();
      const c = this.#rows.cols;
      c.partition[i] = p.partition;
      c.bytes[i] = Number(p.bytes);
      c.crc32[i] = p.crc32;
      c.blocks[i] = p.blocks;
      let mask = 0;
      for (const e of p.epochs) mask |= e < 32 ? 1 << e : 0;
      c.epochs[i] = mask;
      if (p.epochs.some((e) => e >= 32)) this.#highEpochs.set(i, [...p.epochs]);
    }
  }

  get size(): number {
    return this.#rows.length;
  }

  get(partition: number): PartitionWritten__Output | undefined {
    const part = this.#rows.cols.partition;
    let lo = 0;
    let hi = this.#rows.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const p = part[mid]!;
      if (p === partition) return this.#row(mid);
      if (p < partition) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  /** Calls `f` for each (partition, epoch) this attempt wrote, without building objects. */
  forEachEpoch(f: (partition: number, epoch: number) => void): void {
    const c = this.#rows.cols;
    for (let i = 0; i < this.#rows.length; i++) {
      const high = this.#highEpochs.get(i);
      if (high) for (const e of high) f(c.partition[i]!, e);
      else
        for (let m = c.epochs[i]!, e = 0; m !== 0; m >>>= 1, e++) if (m & 1) f(c.partition[i]!, e);
    }
  }

  *keys(): IterableIterator<number> {
    for (let i = 0; i < this.#rows.length; i++) yield this.#rows.cols.partition[i]!;
  }

  *values(): IterableIterator<PartitionWritten__Output> {
    for (let i = 0; i < this.#rows.length; i++) yield this.#row(i);
  }

  *entries(): IterableIterator<[number, PartitionWritten__Output]> {
    for (const p of this.values()) yield [p.partition, p];
  }

  [Symbol.iterator](): IterableIterator<[number, PartitionWritten__Output]> {
    return this.entries();
  }

  #row(i: number): PartitionWritten__Output {
    const c = this.#rows.cols;
    const high = this.#highEpochs.get(i);
    const epochs = high ? [...high] : [];
    if (!high) for (let m = c.epochs[i]!, e = 0; m !== 0; m >>>= 1, e++) if (m & 1) epochs.push(e);
    return {
      partition: c.partition[i]!,
      epochs,
      bytes: c.bytes[i]!,
      crc32: c.crc32[i]!,
      blocks: c.blocks[i]!,
    };
  }
}
