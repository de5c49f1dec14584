// Shared machinery of the fault-injection suite (issue 5): a job driver whose records are
// derived from (mapId, attemptId, index), so any record read back can be told apart from the
// records of a losing attempt or from garbage; readers; and exact verification of every
// partition against what the winning attempts wrote (record counts plus a SHA-256 of each
// partition's sorted records). Free of vitest: the chaos runner (chaos.ts) uses it too, and
// classifies failures by the error classes below.
import { createHash } from 'node:crypto';
import {
  CorruptShuffleDataError,
  FetchFailedError,
  ShuffleClient,
  ShuffleDataLostError,
  ShuffleDriver,
  type CommitOutcome,
  type ShuffleClientOptions,
  type ShuffleDriverOptions,
  type WriteResult,
} from '../../src/client/index.js';
import { ProcessCluster, type ProcessClusterOptions } from '../../src/testing/process-cluster.js';

export interface JobShape {
  readonly maps: number;
  readonly partitions: number;
  readonly recordsPerMap: number;
  readonly maxPartitionsPerGroup: number;
  /** Maps running at the same time. */
  readonly concurrency: number;
}

/** The fast variant in `npm test`: ~3 MB of records, 8 partition groups. */
export const FAST_SHAPE: JobShape = {
  maps: 12,
  partitions: 40,
  recordsPerMap: 1_500,
  maxPartitionsPerGroup: 5,
  concurrency: 4,
};

/** Records lost: read back fewer than the winners wrote (or a read failed for want of data). */
export class DataLossError extends Error {
  override readonly name = 'DataLossError';
}

/** Records read back that no winner wrote, or a record more often than it was written. */
export class WrongBytesError extends Error {
  override readonly name = 'WrongBytesError';
}

/** A scenario's own check failed (not a data-integrity failure). */
export class ScenarioAssertionError extends Error {
  override readonly name = 'ScenarioAssertionError';
}

export function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new ScenarioAssertionError(message);
}

/** Deterministic record i of (mapId, attemptId): 16..300 bytes, partition from its hash. */
export function record(
  mapId: number,
  attemptId: number,
  i: number,
  partitions: number,
): { partition: number; bytes: Buffer } {
  const seed = createHash('sha256').update(`${mapId}/${attemptId}/${i}`).digest();
  const length = 16 + (seed.readUInt16BE(0) % 285);
  const bytes = Buffer.alloc(length);
  for (let at = 0; at < length; at += seed.length) seed.copy(bytes, at);
  bytes.write(`m${mapId}a${attemptId}i${i};`, 0, 'latin1');
  return { partition: seed.readUInt32BE(4) % partitions, bytes };
}

export interface Verification {
  readonly records: number;
  readonly bytes: number;
  readonly partitions: number;
}

export interface ReadOutcome {
  /** partition -> records read (as latin1 strings, exact bytes) */
  readonly records: Map<number, string[]>;
  readonly failovers: number;
}

export interface JobOptions {
  readonly shape?: JobShape;
  readonly client?: Partial<ShuffleClientOptions>;
  readonly driver?: Partial<ShuffleDriverOptions>;
  /** An already running driver (e.g. in another process) instead of starting one. */
  readonly driverAddress?: string;
}

/** One app with shuffle 0, its driver and executors' clients; close() ends everything. */
export class FaultJob {
  readonly appId: string;
  readonly shape: JobShape;
  readonly driver: ShuffleDriver | undefined;
  readonly client: ShuffleClient;
  /** mapId -> attemptId of the attempt whose close() reported it as the winner. */
  readonly winners = new Map<number, number>();
  /** Map attempts that failed (the job retried them with a new attemptId). */
  readonly failedTasks: { mapId: number; attemptId: number; error: string }[] = [];
  readonly #clients: ShuffleClient[] = [];
  readonly #clientOptions: Partial<ShuffleClientOptions>;
  readonly #driverAddress: string;

  private constructor(
    appId: string,
    shape: JobShape,
    driver: ShuffleDriver | undefined,
    driverAddress: string,
    clientOptions: Partial<ShuffleClientOptions>,
  ) {
    this.appId = appId;
    this.shape = shape;
    this.driver = driver;
    this.#driverAddress = driverAddress;
    this.#clientOptions = clientOptions;
    this.client = this.newClient();
  }

  static async start(manager: string, appId: string, opts: JobOptions = {}): Promise<FaultJob> {
    const shape = opts.shape ?? FAST_SHAPE;
    const clientOptions = { pushBatchBytes: 16 * 1024, ...opts.client };
    if (opts.driverAddress)
      return new FaultJob(appId, shape, undefined, opts.driverAddress, clientOptions);
    const driver = await ShuffleDriver.start({ manager, appId, ...opts.driver });
    try {
      const handle = await driver.registerShuffle({
        shuffleId: 0,
        numMappers: shape.maps,
        numPartitions: shape.partitions,
        maxPartitionsPerGroup: shape.maxPartitionsPerGroup,
      });
      // In an authenticated cluster the executors sign with the app's credential.
      return new FaultJob(appId, shape, driver, handle.driverAddress, {
        credential: handle.credential,
        ...clientOptions,
      });
    } catch (err) {
      await driver.close();
      throw err;
    }
  }

