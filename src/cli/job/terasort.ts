// `sluice job terasort`: a real job through the public client API (src/client/index.ts), and
// the example an engine developer copies. The driver (this process) registers the app and a
// shuffle and range-partitions the key space from a sample; it ships the shuffle handle
// (driverAddress, credential) and the partitioner's bounds to N executor processes
// (executor-pool.ts, terasort-executor.ts), each with one ShuffleClient, and hands them the
// map and reduce tasks (terasort-tasks.ts): maps generate and push records, reduces read,
// sort and check their partition. Records flow through the shuffle only; the executors send
// back summaries, and the validator checks the global order, the record count and an
// order-independent checksum (sum of per-record CRC-32s) against what the maps generated.
// With `executors: 0` the tasks run in this process, with a client of its own.
import {
  RangePartitioner,
  ShuffleClient,
  ShuffleDriver,
  type Compression,
} from '../../client/index.js';
import { ExecutorPool, type ExecutorStats } from './executor-pool.js';
import type { TaskKind, TaskResults } from './executor-ipc.js';
import { CHECKSUM_MOD, KEY_BYTES, TerasortValidator } from './terasort-validator.js';
import {
  keystream,
  RECORD_BYTES,
  runMapTask,
  runReduceTask,
  type TerasortJobSpec,
} from './terasort-tasks.js';

export { RECORD_BYTES } from './terasort-tasks.js';
const SAMPLE_KEYS = 10_000;

export interface TerasortOptions {
  /** One manager address or several (comma-separated or an array), as ShuffleDriver takes. */
  readonly manager: string | readonly string[];
  readonly bytes: number;
  readonly maps: number;
  readonly partitions: number;
  /** Executor processes running the tasks; 0 runs them in this process. */
  readonly executors: number;
  /** Map (and reduce) tasks running at the same time in each executor (or this process). */
  readonly parallel: number;
  readonly replication: boolean;
  readonly compression: Compression;
  readonly appId?: string;
  readonly seed?: string;
  readonly onProgress?: (line: string) => void;
}

/** CPU of one stage: seconds, and seconds per GB (1e9 bytes) of records through it. */
export interface StageCpu {
  /** The executors' CPU, summed over them; null when the tasks ran in the driver. */
  readonly executorSeconds: number | null;
  readonly executorSecondsPerGB: number | null;
  /** The driver process's CPU (with --executors 0, the tasks' too). */
  readonly driverSeconds: number;
  readonly driverSecondsPerGB: number;
}

export interface TerasortReport {
  readonly appId: string;
  readonly records: number;
  readonly bytes: number;
  readonly executors: number;
  readonly parallel: number;
  readonly mapSeconds: number;
  readonly reduceSeconds: number;
  /** Record bytes per second through each stage and through the whole job. */
  readonly mapBytesPerSec: number;
  readonly reduceBytesPerSec: number;
  readonly totalBytesPerSec: number;
  readonly mapCpu: StageCpu;
  readonly reduceCpu: StageCpu;
  /** Tasks each executor process ran (empty with executors: 0). */
  readonly executorTasks: readonly ExecutorStats[];
  /** Block bytes the maps pushed (after compression, headers included). */
  readonly pushedBytes: number;
  readonly valid: boolean;
  readonly problems: readonly string[];
  readonly checksum: string;
}

/** Where tasks run: executor processes, or this process with its own client. */
interface TaskRunner {
  run<K extends TaskKind>(
    kind: K,
    count: number,
    onDone: (result: TaskResults[K], executor: number) => void,
  ): Promise<void>;
  /** Executor CPU seconds so far (null in-process). */
  cpuSeconds(): Promise<number | null>;
  readonly stats: ExecutorStats[];
  /** Graceful end of a job that succeeded. */
  close(): Promise<void>;
  /** Abort (a failed job): executors are killed. Idempotent, also after close(). */
  destroy(): void | Promise<void>;
}

