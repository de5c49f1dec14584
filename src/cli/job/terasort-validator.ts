// Checks a terasort's output (TeraValidate's checks): each partition sorted by key, partitions
// in global key order (the last key of one <= the first key of the next non-empty one, and
// each key inside the range the partitioner gives its partition), no record lost or
// duplicated (count), no byte changed (the sum of per-record CRC-32s equals the maps' sum).
import { crc32 } from '../../common/wire/crc.js';
import type { Partitioner } from '../../client/index.js';

/** The checksum is a sum of CRC-32s modulo 2^52, exact in a double. */
export const CHECKSUM_MOD = 2 ** 52;
/** Keys are 10 bytes, compared as a 48-bit and a 32-bit unsigned number. */
export const KEY_BYTES = 10;

export function addToChecksum(sum: number, record: Buffer): number {
  return (sum + crc32(record)) % CHECKSUM_MOD;
}

/**
 * What a reduce task reports of its partition: enough for the global checks without the
 * records themselves (an executor sends it to the driver; keys as hex to cross IPC).
 */
export interface PartitionCheck {
  readonly partition: number;
  readonly records: number;
  /** Sum of the partition's record CRC-32s modulo CHECKSUM_MOD. */
  readonly checksum: number;
  /** First and last key in sorted order, hex; absent for an empty partition. */
  readonly firstKey?: string;
  readonly lastKey?: string;
  readonly problems: readonly string[];
}

/** Sorts one partition's records by key and checks each record and the partition's range. */
export function checkPartition(
  partitioner: Partitioner,
  recordBytes: number,
  partition: number,
  records: readonly Buffer[],
): { sorted: Buffer[]; check: PartitionCheck } {
  const problems: string[] = [];
  const n = records.length;
  const hi = new Float64Array(n);
  const lo = new Uint32Array(n);
  let checksum = 0;
  for (let i = 0; i < n; i++) {
    const r = records[i]!;
    if (r.length !== recordBytes) {
      problems.push(`partition ${partition}: a record of ${r.length} bytes`);
      continue;
    }
    hi[i] = r.readUIntBE(0, 6);
    lo[i] = r.readUInt32BE(6);
    checksum = addToChecksum(checksum, r);
  }
  const order = Uint32Array.from({ length: n }, (_, i) => i).sort(
    (a, b) => hi[a]! - hi[b]! || lo[a]! - lo[b]!,
  );
  const sorted = Array.from(order, (i) => records[i]!);
  if (n === 0) return { sorted, check: { partition, records: 0, checksum, problems } };
  const first = sorted[0]!.subarray(0, KEY_BYTES);
  const last = sorted[n - 1]!.subarray(0, KEY_BYTES);
  for (const key of [first, last]) {
    const owner = partitioner.partition(key);
    if (owner !== partition)
      problems.push(
        `partition ${partition} holds key ${key.toString('hex')} of partition ${owner}`,
      );
  }
  const check = {
    partition,
    records: n,
    checksum,
    firstKey: first.toString('hex'),
    lastKey: last.toString('hex'),
    problems,
  };
  return { sorted, check };
}

export class TerasortValidator {
  readonly #recordBytes: number;
  readonly #partitioner: Partitioner;
  readonly #edges: ([first: Buffer, last: Buffer] | undefined)[];
  readonly #problems: string[] = [];
  #records = 0;
  #checksum = 0;

  constructor(partitioner: Partitioner, recordBytes: number) {
    this.#partitioner = partitioner;
    this.#recordBytes = recordBytes;
    this.#edges = new Array(partitioner.numPartitions);
  }

  /** Sorts one partition's records by key (returned in order) and checks them. */
  sortAndCheck(partition: number, records: readonly Buffer[]): Buffer[] {
    const { sorted, check } = checkPartition(
      this.#partitioner,
      this.#recordBytes,
      partition,
      records,
    );
    this.add(check);
    return sorted;
  }

  /** Takes the check of a partition sorted elsewhere (checkPartition in an executor). */
  add(check: PartitionCheck): void {
    for (const p of check.problems) this.#problem(p);
    this.#records += check.records;
    this.#checksum = (this.#checksum + check.checksum) % CHECKSUM_MOD;
    if (check.firstKey !== undefined && check.lastKey !== undefined)
      this.#edges[check.partition] = [
        Buffer.from(check.firstKey, 'hex'),
        Buffer.from(check.lastKey, 'hex'),
      ];
  }

  finish(expectedRecords: number, expectedChecksum: number): { problems: string[] } {
    let previous: { partition: number; last: Buffer } | undefined;
    this.#edges.forEach((edge, partition) => {
      if (!edge) return;
      if (previous && Buffer.compare(previous.last, edge[0]) > 0)
        this.#problem(`partition ${previous.partition} ends after partition ${partition} begins`);
      previous = { partition, last: edge[1] };
    });
    if (this.#records !== expectedRecords)
      this.#problem(`read ${this.#records} records, the maps wrote ${expectedRecords}`);
    if (this.#checksum !== expectedChecksum)
      this.#problem(
        `checksum 0x${this.#checksum.toString(16)} differs from the maps' 0x${expectedChecksum.toString(16)}`,
      );
    return { problems: [...this.#problems] };
  }

  #problem(p: string): void {
    if (this.#problems.length < 20) this.#problems.push(p);
  }
}
