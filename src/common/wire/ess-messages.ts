// Headers of the node-local ESS messages (docs/architecture.md#ess-mode): executors register the map output
// files they wrote; readers fetch one map's partition region in ranges. Big-endian; frame
// grammar in frame.ts.
//
//   REGISTER_OUTPUT = appIdLen:u16 appId:ASCII shuffleId:u32 mapId:u32 attemptId:u32
//   REGISTERED      = partitionCount:u32 dataLength:u64       (what the ESS found in the index)
//   FETCH_BLOCKS    = appIdLen:u16 appId:ASCII shuffleId:u32 mapId:u32 attemptId:u32
//                     partition:u32 offset:u64 maxLength:u32 priority:u8
//   BLOCKS          = partitionLength:u64 crc32:u32           body = the region's bytes
//                     [offset, offset + body length), body length <= maxLength
//   REMOVE_OUTPUTS  = appIdLen:u16 appId:ASCII shuffleId:u32  (ALL_SHUFFLES: all of the app's)
//   OUTPUTS_REMOVED = outputs:u32                             (map outputs deleted)
//
// Files live under the ESS's own directory, named by the ids (mapOutputBase in
// src/common/map-output.ts), so no message carries a path. A region holds whole blocks
// (block.ts); a range cut may split a block, the reader carries the partial block over to the
// next range. BLOCKS carries the CRC-32 of its body, checked on receipt. FETCH_BLOCKS carries
// the app's priority (1 highest .. 5), which the ESS's fetch throttling weighs it by.
//
// The ESS builds a BLOCKS answer in one buffer, read from disk after room for the frame's
// prefix and header, so it leaves in one socket write with no copy:
//
//   0        4    5     6          8           16                24      28
//   | length | 14 | 0 | 12 (u16) | requestId | partitionLength | crc32 | body ... |
import type { AppId, ShuffleId } from '../ids.js';
import { crc32 } from './crc.js';
import { InvalidArgumentError } from '../errors.js';
import {
  type Frame,
  FRAME_OVERHEAD_BYTES,
  FrameType,
  encodeFrame,
  frameLengthFor,
} from './frame.js';
import { HeaderReader, HeaderWriter, appIdFieldBytes } from './header-codec.js';
import { WireProtocolError } from './wire-error.js';

export interface MapOutputRef {
  readonly appId: AppId;
  readonly shuffleId: ShuffleId;
  readonly mapId: number;
  readonly attemptId: number;
}

export interface Registered {
  readonly partitionCount: number;
  readonly dataLength: number;
}

export interface FetchBlocks extends MapOutputRef {
  readonly partition: number;
  readonly offset: number;
  readonly maxLength: number;
  /** The app's priority, 1 (highest) .. 5. */
  readonly priority: number;
}

export const MIN_PRIORITY = 1;
export const MAX_PRIORITY = 5;

export interface BlocksHeader {
  /** Bytes of the whole partition region in the map's file. */
  readonly partitionLength: number;
  readonly crc32: number;
}

function writeRef(w: HeaderWriter, m: MapOutputRef): HeaderWriter {
  return w
    .appId(m.appId)
    .shuffleId(m.shuffleId)
    .u32('mapId', m.mapId)
    .u32('attemptId', m.attemptId);
}

function readRef(r: HeaderReader): MapOutputRef {
  const appId = r.appId();
  const shuffleId = r.shuffleId();
  const mapId = r.u32('mapId');
  const attemptId = r.u32('attemptId');
  return { appId, shuffleId, mapId, attemptId };
}

export function encodeRegisterOutput(m: MapOutputRef): Buffer {
  return writeRef(new HeaderWriter('REGISTER_OUTPUT', appIdFieldBytes(m.appId) + 12), m).finish();
}

export function decodeRegisterOutput(header: Buffer): MapOutputRef {
  const r = new HeaderReader('REGISTER_OUTPUT', header);
  const ref = readRef(r);
  r.end();
  return ref;
}