export async function runTerasort(o: TerasortOptions): Promise<TerasortReport> {
  const appId = o.appId ?? `terasort-${Date.now()}`;
  const seed = o.seed ?? appId;
  const records = Math.floor(o.bytes / RECORD_BYTES);
  const progress = o.onProgress ?? (() => undefined);
  const job: TerasortJobSpec = { appId, seed, records, maps: o.maps, partitions: o.partitions };
  // Driver side: the app, the shuffle, and range bounds from a sample of the keys.
  const driver = await ShuffleDriver.start({ manager: o.manager, appId });
  let runner: TaskRunner | undefined;
  try {
    const handle = await driver.registerShuffle({
      shuffleId: 0,
      numMappers: o.maps,
      numPartitions: o.partitions,
      replication: o.replication,
    });
    const sample = keystream(`${seed}/sample`, 0, SAMPLE_KEYS * KEY_BYTES);
    const partitioner = RangePartitioner.fromSample(
      Array.from({ length: SAMPLE_KEYS }, (_, i) =>
        sample.subarray(i * KEY_BYTES, (i + 1) * KEY_BYTES),
      ),
      o.partitions,
    );
    // What an engine ships its executors: the handle's driver address and credential.
    const client = { driver: handle.driverAddress, credential: handle.credential };
    if (o.executors > 0) {
      const pool = await ExecutorPool.start(o.executors, o.parallel, {
        job,
        ...client,
        compression: o.compression,
        bounds: partitioner.bounds.map((b) => b.toString('hex')),
      });
      runner = pool;
      progress(`${o.executors} executors started (pids ${pool.pids.join(', ')})`);
    } else
      runner = inProcessRunner(
        new ShuffleClient({ ...client, compression: o.compression }),
        job,
        partitioner,
        o.parallel,
      );

    // Map stage.
    let checksum = 0;
    let pushedBytes = 0;
    let mapsDone = 0;
    const mapCpu = await stageCpu(runner, records * RECORD_BYTES, () =>
      runner!.run('map', o.maps, (m, executor) => {
        checksum = (checksum + m.checksum) % CHECKSUM_MOD;
        pushedBytes += m.pushedBytes;
        const on = executor > 0 ? ` on executor ${executor}` : '';
        progress(`map ${m.mapId} done${on} (${++mapsDone}/${o.maps})`);
      }),
    );

    // Reduce stage: every partition read, sorted and checked where it is read.
    const validator = new TerasortValidator(partitioner, RECORD_BYTES);
    let reducesDone = 0;
    const reduceCpu = await stageCpu(runner, records * RECORD_BYTES, () =>
      runner!.run('reduce', o.partitions, (check) => {
        validator.add(check);
        if (++reducesDone % Math.max(1, Math.floor(o.partitions / 8)) === 0)
          progress(`reduce ${reducesDone}/${o.partitions}`);
      }),
    );
    const verdict = validator.finish(records, checksum);
    const bytes = records * RECORD_BYTES;
    const executorTasks = runner.stats;
    await runner.close();
    await driver.unregisterShuffle(0);
    return {
      appId,
      records,
      bytes,
      executors: o.executors,
      parallel: o.parallel,
      mapSeconds: mapCpu.seconds,
      reduceSeconds: reduceCpu.seconds,
      mapBytesPerSec: bytes / mapCpu.seconds,
      reduceBytesPerSec: bytes / reduceCpu.seconds,
      totalBytesPerSec: bytes / (mapCpu.seconds + reduceCpu.seconds),
      mapCpu: mapCpu.cpu,
      reduceCpu: reduceCpu.cpu,
      executorTasks,
      pushedBytes,
      valid: verdict.problems.length === 0,
      problems: verdict.problems,
      checksum: `0x${checksum.toString(16)}`,
    };
  } finally {
    await runner?.destroy();
    await driver.close();
  }
}

/** Runs a stage and measures its wall time and the executors' and the driver's CPU. */
async function stageCpu(
  runner: TaskRunner,
  bytes: number,
  stage: () => Promise<void>,
): Promise<{ seconds: number; cpu: StageCpu }> {
  const executors0 = await runner.cpuSeconds();
  const driver0 = process.cpuUsage();
  const start = performance.now();
  await stage();
  const seconds = (performance.now() - start) / 1000;
  const d = process.cpuUsage(driver0);
  const executors1 = await runner.cpuSeconds();
  const gb = bytes / 1e9;
  const executorSeconds =
    executors0 === null || executors1 === null ? null : executors1 - executors0;
  const driverSeconds = (d.user + d.system) / 1e6;
  return {
    seconds,
    cpu: {
      executorSeconds,
      executorSecondsPerGB: executorSeconds === null ? null : executorSeconds / gb,
      driverSeconds,
      driverSecondsPerGB: driverSeconds / gb,
    },
  };
}

/** --executors 0: the tasks in this process, at most `parallel` at a time, one client. */
function inProcessRunner(
  client: ShuffleClient,
  job: TerasortJobSpec,
  partitioner: RangePartitioner,
  parallel: number,
): TaskRunner {
  return {
    async run(kind, count, onDone) {
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(parallel, count) }, async () => {
          while (next < count) {
            const task = next++;
            if (kind === 'map')
              onDone((await runMapTask(client, job, partitioner, task)) as never, 0);
            else onDone((await runReduceTask(client, job, partitioner, task)) as never, 0);
          }
        }),
      );
    },
    cpuSeconds: () => Promise.resolve(null),
    stats: [],
    close: () => client.close(),
    destroy: () => client.close(),
  };
}
