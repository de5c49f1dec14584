// Block format (docs/protocol.md): written by the client, stored verbatim by the worker, verified by
// the worker on receipt (worker.verifyOnPush) and by every reader. Big-endian:
//
//   block = magic:u32 mapId:u32 attemptId:u32 batchId:u32 rawLength:u32 storedLength:u32
//           codec:u8 reserved:u8[3] crc32:u32 stored:u8[storedLength]
//
//    0      4       8           12        16          20             24    25     28      32
//   +------+-------+-----------+---------+-----------+--------------+-----+------+-------+-------
//   |'SLB1'| mapId | attemptId | batchId | rawLength | storedLength |codec| rsvd | crc32 | stored
//   +------+-------+-----------+---------+-----------+--------------+-----+------+-------+-------
//
// The header is 32 bytes: six u32 (24) + codec and reserved (4) + crc32 (4).
// codec 0 = none (rawLength must equal storedLength), 1 = lz4 (rawLength = decompressed size).
// crc32 covers header bytes 4..27 (mapId through reserved) and then the stored bytes
// (docs/protocol.md#block-format). Covering the header is deliberate: readers keep
// or drop blocks by (mapId, attemptId, batchId), so a flipped bit there would silently lose
// or duplicate data, and only a checksum can catch it. The magic is checked structurally.
// Reserved bytes are written as zero; a non-zero reserved byte fails the CRC.
//
// A block is never skipped: the first bad block ends a walk with a CorruptBlockError, because
// after it the next block boundary can no longer be trusted. Readers fail over to the other
// replica (docs/protocol.md).
import { InvalidArgumentError } from '../errors.js';
import { crc32, crc32Combine } from './crc.js';
import { PartsCursor } from './parts.js';
import { CorruptBlockError } from './wire-error.js';

export const BLOCK_MAGIC = 0x534c4231; // 'SLB1'
/**
 * The most an LZ4 block can expand: a literal-length or match-length byte of 255 stands for
 * 255 bytes, so every stored byte yields at most 255 (measured: 64 MiB of zeros compresses to
 * 263 182 bytes, 255.0x). A header claiming more is corrupt or hostile.
 */
export const MAX_LZ4_RATIO = 255;

export const BLOCK_HEADER_BYTES = 32;
const CODEC_AT = 24;
const CRC_AT = 28;

export const BlockCodec = Object.freeze({ NONE: 0, LZ4: 1 } as const);
export type BlockCodecValue = (typeof BlockCodec)[keyof typeof BlockCodec];

export interface BlockMeta {
  readonly mapId: number;
  readonly attemptId: number;
  readonly batchId: number;
  /** Bytes after decompression (equal to the stored length for codec NONE). */
  readonly rawLength: number;
  readonly codec: BlockCodecValue;
}

export interface BlockHeader extends BlockMeta {
  readonly storedLength: number;
  /** CRC-32 (zlib) of the stored bytes. */
  readonly crc32: number;
}

export interface Block {
  /** Where the block starts, relative to the base the caller gave. */
  readonly offset: number;
  readonly header: BlockHeader;
  /** The stored bytes, a view of the input (not copied). */
  readonly stored: Buffer;
  /** CRC-32 of the stored bytes alone. */
  readonly storedCrc32: number;
}

export interface BlockSummary {
  readonly blocks: number;
  readonly rawBytes: number;
  readonly storedBytes: number;
  /** CRC-32 of the whole buffer (headers and stored bytes), as a file of these blocks has. */
  readonly crc32: number;
}

function isCodec(value: number): value is BlockCodecValue {
  return value === BlockCodec.NONE || value === BlockCodec.LZ4;
}

function checkU32(field: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
    throw new InvalidArgumentError(`block.${field}`, `must be a u32, got ${value}`);
  }
}

/** The 32-byte header for explicit field values (writeBlock computes length and CRC). */
export function encodeBlockHeader(header: BlockHeader): Buffer {
  const buf = Buffer.allocUnsafe(BLOCK_HEADER_BYTES);
  encodeBlockHeaderInto(header, buf, 0);
  return buf;
}

/**
 * encodeBlockHeader written into `out` at `at` (BLOCK_HEADER_BYTES must fit): what a writer
 * sealing blocks into one push body uses, with no Buffer per block.
 */
