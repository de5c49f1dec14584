// Map output files of ESS mode (docs/architecture.md#ess-mode): one data file per map attempt with its partitions
// contiguous (same block format as push mode, block.ts), and an index written atomically
// (temp + rename) once the data file is complete. Written by the client's ESS writer, read by
// the node-local `sluice ess` daemon; both find them by ids under the ESS directory:
//
//   <dir>/<appId>/<shuffleId>/<mapId>-<attemptId>.data
//   <dir>/<appId>/<shuffleId>/<mapId>-<attemptId>.index
//
//   index = magic:u32 'SLMI' version:u32 (1) partitionCount:u32 dataLength:u64
//           offset:u64 * (partitionCount + 1) crc32:u32     (CRC of every byte before it)
//
// Partition p is data[offset[p], offset[p+1]); offset[0] = 0, offset[count] = dataLength.
import { join } from 'node:path';
import { crc32 } from './wire/crc.js';
import { InvalidArgumentError } from './errors.js';

const MAGIC = 0x534c4d49; // 'SLMI'
const VERSION = 1;
const FIXED_BYTES = 4 + 4 + 4 + 8;

export interface MapOutputKey {
  readonly appId: string;
  readonly shuffleId: number;
  readonly mapId: number;
  readonly attemptId: number;
}

export function mapOutputBase(dir: string, k: MapOutputKey): string {
  return join(dir, k.appId, String(k.shuffleId), `${k.mapId}-${k.attemptId}`);
}

export function encodeMapOutputIndex(offsets: readonly number[]): Buffer {
  const count = offsets.length - 1;
  if (count < 1 || offsets[0] !== 0)
    throw new InvalidArgumentError('offsets', 'need offsets[0] = 0 and at least one partition');
  const buf = Buffer.alloc(FIXED_BYTES + offsets.length * 8 + 4);
  buf.writeUInt32BE(MAGIC, 0);
  buf.writeUInt32BE(VERSION, 4);
  buf.writeUInt32BE(count, 8);
  buf.writeBigUInt64BE(BigInt(offsets[count]!), 12);
  offsets.forEach((o, i) => {
    if (i > 0 && o < offsets[i - 1]!)
      throw new InvalidArgumentError(`offsets[${i}]`, 'must not decrease');
    buf.writeBigUInt64BE(BigInt(o), FIXED_BYTES + i * 8);
  });
  buf.writeUInt32BE(crc32(buf.subarray(0, buf.length - 4)), buf.length - 4);
  return buf;
}

/** Offsets of a map output index; throws InvalidArgumentError naming what is wrong. */
export function decodeMapOutputIndex(buf: Buffer): number[] {
  if (buf.length < FIXED_BYTES + 16 + 4)
    throw new InvalidArgumentError('index', `truncated (${buf.length} bytes)`);
  if (buf.readUInt32BE(0) !== MAGIC) throw new InvalidArgumentError('index', 'bad magic');
  if (buf.readUInt32BE(4) !== VERSION)
    throw new InvalidArgumentError('index', `unknown version ${buf.readUInt32BE(4)}`);
  const count = buf.readUInt32BE(8);
  if (buf.length !== FIXED_BYTES + (count + 1) * 8 + 4)
    throw new InvalidArgumentError(
      'index',
      `${count} partitions need ${FIXED_BYTES + (count + 1) * 8 + 4} bytes, got ${buf.length}`,
    );
  if (crc32(buf.subarray(0, buf.length - 4)) !== buf.readUInt32BE(buf.length - 4))
    throw new InvalidArgumentError('index', 'CRC mismatch');
  const offsets: number[] = [];
  for (let i = 0; i <= count; i++) offsets.push(Number(buf.readBigUInt64BE(FIXED_BYTES + i * 8)));
  if (
    offsets[0] !== 0 ||
    offsets[count] !== Number(buf.readBigUInt64BE(12)) ||
    offsets.some((o, i) => i > 0 && o < offsets[i - 1]!)
  )
    throw new InvalidArgumentError('index', 'offsets are not a partition of the data file');
  return offsets;
}
