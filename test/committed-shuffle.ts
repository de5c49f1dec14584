// A small job that commits a shuffle and keeps its app up, for the tests that read shuffle
// sizes from the manager's API (the terasort job's shuffle is released when it ends).
import { randomBytes } from 'node:crypto';
import { ShuffleClient, ShuffleDriver } from '../src/client/index.js';
import { waitFor } from '../src/testing/wait-for.js';

/** An app whose driver stays up with a committed shuffle, and what its maps wrote. */
export interface CommittedJob {
  readonly appId: string;
  /** Block bytes the maps wrote, and per partition (one file each: no replica). */
  readonly written: number;
  readonly perPartition: readonly number[];
  close(): Promise<void>;
}

/**
 * Two maps write 8 partitions, partition 0 eight times as much as each other one, and the
 * driver commits: the shuffle stays allocated (unlike the terasort job's) with known sizes.
 */
export async function commitSkewedShuffle(
  manager: string,
  appId = 'daily-report',
): Promise<CommittedJob> {
  const partitions = 8;
  const driver = await ShuffleDriver.start({ manager, appId, name: 'report' });
  let client: ShuffleClient | undefined;
  const close = async () => {
    await client?.close();
    await driver.close();
  };
  try {
    const handle = await driver.registerShuffle({
      shuffleId: 0,
      numMappers: 2,
      numPartitions: partitions,
      replication: false,
    });
    client = new ShuffleClient({ driver: handle.driverAddress, compression: 'none' });
    const perPartition = new Array<number>(partitions).fill(0);
    for (const mapId of [0, 1]) {
      const w = client.writer({
        appId,
        shuffleId: 0,
        mapId,
        attemptId: 0,
        numPartitions: partitions,
      });
      for (let p = 0; p < partitions; p++) {
        for (let i = 0; i < (p === 0 ? 64 : 8); i++) w.write(p, randomBytes(4096));
        await w.flushIfNeeded();
      }
      const result = await w.close();
      for (const s of result.partitions) perPartition[s.partition]! += s.bytes;
    }
    const outcome = await driver.commitShuffle(0, 30_000);
    if (outcome.lost.length > 0) throw new Error(`partitions lost: ${outcome.lost.join(', ')}`);
    return { appId, written: perPartition.reduce((a, b) => a + b, 0), perPartition, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** The size fields of a shuffle in /api/v1/shuffles. */
export interface ShuffleSizesJson {
  bytesPushed: number | null;
  bytesCommitted: number | null;
  partitionFiles: number | null;
  largestPartitionBytes: number | null;
  skew: number | null;
}

/** The sizes of the app's shuffle 0 once a heartbeat has reported its commit. */
export function committedSizes(httpBase: string, appId: string): Promise<ShuffleSizesJson> {
  return waitFor(
    async () => {
      const url = `${httpBase}/api/v1/shuffles?appId=${appId}`;
      const r = (await (await fetch(url)).json()) as { shuffles: ShuffleSizesJson[] };
      const s = r.shuffles[0];
      return s !== undefined && s.bytesCommitted !== null && s;
    },
    { timeoutMs: 30_000, intervalMs: 500, what: `committed bytes of ${appId}/0` },
  );
}
