// `sluice job terasort`: a real job through the public client API (src/client/index.ts), and
// the example an engine developer copies. The driver part registers the app and a shuffle;
// map tasks generate 100-byte records (10-byte random key, 8-byte row id, 82 filler bytes, as
// Hadoop's teragen), range-partition them by key and push them; reduce tasks read their
// partition, sort it, and the validator checks the global order, the record count and an
// order-independent checksum (sum of per-record CRC-32s) against what the maps generated.
import { createCipheriv, createHash } from 'node:crypto';
import {
  decodeRecords,
  RangePartitioner,
  ShuffleClient,
  ShuffleDriver,
  type Compression,
} from '../../client/index.js';
import { addToChecksum, KEY_BYTES, TerasortValidator } from './terasort-validator.js';

export const RECORD_BYTES = 100;
const SAMPLE_KEYS = 10_000;

export interface TerasortOptions {
  /** One manager address or several (comma-separated or an array), as ShuffleDriver takes. */
  readonly manager: string | readonly string[];
  readonly bytes: number;
  readonly maps: number;
  readonly partitions: number;
  /** Map (and reduce) tasks running at the same time in this process. */
  readonly parallel: number;
  readonly replication: boolean;
  readonly compression: Compression;
  readonly appId?: string;
  readonly seed?: string;
  readonly onProgress?: (line: string) => void;
}

export interface TerasortReport {
  readonly appId: string;
  readonly records: number;
  readonly bytes: number;
  readonly mapSeconds: number;
  readonly reduceSeconds: number;
  /** Record bytes per second through each stage and through the whole job. */
  readonly mapBytesPerSec: number;
  readonly reduceBytesPerSec: number;
  readonly totalBytesPerSec: number;
  /** Block bytes the maps pushed (after compression, headers included). */
  readonly pushedBytes: number;
  readonly valid: boolean;
  readonly problems: readonly string[];
  readonly checksum: string;
}

/** Deterministic pseudo-random bytes for one map: AES-128-CTR keystream of a seed. */
function keystream(seed: string, mapId: number, bytes: number): Buffer {
  const key = createHash('sha256').update(`${seed}/${mapId}`).digest().subarray(0, 16);
  return createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(bytes));
}

/** Record i of a map: key from the keystream, row id (mapId, i), filler like teragen's. */
function fillRecord(out: Buffer, keys: Buffer, mapId: number, i: number): void {
  keys.copy(out, 0, i * KEY_BYTES, (i + 1) * KEY_BYTES);
  out.writeUInt32BE(mapId, KEY_BYTES);
  out.writeUInt32BE(i, KEY_BYTES + 4);
  out.fill(65 + ((mapId + i) % 26), KEY_BYTES + 8);
}

function recordsOfMap(total: number, maps: number, mapId: number): number {
  return Math.floor(total / maps) + (mapId < total % maps ? 1 : 0);
}

export async function runTerasort(o: TerasortOptions): Promise<TerasortReport> {
  const appId = o.appId ?? `terasort-${Date.now()}`;
  const seed = o.seed ?? appId;
  const records = Math.floor(o.bytes / RECORD_BYTES);
  const progress = o.onProgress ?? (() => undefined);
  // Driver side: the app, the shuffle, and range bounds from a sample of the keys.
  const driver = await ShuffleDriver.start({ manager: o.manager, appId });
  // An executor gets the credential with the shuffle handle; this job runs both sides.
  const client = new ShuffleClient({
    driver: driver.driverAddress,
    credential: driver.credential?.toString(),
    compression: o.compression,
  });
  try {
    await driver.registerShuffle({
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

    // Map stage.
    let checksum = 0;
    let pushedBytes = 0;
    let mapsDone = 0;
    const mapStart = performance.now();
    await runTasks(o.maps, o.parallel, async (mapId) => {
      const n = recordsOfMap(records, o.maps, mapId);
      const keys = keystream(seed, mapId, n * KEY_BYTES);
      const w = client.writer({
        appId,
        shuffleId: 0,
        mapId,
        attemptId: 0,
        numPartitions: o.partitions,
      });
      const rec = Buffer.alloc(RECORD_BYTES);
      for (let i = 0; i < n; i++) {
        fillRecord(rec, keys, mapId, i);
        checksum = addToChecksum(checksum, rec);
        w.write(partitioner.partition(rec.subarray(0, KEY_BYTES)), rec); // write() copies
        if (i % 4096 === 4095) await w.flushIfNeeded();
      }
      const result = await w.close();
      pushedBytes += result.bytes;
      progress(`map ${mapId} done (${++mapsDone}/${o.maps})`);
    });
    const mapSeconds = (performance.now() - mapStart) / 1000;

    // Reduce stage: every partition read, sorted and handed to the validator.
    const validator = new TerasortValidator(partitioner, RECORD_BYTES);
    let reducesDone = 0;
    const reduceStart = performance.now();
    await runTasks(o.partitions, o.parallel, async (partitionId) => {
      const got: Buffer[] = [];
      // blocks() + decodeRecords: records parsed synchronously, one await per block.
      for await (const block of client.reader({ appId, shuffleId: 0, partitionId }).blocks())
        for (const r of decodeRecords(block)) got.push(r);
      validator.sortAndCheck(partitionId, got);
      if (++reducesDone % Math.max(1, Math.floor(o.partitions / 8)) === 0)
        progress(`reduce ${reducesDone}/${o.partitions}`);
    });
    const reduceSeconds = (performance.now() - reduceStart) / 1000;
    const verdict = validator.finish(records, checksum);
    const bytes = records * RECORD_BYTES;
    await driver.unregisterShuffle(0);
    return {
      appId,
      records,
      bytes,
      mapSeconds,
      reduceSeconds,
      mapBytesPerSec: bytes / mapSeconds,
      reduceBytesPerSec: bytes / reduceSeconds,
      totalBytesPerSec: bytes / (mapSeconds + reduceSeconds),
      pushedBytes,
      valid: verdict.problems.length === 0,
      problems: verdict.problems,
      checksum: `0x${checksum.toString(16)}`,
    };
  } finally {
    await client.close();
    await driver.close();
  }
}

/** Runs task 0..count-1 with at most `parallel` at a time; the first failure fails all. */
async function runTasks(
  count: number,
  parallel: number,
  task: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallel, count) }, async () => {
      while (next < count) await task(next++);
    }),
  );
}
