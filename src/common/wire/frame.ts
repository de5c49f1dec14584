// Data-plane frame (docs/protocol.md), big-endian, one grammar for every message on the push and fetch
// connections:
//
//   frame       = frameLength:u32 prefix header body
//   frameLength = number of bytes after the frameLength field (prefix + header + body), >= 12
//   prefix      = type:u8 flags:u8 headerLength:u16 requestId:u64              (12 bytes)
//   header      = headerLength bytes, the message fields (messages.ts, stream-messages.ts)
//   body        = frameLength - 12 - headerLength bytes, raw (blocks, chunk bytes, ping echo)
//
//    0        4     5      6              8                  16            16+headerLength
//   +--------+-----+------+--------------+------------------+-------------+--------------+
//   | length | type| flags| headerLength |    requestId     |   header    |     body     |
//   +--------+-----+------+--------------+------------------+-------------+--------------+
//
// The header is small (u16 length) and always copied; the body can be megabytes and is never
// copied by the encoder: encodeFrame returns [prefix+header, ...body] for socket.cork() + write()
// of each part (or writev). `flags`: bits are defined per type (CHUNK: CHUNK_FLAG_NO_CRC,
// stream-messages.ts); senders write 0 for the others, receivers ignore bits they do not know.
// `requestId` is chosen by the requester and echoed in the answer (PUSH -> PUSH_ACK, ...).
import { InvalidArgumentError } from '../errors.js';

/** Size of the u32 frameLength field itself. */
export const FRAME_LENGTH_FIELD_BYTES = 4;
/** type + flags + headerLength + requestId: the smallest legal frameLength. */
export const FRAME_PREFIX_BYTES = 12;
/** Bytes on the wire before the header: length field + prefix. */
export const FRAME_OVERHEAD_BYTES = FRAME_LENGTH_FIELD_BYTES + FRAME_PREFIX_BYTES;
export const MAX_HEADER_BYTES = 0xffff;
export const MAX_FRAME_LENGTH = 0xffff_ffff;
const MAX_U64 = (1n << 64n) - 1n;

export const FrameType = Object.freeze({
  PUSH: 1,
  PUSH_ACK: 2,
  OPEN_STREAM: 3,
  STREAM_HANDLE: 4,
  FETCH_CHUNK: 5,
  CHUNK: 6,
  ERROR: 7,
  PING: 8,
  PONG: 9,
  CLOSE_STREAM: 10,
  REGISTER_OUTPUT: 11,
  REGISTERED: 12,
  FETCH_BLOCKS: 13,
  BLOCKS: 14,
  AUTH_HELLO: 15,
  AUTH_CHALLENGE: 16,
  AUTH_PROOF: 17,
  AUTH_OK: 18,
  REMOVE_OUTPUTS: 19,
  OUTPUTS_REMOVED: 20,
} as const);

export type FrameTypeName = keyof typeof FrameType;
export type FrameTypeValue = (typeof FrameType)[FrameTypeName];

const typeNames = new Map<number, FrameTypeName>(
  Object.entries(FrameType).map(([name, value]) => [value, name as FrameTypeName]),
);

export function isFrameType(value: number): value is FrameTypeValue {
  return typeNames.has(value);
}

/** The type's name for logs and errors; unknown values are shown as numbers, not guessed. */
export function frameTypeName(value: number): string {
  return typeNames.get(value) ?? `UNKNOWN(${value})`;
}

export interface Frame {
  readonly type: FrameTypeValue;
  readonly flags: number;
  readonly requestId: bigint;
  /** May be a view into a buffer the decoder received: copy it to keep it beyond the frame. */
  readonly header: Buffer;
  /**
   * The body in one Buffer. A body the decoder received in several socket chunks is joined
   * on first access (one copy); hot paths read bodyParts instead.
   */
  readonly body: Buffer;
  /** The body as received: views of the decoder's chunks, in order; [] for an empty body. */
  readonly bodyParts: readonly Buffer[];
  readonly bodyLength: number;
}

/** Value of the frameLength field for a frame with this header and body size. */
export function frameLengthFor(headerBytes: number, bodyBytes: number): number {
  return FRAME_PREFIX_BYTES + headerBytes + bodyBytes;
}

/** Total bytes the frame occupies on the wire, frameLength field included. */
export function frameWireBytes(headerBytes: number, bodyBytes: number): number {
  return FRAME_LENGTH_FIELD_BYTES + frameLengthFor(headerBytes, bodyBytes);
}

const EMPTY = Buffer.alloc(0);

/**
 * Encodes one frame as [lengthField+prefix+header, ...body parts]. Body buffers are passed
 * through, not copied; empty parts are left out. Throws InvalidArgumentError on values the
 * grammar cannot carry.
 */
export function encodeFrame(
  type: FrameTypeValue,
  flags: number,
  requestId: bigint,
  header: Buffer,
  body: Buffer | readonly Buffer[] = EMPTY,
): Buffer[] {
  if (!isFrameType(type)) throw new InvalidArgumentError('frame.type', `unknown type ${type}`);
  if (!Number.isInteger(flags) || flags < 0 || flags > 0xff) {
    throw new InvalidArgumentError('frame.flags', `must be a u8, got ${flags}`);
  }
  if (typeof requestId !== 'bigint' || requestId < 0n || requestId > MAX_U64) {
    throw new InvalidArgumentError('frame.requestId', `must be a u64 bigint, got ${requestId}`);
  }
  if (header.length > MAX_HEADER_BYTES) {
    throw new InvalidArgumentError(
      'frame.header',
      `${header.length} bytes exceed the u16 headerLength (${MAX_HEADER_BYTES})`,
    );
  }
  const parts = Buffer.isBuffer(body) ? [body] : body;
  let bodyBytes = 0;
  for (const part of parts) bodyBytes += part.length;
  const length = frameLengthFor(header.length, bodyBytes);
  if (length > MAX_FRAME_LENGTH) {
    throw new InvalidArgumentError('frame.body', `frame of ${length} bytes exceeds the u32 length`);
  }
  const head = Buffer.allocUnsafe(FRAME_OVERHEAD_BYTES + header.length);
  head.writeUInt32BE(length, 0);
  head.writeUInt8(type, 4);
  head.writeUInt8(flags, 5);
  head.writeUInt16BE(header.length, 6);
  head.writeBigUInt64BE(requestId, 8);
  header.copy(head, FRAME_OVERHEAD_BYTES);
  const out: Buffer[] = [head];
  for (const part of parts) if (part.length > 0) out.push(part);
  return out;
}
