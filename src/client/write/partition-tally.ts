// What one map attempt has written, per partition (docs/architecture.md#lifecycle-of-one-shuffle step 6): blocks, bytes, records,
// the epochs that hold them, and the CRC-32 of the block CRCs combined in batchId order (the
// totals readers check, driver.proto PartitionWritten). Shared by the push and ESS writers.
import { crc32Combine } from '../../common/wire/crc.js';
import type { PartitionWritten } from '../../common/proto/gen/sluice/v1/PartitionWritten.js';
import type { SealedBlock } from './group-pusher.js';
import type { WriteResult } from './writer.js';

interface Tally {
  readonly crcs: [batchId: number, crc: number, length: number][];
  readonly epochs: Set<number>;
  bytes: number;
  records: number;
}

export class PartitionTally {
  readonly #byPartition = new Map<number, Tally>();

  /** Counts blocks that are now safely written (acknowledged, or in a finished file). */
  add(blocks: readonly SealedBlock[], epoch: number): void {
    for (const b of blocks) {
      let t = this.#byPartition.get(b.partition);
      if (!t) {
        t = { crcs: [], epochs: new Set(), bytes: 0, records: 0 };
        this.#byPartition.set(b.partition, t);
      }
      // The block CRC covers header bytes 4..27 (24 bytes) and the stored bytes.
      t.crcs.push([b.batchId, b.crc32, b.header.length - 8 + b.stored.length]);
      t.epochs.add(epoch);
      t.bytes += b.header.length + b.stored.length;
      t.records += b.records;
    }
  }

  written(): PartitionWritten[] {
    return [...this.#byPartition.entries()].map(([partition, t]) => {
      const sorted = [...t.crcs].sort((x, y) => x[0] - y[0]);
      const crc = sorted.reduce((acc, [, c, len]) => crc32Combine(acc, c, len), 0);
      return {
        partition,
        epochs: [...t.epochs],
        bytes: t.bytes,
        crc32: crc,
        blocks: t.crcs.length,
      };
    });
  }

  result(discarded: boolean): WriteResult {
    const partitions = [...this.#byPartition.entries()]
      .sort((x, y) => x[0] - y[0])
      .map(([partition, t]) => ({
        partition,
        records: t.records,
        bytes: t.bytes,
        blocks: t.crcs.length,
        epochs: [...t.epochs].sort((x, y) => x - y),
      }));
    return {
      discarded,
      records: partitions.reduce((n, p) => n + p.records, 0),
      bytes: partitions.reduce((n, p) => n + p.bytes, 0),
      partitions,
    };
  }
}
