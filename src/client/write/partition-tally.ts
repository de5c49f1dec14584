// What one map attempt has written, per partition (docs/architecture.md#lifecycle-of-one-shuffle step 6): blocks, bytes, records,
// the epochs that hold them, and the CRC-32 of the block CRCs combined in batchId order (the
// totals readers check, driver.proto PartitionWritten). Shared by the push and ESS writers.
//
// Kept in columns (typed arrays indexed in the order partitions were first written), not an
// object per partition: a writer of 10^6 partitions held ~5 objects per partition here (a
// record, two arrays, a Set) until it closed, and collecting them was a large part of the
// bench process's garbage collection in bench:large's 10^6-partition row.
import { crc32Combine } from '../../common/wire/crc.js';
import type { PartitionWritten } from '../../common/proto/gen/sluice/v1/PartitionWritten.js';
import type { SealedBlock } from './group-pusher.js';
import type { WriteResult } from './writer.js';

/** A block as its partition's CRC needs it: [batchId, crc, CRC'd length]. */
type BlockCrc = [batchId: number, crc: number, length: number];

/** Epochs a partition's bit mask holds; later ones go to a Set. */
const MASK_EPOCHS = 32;

export class PartitionTally {
  /** Partition -> its row in the columns. */
  readonly #row = new Map<number, number>();
  #partition = new Uint32Array(16);
  #bytes = new Float64Array(16);
  #records = new Float64Array(16);
  #blocks = new Uint32Array(16);
  #epochMask = new Uint32Array(16);
  /** The first block of each row; most partitions of a large shuffle have only that one. */
  #firstBatchId = new Float64Array(16);
  #firstCrc = new Uint32Array(16);
  #firstLength = new Float64Array(16);
  /** A row's blocks after its first, and its epochs from MASK_EPOCHS on. */
  readonly #moreBlocks = new Map<number, BlockCrc[]>();
  readonly #moreEpochs = new Map<number, Set<number>>();

  /** Counts blocks that are now safely written (acknowledged, or in a finished file). */
  add(blocks: readonly SealedBlock[], epoch: number): void {
    for (const b of blocks) {
      const r = this.#rowOf(b.partition);
      // The block CRC covers header bytes 4..27 (24 bytes) and the stored bytes.
      const length = b.header.length - 8 + b.stored.length;
      if (this.#blocks[r] === 0) {
        this.#firstBatchId[r] = b.batchId;
        this.#firstCrc[r] = b.crc32;
        this.#firstLength[r] = length;
      } else {
        let more = this.#moreBlocks.get(r);
        if (!more) this.#moreBlocks.set(r, (more = []));
        more.push([b.batchId, b.crc32, length]);
      }
      this.#blocks[r]!++;
      if (epoch < MASK_EPOCHS) this.#epochMask[r]! |= 1 << epoch;
      else {
        let more = this.#moreEpochs.get(r);
        if (!more) this.#moreEpochs.set(r, (more = new Set()));
        more.add(epoch);
      }
      this.#bytes[r]! += b.header.length + b.stored.length;
      this.#records[r]! += b.records;
    }
  }

  written(): PartitionWritten[] {
    return Array.from({ length: this.#row.size }, (_, r) => {
      const more = this.#moreBlocks.get(r);
      let crc = crc32Combine(0, this.#firstCrc[r]!, this.#firstLength[r]!);
      if (more) {
        const first: BlockCrc = [this.#firstBatchId[r]!, this.#firstCrc[r]!, this.#firstLength[r]!];
        const all = [first].concat(more);
        all.sort((x, y) => x[0] - y[0]);
        crc = all.reduce((acc, [, c, len]) => crc32Combine(acc, c, len), 0);
      }
      return {
        partition: this.#partition[r]!,
        epochs: this.#epochs(r),
        bytes: this.#bytes[r]!,
        crc32: crc,
        blocks: this.#blocks[r]!,
      };
    });
  }

  result(discarded: boolean): WriteResult {
    const rows = Array.from({ length: this.#row.size }, (_, r) => r).sort(
      (x, y) => this.#partition[x]! - this.#partition[y]!,
    );
    const partitions = rows.map((r) => ({
      partition: this.#partition[r]!,
      records: this.#records[r]!,
      bytes: this.#bytes[r]!,
      blocks: this.#blocks[r]!,
      epochs: this.#epochs(r),
    }));
    return {
      discarded,
      records: partitions.reduce((n, p) => n + p.records, 0),
      bytes: partitions.reduce((n, p) => n + p.bytes, 0),
      partitions,
    };
  }

  /** The row's epochs, ascending. */
  #epochs(r: number): number[] {
    const epochs: number[] = [];
    for (let m = this.#epochMask[r]!, e = 0; m !== 0; m >>>= 1, e++) if (m & 1) epochs.push(e);
    const more = this.#moreEpochs.get(r);
    return more ? epochs.concat([...more].sort((x, y) => x - y)) : epochs;
  }

  #rowOf(partition: number): number {
    let r = this.#row.get(partition);
    if (r !== undefined) return r;
    r = this.#row.size;
    if (r === this.#partition.length) this.#grow();
    this.#row.set(partition, r);
    this.#partition[r] = partition;
    return r;
  }

  /** Doubles every column. */
  #grow(): void {
    const n = this.#partition.length * 2;
    const grown = <T extends Uint32Array | Float64Array>(a: T, make: new (n: number) => T): T => {
      const b = new make(n);
      b.set(a);
      return b;
    };
    this.#partition = grown(this.#partition, Uint32Array);
    this.#bytes = grown(this.#bytes, Float64Array);
    this.#records = grown(this.#records, Float64Array);
    this.#blocks = grown(this.#blocks, Uint32Array);
    this.#epochMask = grown(this.#epochMask, Uint32Array);
    this.#firstBatchId = grown(this.#firstBatchId, Float64Array);
    this.#firstCrc = grown(this.#firstCrc, Uint32Array);
    this.#firstLength = grown(this.#firstLength, Float64Array);
  }
}
