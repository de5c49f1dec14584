// Headers of the push-path and connection messages (docs/protocol.md); frame grammar in frame.ts,
// read-path messages in stream-messages.ts. Big-endian; these bytes are the frame's header,
// the frame's body is raw.
//
//   PUSH       = appIdLen:u16 appId:ASCII shuffleId:u32 mapId:u32 attemptId:u32 epoch:u32
//                groupId:u32 sliceCount:u32 slice*sliceCount
//   slice      = partitionId:u32 bodyOffset:u32 length:u32          (12 bytes)
//                body = concatenated blocks (block.ts); slice i is body[bodyOffset, +length)
//   PUSH_ACK   = count:u32 (partitionId:u32 status:u8)*count          status: status-codes.ts
//   ERROR      = status:u16 messageLength:u16 message:UTF-8          message <= 1024 bytes
//   PING, PONG = empty header; the body is echoed by the PONG
//
// Slices are non-empty, in increasing bodyOffset order, non-overlapping, inside the body and
// name distinct partitions, so the worker can append each slice to its partition without
// reordering or double counting. The u16 headerLength caps a PUSH at ~5,400 slices (12 bytes
// each), below MAX_PUSH_SLICES: writers with more partitions split them over several frames.
// Status values are kept as numbers: a newer peer may send one this build does not know
// (status-codes.ts is append-only), and wireStatus() reports that instead of guessing.
import { InvalidArgumentError } from '../errors.js';
import type { AppId, ShuffleId } from '../ids.js';
import { type Frame, FrameType, encodeFrame } from './frame.js';
import { HeaderReader, HeaderWriter, appIdFieldBytes } from './header-codec.js';
import { sliceParts } from './parts.js';

export const MAX_PUSH_SLICES = 100_000;
export const MAX_ERROR_MESSAGE_BYTES = 1024;
const PUSH_FIXED_BYTES = 6 * 4; // shuffleId .. sliceCount, after the appId field
const PUSH_SLICE_BYTES = 12;
const PUSH_ACK_ENTRY_BYTES = 5;

export interface PushSlice {
  readonly partitionId: number;
  readonly bodyOffset: number;
  readonly length: number;
}

export interface PushHeader {
  readonly appId: AppId;
  readonly shuffleId: ShuffleId;
  readonly mapId: number;
  readonly attemptId: number;
  readonly epoch: number;
  readonly groupId: number;
  readonly slices: readonly PushSlice[];
}

export interface PartitionStatus {
  readonly partitionId: number;
  /** Wire status value (WireStatusCode in status-codes.ts). */
  readonly status: number;
}

export interface PushAck {
  readonly statuses: readonly PartitionStatus[];
}

export interface ErrorMessage {
  /** Wire status value (WireStatusCode in status-codes.ts). */
  readonly status: number;
  readonly message: string;
}

interface Problem {
  readonly field: string;
  readonly message: string;
}

/** The first rule the slices break (see the header comment), or undefined. */
function sliceProblem(slices: readonly PushSlice[], bodyLength: number): Problem | undefined {
  if (slices.length === 0 || slices.length > MAX_PUSH_SLICES) {
    return {
      field: 'sliceCount',
      message: `must be in [1, ${MAX_PUSH_SLICES}], got ${slices.length}`,
    };
  }
  const seen = new Set<number>();
  let end = 0;
  for (const [i, s] of slices.entries()) {
    const field = `slices[${i}]`;
    if (s.length === 0) return { field, message: 'is empty' };
    if (s.bodyOffset < end) {
      return {
        field,
        message: `bodyOffset ${s.bodyOffset} overlaps or precedes the previous slice (ends at ${end})`,
      };
    }
    end = s.bodyOffset + s.length;
    if (end > bodyLength) {
      return { field, message: `ends at ${end}, past the ${bodyLength}-byte body` };
    }
    if (seen.has(s.partitionId)) {
      return { field, message: `partition ${s.partitionId} appears twice` };
    }
    seen.add(s.partitionId);
  }
  return undefined;
}

/** PUSH header for a body of `bodyLength` bytes (the slices are checked against it). */
export function encodePush(push: PushHeader, bodyLength: number): Buffer {
  const problem = sliceProblem(push.slices, bodyLength);
  if (problem) throw new InvalidArgumentError(`PUSH.${problem.field}`, problem.message);
  const size =
    appIdFieldBytes(push.appId) + PUSH_FIXED_BYTES + push.slices.length * PUSH_SLICE_BYTES;
  const w = new HeaderWriter('PUSH', size)
    .appId(push.appId)
    .shuffleId(push.shuffleId)
    .u32('mapId', push.mapId)
    .u32('attemptId', push.attemptId)
    .u32('epoch', push.epoch)
    .u32('groupId', push.groupId)
    .u32('sliceCount', push.slices.length);
  for (const s of push.slices) {
    w.u32('partitionId', s.partitionId).u32('bodyOffset', s.bodyOffset).u32('length', s.length);
  }
  return w.finish();
}

/** Decodes and validates a PUSH header against the frame body's length. */
export function decodePush(header: Buffer, bodyLength: number): PushHeader {
  const r = new HeaderReader('PUSH', header);
  const appId = r.appId();
  const shuffleId = r.shuffleId();
  const mapId = r.u32('mapId');
  const attemptId = r.u32('attemptId');
  const epoch = r.u32('epoch');
  const groupId = r.u32('groupId');
  const count = r.u32('sliceCount');
  if (count * PUSH_SLICE_BYTES !== r.remaining) {
    throw r.malformed(
      'sliceCount',
      `${count} slices need ${count * PUSH_SLICE_BYTES} bytes, ${r.remaining} follow`,
    );
  }
  const slices: PushSlice[] = [];
  for (let i = 0; i < count; i++) {
    const partitionId = r.u32(`slices[${i}].partitionId`);
    const bodyOffset = r.u32(`slices[${i}].bodyOffset`);
    slices.push({ partitionId, bodyOffset, length: r.u32(`slices[${i}].length`) });
  }
  r.end();
  const problem = sliceProblem(slices, bodyLength);
  if (problem) throw r.malformed(problem.field, problem.message);
  return { appId, shuffleId, mapId, attemptId, epoch, groupId, slices };
}