export function encodeBlockHeaderInto(header: BlockHeader, out: Buffer, at: number): void {
  checkU32('mapId', header.mapId);
  checkU32('attemptId', header.attemptId);
  checkU32('batchId', header.batchId);
  checkU32('rawLength', header.rawLength);
  checkU32('storedLength', header.storedLength);
  checkU32('crc32', header.crc32);
  if (!isCodec(header.codec))
    throw new InvalidArgumentError('block.codec', `unknown codec ${header.codec}`);
  if (header.codec === BlockCodec.NONE && header.rawLength !== header.storedLength) {
    throw new InvalidArgumentError(
      'block.rawLength',
      `codec NONE needs rawLength ${header.rawLength} = storedLength ${header.storedLength}`,
    );
  }
  if (header.codec === BlockCodec.LZ4 && header.rawLength > header.storedLength * MAX_LZ4_RATIO) {
    throw new InvalidArgumentError(
      'block.rawLength',
      `LZ4 cannot expand ${header.storedLength} bytes to ${header.rawLength} (at most ${MAX_LZ4_RATIO}x)`,
    );
  }
  if (out.length - at < BLOCK_HEADER_BYTES)
    throw new RangeError(`a block header needs ${BLOCK_HEADER_BYTES} bytes at ${at}`);
  out.writeUInt32BE(BLOCK_MAGIC, at);
  out.writeUInt32BE(header.mapId, at + 4);
  out.writeUInt32BE(header.attemptId, at + 8);
  out.writeUInt32BE(header.batchId, at + 12);
  out.writeUInt32BE(header.rawLength, at + 16);
  out.writeUInt32BE(header.storedLength, at + 20);
  out.writeUInt32BE(0, at + CODEC_AT); // the codec byte, then 3 reserved bytes that stay 0
  out.writeUInt8(header.codec, at + CODEC_AT);
  out.writeUInt32BE(header.crc32, at + CRC_AT);
}

/** The block checksum: header bytes 4..27 (fields and reserved), then the stored bytes. */
export function blockCrc(
  header: Omit<BlockHeader, 'crc32'>,
  stored: Buffer,
  storedCrc = crc32(stored),
): number {
  return blockCrcOf(header, storedCrc, stored.length);
}

/** blockCrc from the CRC and length of the stored bytes alone. */
function blockCrcOf(header: Omit<BlockHeader, 'crc32'>, storedCrc: number, storedLength: number) {
  const fields = encodeBlockHeader({ ...header, storedLength, crc32: 0 }).subarray(4, CRC_AT);
  return crc32Combine(crc32(fields), storedCrc, storedLength);
}

/** One block as [header, stored]; the stored bytes are not copied. */
export function writeBlock(meta: BlockMeta, stored: Buffer): Buffer[] {
  const fields = { ...meta, storedLength: stored.length };
  return [encodeBlockHeader({ ...fields, crc32: blockCrc(fields, stored) }), stored];
}

/**
 * Parses the header of the block at `offset` in `buf` (structure only, not the CRC).
 * `baseOffset` is added to offsets in errors (e.g. the buffer's position in its file).
 */
export function parseBlockHeader(buf: Buffer, offset = 0, baseOffset = 0): BlockHeader {
  const at = baseOffset + offset;
  if (buf.length - offset < BLOCK_HEADER_BYTES) {
    throw new CorruptBlockError(
      'TRUNCATED',
      at,
      `block at ${at}: ${buf.length - offset} bytes left, a block header needs ${BLOCK_HEADER_BYTES}`,
    );
  }
  const magic = buf.readUInt32BE(offset);
  if (magic !== BLOCK_MAGIC) {
    throw new CorruptBlockError(
      'BAD_MAGIC',
      at,
      `block at ${at}: magic 0x${magic.toString(16)}, not 'SLB1'`,
    );
  }
  const codec = buf.readUInt8(offset + CODEC_AT);
  if (!isCodec(codec))
    throw new CorruptBlockError('BAD_CODEC', at, `block at ${at}: unknown codec ${codec}`);
  const rawLength = buf.readUInt32BE(offset + 16);
  const storedLength = buf.readUInt32BE(offset + 20);
  if (codec === BlockCodec.NONE && rawLength !== storedLength) {
    throw new CorruptBlockError(
      'BAD_LENGTH',
      at,
      `block at ${at}: codec NONE with rawLength ${rawLength} != storedLength ${storedLength}`,
    );
  }
  // Checked before any allocation: a reader sizes its output by rawLength, and a hostile or
  // corrupt header could otherwise claim 4 GiB behind a few stored bytes.
  if (codec === BlockCodec.LZ4 && rawLength > storedLength * MAX_LZ4_RATIO) {
    throw new CorruptBlockError(
      'BAD_LENGTH',
      at,
      `block at ${at}: LZ4 rawLength ${rawLength} is more than ${MAX_LZ4_RATIO} x storedLength ${storedLength}`,
    );
  }
  if (buf.readUIntBE(offset + CODEC_AT + 1, 3) !== 0) {
    // Reserved must be zero (blockCrc assumes it); say so instead of a bare CRC mismatch.
    throw new CorruptBlockError('CRC_MISMATCH', at, `block at ${at}: reserved bytes are not zero`);
  }
  return {
    mapId: buf.readUInt32BE(offset + 4),
    attemptId: buf.readUInt32BE(offset + 8),
    batchId: buf.readUInt32BE(offset + 12),
    rawLength,
    storedLength,
    codec,
    crc32: buf.readUInt32BE(offset + CRC_AT),
  };
}