  /** Another executor's client on the same driver. */
  newClient(options: Partial<ShuffleClientOptions> = {}): ShuffleClient {
    const c = new ShuffleClient({
      driver: this.#driverAddress,
      ...this.#clientOptions,
      ...options,
    });
    this.#clients.push(c);
    return c;
  }

  async runMap(mapId: number, attemptId = 0, client = this.client): Promise<WriteResult> {
    const { partitions, recordsPerMap } = this.shape;
    const w = client.writer({
      appId: this.appId,
      shuffleId: 0,
      mapId,
      attemptId,
      numPartitions: partitions,
    });
    for (let i = 0; i < recordsPerMap; i++) {
      const r = record(mapId, attemptId, i, partitions);
      w.write(r.partition, r.bytes);
      if (i % 200 === 0) await w.flushIfNeeded();
    }
    const result = await w.close();
    if (!result.discarded) this.winners.set(mapId, attemptId);
    return result;
  }

  /**
   * Runs every map (all of them unless `maps` is given), `shape.concurrency` at a time, like
   * an engine: a failed attempt is recorded in failedTasks and retried with the next
   * attemptId (at most 3 attempts). `onDone(n)` runs after the n-th map finished; the loop
   * that ran that map waits for it, the others go on.
   */
  async runMaps(
    onDone?: (done: number) => void | Promise<void>,
    maps: readonly number[] = Array.from({ length: this.shape.maps }, (_, m) => m),
  ): Promise<void> {
    const queue = [...maps];
    let done = 0;
    await Promise.all(
      Array.from({ length: this.shape.concurrency }, async () => {
        for (let m = queue.shift(); m !== undefined; m = queue.shift()) {
          for (let attempt = 0; ; attempt++) {
            try {
              await this.runMap(m, attempt);
              break;
            } catch (err) {
              this.failedTasks.push({ mapId: m, attemptId: attempt, error: String(err) });
              if (attempt === 2) throw err;
            }
          }
          await onDone?.(++done);
        }
      }),
    );
  }

  /** The commit outcome (the driver commits by itself once every map has a winner). */
  async commit(waitMs = 60_000): Promise<CommitOutcome> {
    if (!this.driver) throw new Error('the driver runs elsewhere');
    return this.driver.commitShuffle(0, waitMs);
  }

  /** What the winners wrote: partition -> record -> count. */
  expected(): Map<number, Map<string, number>> {
    const out = new Map<number, Map<string, number>>();
    for (const [mapId, attemptId] of this.winners) {
      for (let i = 0; i < this.shape.recordsPerMap; i++) {
        const r = record(mapId, attemptId, i, this.shape.partitions);
        let p = out.get(r.partition);
        if (!p) out.set(r.partition, (p = new Map()));
        const key = r.bytes.toString('latin1');
        p.set(key, (p.get(key) ?? 0) + 1);
      }
    }
    return out;
  }

  /** Reads one partition to the end; records as latin1 strings. */
  async readPartition(
    partitionId: number,
    client = this.client,
  ): Promise<{ records: string[]; failovers: number }> {
    const reader = client.reader({ appId: this.appId, shuffleId: 0, partitionId });
    const records: string[] = [];
    for await (const r of reader) records.push(r.toString('latin1'));
    return { records, failovers: reader.stats.failovers };
  }

  /**
   * Reads `partitions` (default all), `concurrency` readers at a time. `onRead(n)` runs after
   * the n-th partition was read (the reading loop waits for it).
   */
  async read(
    opts: {
      partitions?: readonly number[];
      concurrency?: number;
      onRead?: (n: number) => void | Promise<void>;
    } = {},
  ): Promise<ReadOutcome> {
    const queue = [
      ...(opts.partitions ?? Array.from({ length: this.shape.partitions }, (_, p) => p)),
    ];
    const records = new Map<number, string[]>();
    let failovers = 0;
    let n = 0;
    await Promise.all(
      Array.from({ length: opts.concurrency ?? 4 }, async () => {
        for (let p = queue.shift(); p !== undefined; p = queue.shift()) {
          const got = await readClassified(() => this.readPartition(p));
          records.set(p, got.records);
          failovers += got.failovers;
          await opts.onRead?.(++n);
        }
      }),
    );
    return { records, failovers };
  }

  /** Throws DataLossError / WrongBytesError unless `read` holds exactly the winners' records. */
  verify(read: ReadOutcome, only?: readonly number[]): Verification {
    return verifyExactly(read.records, this.expected(), only ?? [...read.records.keys()]);
  }

  /** Reads every partition and verifies it exactly; the bytes and records verified. */
  async readAndVerify(
    opts: { concurrency?: number; onRead?: (n: number) => void | Promise<void> } = {},
  ): Promise<Verification & { failovers: number }> {
    check(
      this.winners.size === this.shape.maps,
      `only ${this.winners.size} of ${this.shape.maps} maps have a winner`,
    );
    const read = await this.read(opts);
    return { ...this.verify(read), failovers: read.failovers };
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.#clients.map((c) => c.close()));
    await this.driver?.close();
  }
}

