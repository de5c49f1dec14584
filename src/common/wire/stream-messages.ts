// Headers of the read-path messages (docs/protocol.md, docs/architecture.md#reads-and-failover); frame grammar in frame.ts.
// Big-endian; these bytes are the frame's header.
//
//   OPEN_STREAM   = appIdLen:u16 appId:ASCII shuffleId:u32 partition:u32 epoch:u32 startChunk:u32
//   STREAM_HANDLE = streamId:u64 fileLength:u64 fileCrc32:u32 chunkCount:u32
//                   chunkLength:u32 * chunkCount
//   FETCH_CHUNK   = streamId:u64 chunkIndex:u32
//   CHUNK         = streamId:u64 chunkIndex:u32 crc32:u32            body = the chunk's bytes
//                   frame flags: CHUNK_FLAG_NO_CRC (0x01) = crc32 is not computed, 0
//   CLOSE_STREAM  = streamId:u64
//
// STREAM_HANDLE lists every chunk of the committed file (the .index, docs/architecture.md#on-disk-layout-and-index-format), so the chunk
// lengths must add up to fileLength; a handle where they do not is refused rather than letting
// a reader compute wrong offsets. The u16 headerLength caps a handle at 16,377 chunks (128 GiB
// at the default 8 MiB chunkBytes). CHUNK's crc32 field is kept for compatibility but no
// longer filled in: workers send it as 0 with CHUNK_FLAG_NO_CRC, because every byte of a chunk
// is covered by its block's CRC, the end-to-end check readers verify (encodeChunkFrame says
// what it cost). decodeChunkFrame still checks the field of a frame without the flag (an
// older worker's). streamId is an opaque u64 chosen by the worker (bigint: every value must round-trip);
// fileLength is a byte count (number, at most 2^53 - 1).
import { InvalidArgumentError } from '../errors.js';
import type { AppId, ShuffleId } from '../ids.js';
import { crc32 } from './crc.js';
import { type Frame, FrameType, encodeFrame } from './frame.js';
import { HeaderReader, HeaderWriter, appIdFieldBytes } from './header-codec.js';
import { WireProtocolError } from './wire-error.js';

export interface OpenStream {
  readonly appId: AppId;
  readonly shuffleId: ShuffleId;
  readonly partition: number;
  readonly epoch: number;
  readonly startChunk: number;
}

export interface StreamHandle {
  readonly streamId: bigint;
  readonly fileLength: number;
  readonly fileCrc32: number;
  /** Length of every chunk of the file, in order; the count travels as chunkCount. */
  readonly chunkLengths: readonly number[];
}

export interface FetchChunk {
  readonly streamId: bigint;
  readonly chunkIndex: number;
}

/**
 * CHUNK frame flag (the frame prefix's flags byte): the header's crc32 field was not computed
 * and is 0. Without it, crc32 is the CRC-32 of the body.
 */
export const CHUNK_FLAG_NO_CRC = 0x01;

export interface ChunkHeader {
  readonly streamId: bigint;
  readonly chunkIndex: number;
  /** CRC-32 (zlib) of the frame body; 0 and meaningless under CHUNK_FLAG_NO_CRC. */
  readonly crc32: number;
}

export interface CloseStream {
  readonly streamId: bigint;
}

export function encodeOpenStream(msg: OpenStream): Buffer {
  return new HeaderWriter('OPEN_STREAM', appIdFieldBytes(msg.appId) + 16)
    .appId(msg.appId)
    .shuffleId(msg.shuffleId)
    .u32('partition', msg.partition)
    .u32('epoch', msg.epoch)
    .u32('startChunk', msg.startChunk)
    .finish();
}

export function decodeOpenStream(header: Buffer): OpenStream {
  const r = new HeaderReader('OPEN_STREAM', header);
  const appId = r.appId();
  const shuffleId = r.shuffleId();
  const partition = r.u32('partition');
  const epoch = r.u32('epoch');
  const startChunk = r.u32('startChunk');
  r.end();
  return { appId, shuffleId, partition, epoch, startChunk };
}

export function encodeStreamHandle(msg: StreamHandle): Buffer {
  const total = msg.chunkLengths.reduce((sum, n) => sum + n, 0);
  if (total !== msg.fileLength) {
    throw new InvalidArgumentError(
      'STREAM_HANDLE.chunkLengths',
      `add up to ${total}, not fileLength ${msg.fileLength}`,
    );
  }
  const w = new HeaderWriter('STREAM_HANDLE', 24 + msg.chunkLengths.length * 4)
    .u64('streamId', msg.streamId)
    .u64Number('fileLength', msg.fileLength)
    .u32('fileCrc32', msg.fileCrc32)
    .u32('chunkCount', msg.chunkLengths.length);
  for (const n of msg.chunkLengths) w.u32('chunkLength', n);
  return w.finish();
}