/**
 * Throws CorruptBlockError (CRC_MISMATCH) unless `stored` matches the header; returns the
 * CRC of the stored bytes alone (one pass over them serves both).
 */
export function verifyBlock(header: BlockHeader, stored: Buffer, offset = 0): number {
  if (stored.length !== header.storedLength) {
    throw new CorruptBlockError(
      'TRUNCATED',
      offset,
      `block at ${offset}: ${stored.length} stored bytes, header says ${header.storedLength}`,
    );
  }
  const storedCrc = crc32(stored);
  checkBlockCrc(header, storedCrc, offset);
  return storedCrc;
}

function checkBlockCrc(header: BlockHeader, storedCrc: number, offset: number): void {
  const actual = blockCrcOf(header, storedCrc, header.storedLength);
  if (actual !== header.crc32) {
    throw new CorruptBlockError(
      'CRC_MISMATCH',
      offset,
      `block at ${offset} (map ${header.mapId} attempt ${header.attemptId} batch ${header.batchId}): CRC 0x${actual.toString(16)}, header says 0x${header.crc32.toString(16)}`,
    );
  }
}

function checkStoredFits(header: BlockHeader, follow: number, at: number): void {
  if (follow < header.storedLength) {
    throw new CorruptBlockError(
      'TRUNCATED',
      at,
      `block at ${at}: storedLength ${header.storedLength}, only ${follow} bytes follow`,
    );
  }
}

/** Parses and verifies the block at `offset`: structure, bounds and CRC. */
export function readBlock(buf: Buffer, offset = 0, baseOffset = 0): Block {
  const header = parseBlockHeader(buf, offset, baseOffset);
  const start = offset + BLOCK_HEADER_BYTES;
  const at = baseOffset + offset;
  checkStoredFits(header, buf.length - start, at);
  const stored = buf.subarray(start, start + header.storedLength);
  const storedCrc32 = verifyBlock(header, stored, at);
  return { offset: at, header, stored, storedCrc32 };
}

/**
 * Walks a buffer of concatenated blocks, verifying each before yielding it. Throws
 * CorruptBlockError at the first bad or truncated block (after yielding the good ones before
 * it); a buffer that ends exactly after a block ends the walk.
 */
export function* iterateBlocks(buf: Buffer, baseOffset = 0): Generator<Block, void, undefined> {
  let offset = 0;
  while (offset < buf.length) {
    const block = readBlock(buf, offset, baseOffset);
    yield block;
    offset += BLOCK_HEADER_BYTES + block.header.storedLength;
  }
}

/** Verifies every block of `buf` (e.g. a PUSH slice on receipt) and totals them. */
export function validateBlocks(buf: Buffer, baseOffset = 0): BlockSummary {
  return validateBlockParts([buf], baseOffset);
}

/**
 * validateBlocks over bytes held in several Buffers (a push slice as the socket delivered it),
 * without joining them: a block may straddle parts; its CRC is computed piece by piece.
 */
export function validateBlockParts(parts: readonly Buffer[], baseOffset = 0): BlockSummary {
  const cursor = new PartsCursor(parts);
  let blocks = 0;
  let rawBytes = 0;
  let storedBytes = 0;
  let whole = 0;
  for (let offset = 0; cursor.remaining > 0;) {
    const at = baseOffset + offset;
    const head = cursor.read(BLOCK_HEADER_BYTES);
    const header = parseBlockHeader(head, 0, at);
    checkStoredFits(header, cursor.remaining, at);
    let storedCrc = 0;
    for (const piece of cursor.take(header.storedLength)) storedCrc = crc32(piece, storedCrc);
    checkBlockCrc(header, storedCrc, at);
    blocks++;
    rawBytes += header.rawLength;
    storedBytes += header.storedLength;
    // The CRC of the whole buffer from per-block CRCs: no second pass over the bytes.
    whole = crc32(head, whole);
    whole = crc32Combine(whole, storedCrc, header.storedLength);
    offset += BLOCK_HEADER_BYTES + header.storedLength;
  }
  return { blocks, rawBytes, storedBytes, crc32: whole };
}