export function encodeRegistered(m: Registered): Buffer {
  return new HeaderWriter('REGISTERED', 12)
    .u32('partitionCount', m.partitionCount)
    .u64Number('dataLength', m.dataLength)
    .finish();
}

export function decodeRegistered(header: Buffer): Registered {
  const r = new HeaderReader('REGISTERED', header);
  const partitionCount = r.u32('partitionCount');
  const dataLength = r.u64Number('dataLength');
  r.end();
  return { partitionCount, dataLength };
}

export function encodeFetchBlocks(m: FetchBlocks): Buffer {
  if (!(m.priority >= MIN_PRIORITY && m.priority <= MAX_PRIORITY))
    throw new InvalidArgumentError('FETCH_BLOCKS.priority', `must be 1..5, got ${m.priority}`);
  return writeRef(new HeaderWriter('FETCH_BLOCKS', appIdFieldBytes(m.appId) + 29), m)
    .u32('partition', m.partition)
    .u64Number('offset', m.offset)
    .u32('maxLength', m.maxLength)
    .u8('priority', m.priority)
    .finish();
}

/** App ids seen in FETCH_BLOCKS, already validated (ids.ts): the hot path checks each once. */
const knownAppIds = new Map<string, AppId>();
const MAX_KNOWN_APP_IDS = 1024;

export function decodeFetchBlocks(header: Buffer): FetchBlocks {
  // Fast path for a well-formed header; anything else goes through HeaderReader for its error.
  const idLength = header.length >= 2 ? header.readUInt16BE(0) : -1;
  const at = 2 + idLength;
  if (header.length === at + 29) {
    const raw = header.toString('latin1', 2, at);
    const appId = knownAppIds.get(raw);
    const offset = header.readUInt32BE(at + 16) * 2 ** 32 + header.readUInt32BE(at + 20);
    const shuffleId = header.readUInt32BE(at);
    const priority = header[at + 28]!;
    if (
      appId !== undefined &&
      shuffleId <= 0x7fff_ffff &&
      offset <= Number.MAX_SAFE_INTEGER &&
      priority >= MIN_PRIORITY &&
      priority <= MAX_PRIORITY
    )
      return {
        appId,
        shuffleId: shuffleId as ShuffleId,
        mapId: header.readUInt32BE(at + 4),
        attemptId: header.readUInt32BE(at + 8),
        partition: header.readUInt32BE(at + 12),
        offset,
        maxLength: header.readUInt32BE(at + 24),
        priority,
      };
  }
  const r = new HeaderReader('FETCH_BLOCKS', header);
  const ref = readRef(r);
  const partition = r.u32('partition');
  const offset = r.u64Number('offset');
  const maxLength = r.u32('maxLength');
  const priority = r.u8('priority');
  r.end();
  if (priority < MIN_PRIORITY || priority > MAX_PRIORITY)
    throw r.malformed('priority', `must be 1..5, got ${priority}`);
  if (knownAppIds.size >= MAX_KNOWN_APP_IDS) knownAppIds.clear();
  knownAppIds.set(ref.appId, ref.appId);
  return { ...ref, partition, offset, maxLength, priority };
}

/** REMOVE_OUTPUTS.shuffleId meaning every shuffle of the app (the app has ended). */
export const ALL_SHUFFLES = 0xffff_ffff;

export interface RemoveOutputs {
  readonly appId: AppId;
  /** A ShuffleId, or ALL_SHUFFLES. */
  readonly shuffleId: number;
}

export function encodeRemoveOutputsFrame(requestId: bigint, m: RemoveOutputs): Buffer[] {
  const w = new HeaderWriter('REMOVE_OUTPUTS', appIdFieldBytes(m.appId) + 4).appId(m.appId);
  const header = (
    m.shuffleId === ALL_SHUFFLES ? w.u32('shuffleId', ALL_SHUFFLES) : w.shuffleId(m.shuffleId)
  ).finish();
  return encodeFrame(FrameType.REMOVE_OUTPUTS, 0, requestId, header);
}

