import { describe, expect, it } from 'vitest';
import { crc32Combine } from '../../common/wire/crc.js';
import type { SealedBlock } from './group-pusher.js';
import { PartitionTally } from './partition-tally.js';

/** A sealed block of `stored` bytes with a made-up CRC (the tally only combines them). */
function block(partition: number, batchId: number, stored: number, records = 1): SealedBlock {
  return {
    partition,
    batchId,
    records,
    header: Buffer.alloc(32),
    stored: Buffer.alloc(stored),
    crc32: (0x9e3779b1 * (batchId + 1)) >>> 0,
  };
}

/** The partition CRC: block CRCs combined in batchId order, each over 24 header bytes + stored. */
const combined = (blocks: SealedBlock[]) =>
  [...blocks]
    .sort((a, b) => a.batchId - b.batchId)
    .reduce((acc, b) => crc32Combine(acc, b.crc32, 24 + b.stored.length), 0);

describe('PartitionTally', () => {
  it('totals every partition, combining block CRCs in batchId order whatever the ack order', () => {
    const t = new PartitionTally();
    const p7 = [block(7, 5, 10, 2), block(7, 1, 20, 3), block(7, 3, 30, 1)];
    t.add([p7[0]!, block(2, 0, 4)], 0);
    t.add([p7[1]!], 1);
    t.add([p7[2]!], 0);
    expect(t.written()).toEqual([
      { partition: 7, epochs: [0, 1], bytes: 3 * 32 + 60, crc32: combined(p7), blocks: 3 },
      {
        partition: 2,
        epochs: [0],
        bytes: 36,
        crc32: combined([block(2, 0, 4)]),
        blocks: 1,
      },
    ]);
    expect(t.result(false)).toEqual({
      discarded: false,
      records: 7,
      bytes: 3 * 32 + 60 + 36,
      partitions: [
        { partition: 2, records: 1, bytes: 36, blocks: 1, epochs: [0] },
        { partition: 7, records: 6, bytes: 156, blocks: 3, epochs: [0, 1] },
      ],
    });
  });

  it('keeps epochs past 31 and many partitions', () => {
    const t = new PartitionTally();
    for (let p = 0; p < 1000; p++) t.add([block(p, p, 1)], p % 40);
    t.add([block(999, 5000, 1)], 31);
    t.add([block(999, 5001, 1)], 45);
    const written = t.written();
    expect(written).toHaveLength(1000);
    expect(written[37]).toMatchObject({ partition: 37, epochs: [37], blocks: 1 });
    expect(written[999]).toMatchObject({ partition: 999, epochs: [31, 39, 45], blocks: 3 });
    expect(t.result(true).partitions.map((p) => p.partition)).toEqual(
      Array.from({ length: 1000 }, (_, p) => p),
    );
  });
});
