// The tasks of `sluice job terasort`, as an executor runs them with its one ShuffleClient (in
// a child process, terasort-executor.ts, or in the CLI process with --executors 0). A map task
// generates its records (Hadoop teragen's layout: 10-byte random key, 8-byte row id, 82
// filler bytes), range-partitions and pushes them; a reduce task reads its partition through
// the shuffle, sorts it and checks it (checkPartition). Each returns a small summary only:
// record data goes through the shuffle, never back to the driver.
import { createCipheriv, createHash } from 'node:crypto';
import { decodeRecords, type Partitioner, type ShuffleClient } from '../../client/index.js';
import {
  addToChecksum,
  checkPartition,
  KEY_BYTES,
  type PartitionCheck,
} from './terasort-validator.js';

export const RECORD_BYTES = 100;

/** What every task of one job shares (an engine ships the same with its task binaries). */
export interface TerasortJobSpec {
  readonly appId: string;
  readonly seed: string;
  readonly records: number;
  readonly maps: number;
  readonly partitions: number;
}

export interface MapSummary {
  readonly mapId: number;
  readonly records: number;
  /** Sum of the map's record CRC-32s modulo CHECKSUM_MOD. */
  readonly checksum: number;
  /** Block bytes pushed (after compression, headers included). */
  readonly pushedBytes: number;
}

/** Deterministic pseudo-random bytes for one map: AES-128-CTR keystream of a seed. */
export function keystream(seed: string, mapId: number, bytes: number): Buffer {
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

export async function runMapTask(
  client: ShuffleClient,
  job: TerasortJobSpec,
  partitioner: Partitioner,
  mapId: number,
): Promise<MapSummary> {
  const n = recordsOfMap(job.records, job.maps, mapId);
  const keys = keystream(job.seed, mapId, n * KEY_BYTES);
  const w = client.writer({
    appId: job.appId,
    shuffleId: 0,
    mapId,
    attemptId: 0,
    numPartitions: job.partitions,
  });
  const rec = Buffer.alloc(RECORD_BYTES);
  let checksum = 0;
  for (let i = 0; i < n; i++) {
    fillRecord(rec, keys, mapId, i);
    checksum = addToChecksum(checksum, rec);
    w.write(partitioner.partition(rec.subarray(0, KEY_BYTES)), rec); // write() copies
    if (i % 4096 === 4095) await w.flushIfNeeded();
  }
  const result = await w.close();
  return { mapId, records: n, checksum, pushedBytes: result.bytes };
}

export async function runReduceTask(
  client: ShuffleClient,
  job: TerasortJobSpec,
  partitioner: Partitioner,
  partitionId: number,
): Promise<PartitionCheck> {
  const got: Buffer[] = [];
  // blocks() + decodeRecords: records parsed synchronously, one await per block.
  const reader = client.reader({ appId: job.appId, shuffleId: 0, partitionId });
  for await (const block of reader.blocks()) for (const r of decodeRecords(block)) got.push(r);
  return checkPartition(partitioner, RECORD_BYTES, partitionId, got).check;
}
