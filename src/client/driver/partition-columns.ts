// MapperEnd's PartitionWritten list as packed columns (driver.proto PartitionColumns): a map
// writing 10^6 partitions made 10^6 nested messages, seconds to encode on the executor and to
// decode on the driver, past MapperEnd's deadline on a loaded machine. Columns of numbers are
// encoded and decoded in milliseconds (docs/client.md#large-shuffles).
import { InvalidArgumentError } from '../../common/errors.js';
import type {
  PartitionColumns,
  PartitionColumns__Output,
} from '../../common/proto/gen/sluice/v1/PartitionColumns.js';
import type {
  PartitionWritten,
  PartitionWritten__Output,
} from '../../common/proto/gen/sluice/v1/PartitionWritten.js';

/** Epochs a mask can name. */
const MASK_EPOCHS = 32;

/** The list as columns; undefined when an epoch is past what a mask holds (send the list). */
export function toColumns(written: readonly PartitionWritten[]): PartitionColumns | undefined {
  const n = written.length;
  const partition = new Uint32Array(n);
  const epochMask = new Uint32Array(n);
  const bytes = new BigUint64Array(n);
  const crc32 = new Uint32Array(n);
  const blocks = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const p = written[i]!;
    let mask = 0;
    for (const e of p.epochs ?? []) {
      if (e >= MASK_EPOCHS) return undefined;
      mask |= 1 << e;
    }
    partition[i] = p.partition ?? 0;
    epochMask[i] = mask >>> 0;
    bytes[i] = BigInt(Number(p.bytes ?? 0));
    crc32[i] = p.crc32 ?? 0;
    blocks[i] = p.blocks ?? 0;
  }
  return {
    partition: littleEndian(partition),
    epochMask: littleEndian(epochMask),
    bytes: littleEndian(bytes),
    crc32: littleEndian(crc32),
    blocks: littleEndian(blocks),
  };
}

/** Back to the list the driver checks; INVALID_ARGUMENT when a column is malformed. */
export function fromColumns(c: PartitionColumns__Output): PartitionWritten__Output[] {
  const n = Math.floor(c.partition.length / 4);
  const column = (field: string, buf: Buffer, width: 4 | 8) => {
    if (buf.length !== n * width || c.partition.length % 4 !== 0)
      throw new InvalidArgumentError(
        `written.${field}`,
        `must hold as many little-endian u${width * 8} as partition holds u32 (${c.partition.length} bytes), got ${buf.length} bytes`,
      );
    return buf;
  };
  const partition = column('partition', c.partition, 4);
  const epochMask = column('epoch_mask', c.epochMask, 4);
  const bytes = column('bytes', c.bytes, 8);
  const crc32 = column('crc32', c.crc32, 4);
  const blocks = column('blocks', c.blocks, 4);
  const out = new Array<PartitionWritten__Output>(n);
  for (let i = 0; i < n; i++) {
    const epochs: number[] = [];
    for (let m = epochMask.readUInt32LE(i * 4), e = 0; m !== 0; m >>>= 1, e++)
      if (m & 1) epochs.push(e);
    out[i] = {
      partition: partition.readUInt32LE(i * 4),
      epochs,
      bytes: Number(bytes.readBigUInt64LE(i * 8)),
      crc32: crc32.readUInt32LE(i * 4),
      blocks: blocks.readUInt32LE(i * 4),
    };
  }
  return out;
}

/** A typed array's bytes in little-endian order (this machine's order; swapped elsewhere). */
function littleEndian(a: Uint32Array | BigUint64Array): Buffer {
  const buf = Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  if (BIG_ENDIAN) {
    if (a instanceof Uint32Array) buf.swap32();
    else buf.swap64();
  }
  return buf;
}

const BIG_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 0;

/** What a MapperEnd says was written, from whichever form it used. */
export function writtenOf(req: {
  partitions: readonly PartitionWritten__Output[];
  written: PartitionColumns__Output | null;
}): readonly PartitionWritten__Output[] {
  if (!req.written) return req.partitions;
  if (req.partitions.length > 0)
    throw new InvalidArgumentError('written', 'set together with partitions: send one form');
  return fromColumns(req.written);
}

/** The MapperEnd fields for `written`: columns, or the list when an epoch needs it. */
export function writtenFields(
  written: PartitionWritten[],
): { written: PartitionColumns } | { partitions: PartitionWritten[] } {
  const columns = toColumns(written);
  return columns ? { written: columns } : { partitions: written };
}
