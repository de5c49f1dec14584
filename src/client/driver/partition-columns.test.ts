// MapperEnd's written partitions as little-endian columns: the round trip, the fallback to the
// list for epochs a mask cannot hold, and the refusals of malformed columns.
import { describe, expect, it } from 'vitest';
import type { PartitionColumns__Output } from '../../common/proto/gen/sluice/v1/PartitionColumns.js';
import type { PartitionWritten__Output } from '../../common/proto/gen/sluice/v1/PartitionWritten.js';
import { fromColumns, toColumns, writtenFields, writtenOf } from './partition-columns.js';

const wrote = (partition: number, epochs: number[], bytes = 96): PartitionWritten__Output => ({
  partition,
  epochs,
  bytes,
  crc32: 0xdead_beef,
  blocks: 2,
});

const columns = (list: PartitionWritten__Output[]) => toColumns(list) as PartitionColumns__Output;

describe('PartitionColumns', () => {
  it('round-trips what a writer reports, epochs 0..31 and sizes past 2^32 included', () => {
    const list = [wrote(0, [0]), wrote(7, [0, 1, 31], 2 ** 40 + 5), wrote(9, [3])];
    const c = columns(list);
    expect(c.partition.length).toBe(12);
    expect(c.epochMask.readUInt32LE(4)).toBe(0x8000_0003);
    expect(c.bytes.readBigUInt64LE(8)).toBe(2n ** 40n + 5n);
    expect(fromColumns(c)).toEqual(list);
    expect(fromColumns(columns([]))).toEqual([]);
  });

  it('falls back to the list when an epoch is 32 or later', () => {
    const list = [wrote(0, [0]), wrote(1, [32])];
    expect(toColumns(list)).toBeUndefined();
    expect(writtenFields(list)).toEqual({ partitions: list });
    expect(writtenFields([wrote(0, [1])])).toHaveProperty('written');
  });

  it('refuses malformed columns, and both forms at once', () => {
    const good = columns([wrote(1, [0]), wrote(2, [0])]);
    expect(() => fromColumns({ ...good, epochMask: good.epochMask.subarray(4) })).toThrow(
      /written.epoch_mask/,
    );
    expect(() => fromColumns({ ...good, bytes: good.bytes.subarray(0, 12) })).toThrow(
      /written.bytes/,
    );
    expect(() => fromColumns({ ...good, partition: good.partition.subarray(0, 7) })).toThrow(
      /written.partition/,
    );
    expect(() => writtenOf({ partitions: [wrote(0, [0])], written: good })).toThrow(/one form/);
    expect(writtenOf({ partitions: [wrote(3, [0])], written: null })).toEqual([wrote(3, [0])]);
  });
});