export function decodeRemoveOutputs(header: Buffer): RemoveOutputs {
  const r = new HeaderReader('REMOVE_OUTPUTS', header);
  const appId = r.appId();
  const raw = r.u32('shuffleId');
  r.end();
  if (raw !== ALL_SHUFFLES && raw > 0x7fff_ffff)
    throw r.malformed('shuffleId', `${raw} is neither a shuffle id nor ALL_SHUFFLES`);
  return { appId, shuffleId: raw };
}

export function encodeOutputsRemovedFrame(requestId: bigint, outputs: number): Buffer[] {
  const header = new HeaderWriter('OUTPUTS_REMOVED', 4).u32('outputs', outputs).finish();
  return encodeFrame(FrameType.OUTPUTS_REMOVED, 0, requestId, header);
}

export function decodeOutputsRemoved(header: Buffer): number {
  const r = new HeaderReader('OUTPUTS_REMOVED', header);
  const outputs = r.u32('outputs');
  r.end();
  return outputs;
}

export function encodeRegisterOutputFrame(requestId: bigint, m: MapOutputRef): Buffer[] {
  return encodeFrame(FrameType.REGISTER_OUTPUT, 0, requestId, encodeRegisterOutput(m));
}

export function encodeRegisteredFrame(requestId: bigint, m: Registered): Buffer[] {
  return encodeFrame(FrameType.REGISTERED, 0, requestId, encodeRegistered(m));
}

export function encodeFetchBlocksFrame(requestId: bigint, m: FetchBlocks): Buffer[] {
  return encodeFrame(FrameType.FETCH_BLOCKS, 0, requestId, encodeFetchBlocks(m));
}

/** Bytes before the body in a BLOCKS frame built in place (the layout at the top). */
export const BLOCKS_FRAME_HEAD_BYTES = FRAME_OVERHEAD_BYTES + 12;

/**
 * Completes a BLOCKS frame in `frame`, whose body (everything after BLOCKS_FRAME_HEAD_BYTES)
 * is already in place: writes the prefix and header, with the body's CRC. Returns `frame`.
 */
export function finishBlocksFrame(
  frame: Buffer,
  requestId: bigint,
  partitionLength: number,
): Buffer {
  const body = frame.subarray(BLOCKS_FRAME_HEAD_BYTES);
  frame.writeUInt32BE(frameLengthFor(12, body.length), 0);
  frame[4] = FrameType.BLOCKS;
  frame[5] = 0;
  frame.writeUInt16BE(12, 6);
  frame.writeBigUInt64BE(requestId, 8);
  frame.writeUInt32BE(Math.floor(partitionLength / 2 ** 32), 16);
  frame.writeUInt32BE(partitionLength >>> 0, 20);
  frame.writeUInt32BE(crc32(body), 24);
  return frame;
}

/** A BLOCKS frame; the body's CRC is computed here, the body is sent without a copy. */
export function encodeBlocksFrame(
  requestId: bigint,
  partitionLength: number,
  body: Buffer,
): Buffer[] {
  const header = new HeaderWriter('BLOCKS', 12)
    .u64Number('partitionLength', partitionLength)
    .u32('crc32', crc32(body))
    .finish();
  return encodeFrame(FrameType.BLOCKS, 0, requestId, header, body);
}

/** Decodes a BLOCKS frame and checks its body against the CRC (CRC_MISMATCH otherwise). */
export function decodeBlocksFrame(frame: Frame): BlocksHeader {
  const r = new HeaderReader('BLOCKS', frame.header);
  const partitionLength = r.u64Number('partitionLength');
  const crc = r.u32('crc32');
  r.end();
  if (crc32(frame.body) !== crc)
    throw new WireProtocolError('CRC_MISMATCH', `BLOCKS body does not match its CRC`, {
      field: 'BLOCKS.crc32',
    });
  return { partitionLength, crc32: crc };
}