/** A read that fails because the data is gone (not merely damaged) is data loss. */
async function readClassified<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof ShuffleDataLostError || err instanceof FetchFailedError)
      throw new DataLossError(`read failed for want of data: ${String(err)}`, { cause: err });
    if (err instanceof CorruptShuffleDataError)
      throw new DataLossError(`no intact replica: ${String(err)}`, { cause: err });
    throw err;
  }
}

export function digest(records: readonly string[]): string {
  const h = createHash('sha256');
  for (const r of [...records].sort()) h.update(Buffer.from(r, 'latin1'));
  return h.digest('hex');
}

/**
 * Compares what was read with what the winners wrote, partition by partition: counts and
 * SHA-256 first; on a mismatch, finds which records are missing (loss) or extra (wrong).
 */
export function verifyExactly(
  got: ReadonlyMap<number, readonly string[]>,
  want: ReadonlyMap<number, ReadonlyMap<string, number>>,
  partitions: readonly number[],
): Verification {
  let records = 0;
  let bytes = 0;
  const lost: string[] = [];
  const wrong: string[] = [];
  for (const p of partitions) {
    const read = got.get(p) ?? [];
    const expected = want.get(p) ?? new Map<string, number>();
    const wanted = [...expected].flatMap(([r, n]) => Array<string>(n).fill(r));
    if (read.length === wanted.length && digest(read) === digest(wanted)) {
      records += read.length;
      for (const r of read) bytes += r.length;
      continue;
    }
    const left = new Map(expected);
    let extra = 0;
    for (const r of read) {
      const n = left.get(r) ?? 0;
      if (n === 0) extra++;
      else left.set(r, n - 1);
    }
    const missing = [...left.values()].reduce((a, b) => a + b, 0);
    if (extra > 0) wrong.push(`partition ${p}: ${extra} records no winner wrote (or duplicated)`);
    if (missing > 0) lost.push(`partition ${p}: ${missing} of ${wanted.length} records missing`);
  }
  if (wrong.length > 0) throw new WrongBytesError(wrong.concat(lost).join('; '));
  if (lost.length > 0) throw new DataLossError(lost.join('; '));
  return { records, bytes, partitions: partitions.length };
}

/** Runs `fn` and returns its error, or throws when it succeeded. */
export async function failureOf(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new ScenarioAssertionError('expected a failure, the call succeeded');
}

export interface ScenarioResult {
  readonly bytesVerified: number;
  readonly recordsVerified: number;
  /** Map attempts that failed and were retried (0 unless the scenario tolerates them). */
  readonly failedTasks: number;
  /** What a scenario measured beside correctness (e.g. failover time), for the chaos table. */
  readonly measures?: Readonly<Record<string, number | string>>;
}

export interface Scenario {
  readonly name: string;
  /** Why the scenario cannot run here, or undefined. */
  skipReason?(): string | undefined;
  run(shape: JobShape): Promise<ScenarioResult>;
}

let jobs = 0;
/** An app id unique in this process and across runs. */
export function appIdFor(scenario: string): string {
  return `${scenario}-${process.pid}-${++jobs}`;
}

/** Starts a job, runs `fn`, closes the job whatever happens. */
export async function withJob<T>(
  manager: string,
  scenario: string,
  opts: JobOptions,
  fn: (job: FaultJob) => Promise<T>,
): Promise<T> {
  const job = await FaultJob.start(manager, appIdFor(scenario), opts);
  try {
    return await fn(job);
  } finally {
    await job.close();
  }
}

/** The result of a job verified exactly; a failed map attempt is a failure of the scenario. */
export function resultOf(
  job: FaultJob,
  v: Verification,
  opts: { tolerateFailedTasks?: boolean } = {},
): ScenarioResult {
  if (!opts.tolerateFailedTasks)
    check(
      job.failedTasks.length === 0,
      `map attempts failed: ${job.failedTasks.map((t) => `${t.mapId}/${t.attemptId}: ${t.error}`).join('; ')}`,
    );
  return {
    bytesVerified: v.bytes,
    recordsVerified: v.records,
    failedTasks: job.failedTasks.length,
  };
}

/** Starts a cluster of processes, runs `fn`, kills every process whatever happens. */
/** Starts something closable, runs `fn` with it, closes it whatever happens. */
export async function withClosing<C extends { close(): Promise<void> }, T>(
  start: () => Promise<C>,
  fn: (c: C) => Promise<T>,
): Promise<T> {
  const c = await start();
  try {
    return await fn(c);
  } finally {
    await c.close();
  }
}

export function withCluster<T>(
  opts: ProcessClusterOptions,
  fn: (c: ProcessCluster) => Promise<T>,
): Promise<T> {
  return withClosing(() => ProcessCluster.start(opts), fn);
}

/** What scenarios need of a cluster to find the workers' files. */
export type ProcessClusterLike = Pick<ProcessCluster, 'workers' | 'workerDirs'>;