/** A PUSH frame; body parts (e.g. from writeBlock) are sent as they are, not copied. */
export function encodePushFrame(
  requestId: bigint,
  push: PushHeader,
  body: Buffer | readonly Buffer[],
): Buffer[] {
  const parts = Buffer.isBuffer(body) ? [body] : body;
  const bodyLength = parts.reduce((sum, part) => sum + part.length, 0);
  return encodeFrame(FrameType.PUSH, 0, requestId, encodePush(push, bodyLength), parts);
}

/** One slice of a received PUSH: the partition's blocks, views of the frame body's parts. */
export interface PushPart {
  readonly partitionId: number;
  readonly data: readonly Buffer[];
}

/** Decodes a PUSH frame and returns each slice's bytes as views of the body (no copy). */
export function decodePushFrame(frame: Frame): { push: PushHeader; parts: PushPart[] } {
  const push = decodePush(frame.header, frame.bodyLength);
  const parts = push.slices.map((s) => ({
    partitionId: s.partitionId,
    data: sliceParts(frame.bodyParts, s.bodyOffset, s.bodyOffset + s.length),
  }));
  return { push, parts };
}

export function encodePushAck(ack: PushAck): Buffer {
  const w = new HeaderWriter('PUSH_ACK', 4 + ack.statuses.length * PUSH_ACK_ENTRY_BYTES);
  w.u32('count', ack.statuses.length);
  const seen = new Set<number>();
  for (const [i, s] of ack.statuses.entries()) {
    if (seen.has(s.partitionId)) {
      throw new InvalidArgumentError(
        `PUSH_ACK.statuses[${i}]`,
        `partition ${s.partitionId} appears twice`,
      );
    }
    seen.add(s.partitionId);
    w.u32('partitionId', s.partitionId).u8('status', s.status);
  }
  return w.finish();
}

export function decodePushAck(header: Buffer): PushAck {
  const r = new HeaderReader('PUSH_ACK', header);
  const count = r.u32('count');
  if (count * PUSH_ACK_ENTRY_BYTES !== r.remaining) {
    throw r.malformed(
      'count',
      `${count} entries need ${count * PUSH_ACK_ENTRY_BYTES} bytes, ${r.remaining} follow`,
    );
  }
  const seen = new Set<number>();
  const statuses: PartitionStatus[] = [];
  for (let i = 0; i < count; i++) {
    const partitionId = r.u32(`statuses[${i}].partitionId`);
    if (seen.has(partitionId))
      throw r.malformed(`statuses[${i}]`, `partition ${partitionId} appears twice`);
    seen.add(partitionId);
    statuses.push({ partitionId, status: r.u8(`statuses[${i}].status`) });
  }
  r.end();
  return { statuses };
}

export function encodePushAckFrame(requestId: bigint, ack: PushAck): Buffer[] {
  return encodeFrame(FrameType.PUSH_ACK, 0, requestId, encodePushAck(ack));
}

/** UTF-8 bytes of `text`, cut to at most `max` bytes without splitting a character. */
function utf8Prefix(text: string, max: number): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= max) return bytes;
  let cut = max;
  while (cut > 0 && (bytes[cut]! & 0xc0) === 0x80) cut--; // back off continuation bytes
  return bytes.subarray(0, cut);
}

/** ERROR header; the message is truncated to MAX_ERROR_MESSAGE_BYTES of UTF-8. */
export function encodeError(error: ErrorMessage): Buffer {
  const text = utf8Prefix(String(error.message), MAX_ERROR_MESSAGE_BYTES);
  return new HeaderWriter('ERROR', 4 + text.length)
    .u16('status', error.status)
    .u16('messageLength', text.length)
    .bytes(text)
    .finish();
}

export function decodeError(header: Buffer): ErrorMessage {
  const r = new HeaderReader('ERROR', header);
  const status = r.u16('status');
  const length = r.u16('messageLength');
  if (length > MAX_ERROR_MESSAGE_BYTES) {
    throw r.malformed('messageLength', `${length} exceeds ${MAX_ERROR_MESSAGE_BYTES}`);
  }
  const message = r.bytes('message', length).toString('utf8');
  r.end();
  return { status, message };
}

export function encodeErrorFrame(requestId: bigint, error: ErrorMessage): Buffer[] {
  return encodeFrame(FrameType.ERROR, 0, requestId, encodeError(error));
}

const EMPTY = Buffer.alloc(0);

function decodeEmpty(message: string, header: Buffer): void {
  new HeaderReader(message, header).end();
}

/** PING and PONG have empty headers; the PONG echoes the PING's body. */
export function encodePing(): Buffer {
  return EMPTY;
}

export function decodePing(header: Buffer): void {
  decodeEmpty('PING', header);
}

export function encodePong(): Buffer {
  return EMPTY;
}

export function decodePong(header: Buffer): void {
  decodeEmpty('PONG', header);
}

export function encodePingFrame(requestId: bigint, body: Buffer = EMPTY): Buffer[] {
  return encodeFrame(FrameType.PING, 0, requestId, EMPTY, body);
}

export function encodePongFrame(requestId: bigint, body: Buffer = EMPTY): Buffer[] {
  return encodeFrame(FrameType.PONG, 0, requestId, EMPTY, body);
}