export function decodeStreamHandle(header: Buffer): StreamHandle {
  const r = new HeaderReader('STREAM_HANDLE', header);
  const streamId = r.u64('streamId');
  const fileLength = r.u64Number('fileLength');
  const fileCrc32 = r.u32('fileCrc32');
  const count = r.u32('chunkCount');
  if (count * 4 !== r.remaining) {
    throw r.malformed(
      'chunkCount',
      `${count} chunks need ${count * 4} bytes, ${r.remaining} follow`,
    );
  }
  const chunkLengths: number[] = [];
  let total = 0;
  for (let i = 0; i < count; i++) {
    const n = r.u32(`chunkLengths[${i}]`);
    chunkLengths.push(n);
    total += n;
  }
  r.end();
  if (total !== fileLength) {
    throw r.malformed('chunkLengths', `add up to ${total}, not fileLength ${fileLength}`);
  }
  return { streamId, fileLength, fileCrc32, chunkLengths };
}

export function encodeFetchChunk(msg: FetchChunk): Buffer {
  return new HeaderWriter('FETCH_CHUNK', 12)
    .u64('streamId', msg.streamId)
    .u32('chunkIndex', msg.chunkIndex)
    .finish();
}

export function decodeFetchChunk(header: Buffer): FetchChunk {
  const r = new HeaderReader('FETCH_CHUNK', header);
  const streamId = r.u64('streamId');
  const chunkIndex = r.u32('chunkIndex');
  r.end();
  return { streamId, chunkIndex };
}

export function encodeChunk(msg: ChunkHeader): Buffer {
  return new HeaderWriter('CHUNK', 16)
    .u64('streamId', msg.streamId)
    .u32('chunkIndex', msg.chunkIndex)
    .u32('crc32', msg.crc32)
    .finish();
}

export function decodeChunk(header: Buffer): ChunkHeader {
  const r = new HeaderReader('CHUNK', header);
  const streamId = r.u64('streamId');
  const chunkIndex = r.u32('chunkIndex');
  const crc = r.u32('crc32');
  r.end();
  return { streamId, chunkIndex, crc32: crc };
}

export function encodeCloseStream(msg: CloseStream): Buffer {
  return new HeaderWriter('CLOSE_STREAM', 8).u64('streamId', msg.streamId).finish();
}

export function decodeCloseStream(header: Buffer): CloseStream {
  const r = new HeaderReader('CLOSE_STREAM', header);
  const streamId = r.u64('streamId');
  r.end();
  return { streamId };
}

export function encodeOpenStreamFrame(requestId: bigint, msg: OpenStream): Buffer[] {
  return encodeFrame(FrameType.OPEN_STREAM, 0, requestId, encodeOpenStream(msg));
}

export function encodeStreamHandleFrame(requestId: bigint, msg: StreamHandle): Buffer[] {
  return encodeFrame(FrameType.STREAM_HANDLE, 0, requestId, encodeStreamHandle(msg));
}

export function encodeFetchChunkFrame(requestId: bigint, msg: FetchChunk): Buffer[] {
  return encodeFrame(FrameType.FETCH_CHUNK, 0, requestId, encodeFetchChunk(msg));
}

export function encodeCloseStreamFrame(requestId: bigint, msg: CloseStream): Buffer[] {
  return encodeFrame(FrameType.CLOSE_STREAM, 0, requestId, encodeCloseStream(msg));
}

/**
 * A CHUNK frame, its body sent without a copy and without a CRC (CHUNK_FLAG_NO_CRC).
 *
 * The worker used to compute the body's CRC-32 here, for every chunk it served. No reader
 * relied on it: the library's reader verifies every block's CRC instead (chunk-fetch.ts), and
 * every byte of a chunk belongs to a block. Measured with bench scenario 4 on the 2-vCPU bench
 * VM (bench/README.md#the-chunk-crc; 2 GiB read back, 16 interleaved runs per variant,
 * medians): the worker spent 0.58 CPU-seconds per GB served with the CRC and 0.33 without it,
 * so the CRC was 44% of its read-path CPU; readers checking it too would pay 0.27 more per GB
 * (1.65 -> 1.92), to catch nothing their block CRCs miss.
 */
export function encodeChunkFrame(requestId: bigint, msg: FetchChunk, body: Buffer): Buffer[] {
  const header = encodeChunk({ ...msg, crc32: 0 });
  return encodeFrame(FrameType.CHUNK, CHUNK_FLAG_NO_CRC, requestId, header, body);
}

/**
 * Decodes a CHUNK frame; unless it has CHUNK_FLAG_NO_CRC, checks its body against the CRC
 * (CRC_MISMATCH otherwise).
 */
export function decodeChunkFrame(frame: Frame): ChunkHeader {
  const chunk = decodeChunk(frame.header);
  if (frame.flags & CHUNK_FLAG_NO_CRC) return chunk;
  let actual = 0;
  for (const part of frame.bodyParts) actual = crc32(part, actual);
  if (actual !== chunk.crc32) {
    throw new WireProtocolError(
      'CRC_MISMATCH',
      `CHUNK ${chunk.chunkIndex} of stream ${chunk.streamId}: body CRC ${hex(actual)}, header says ${hex(chunk.crc32)}`,
      {
        field: 'CHUNK.crc32',
        // bigint is kept out of context: logs and gRPC trailers serialise it as JSON.
        context: { streamId: String(chunk.streamId), chunkIndex: chunk.chunkIndex },
      },
    );
  }
  return chunk;
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}
