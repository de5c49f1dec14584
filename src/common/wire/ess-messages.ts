// Headers of the node-local ESS messages (docs/architecture.md#ess-mode): executors register the map output
// files they wrote; readers fetch one map's partition region in ranges. Big-endian; frame
// grammar in frame.ts.
//
//   REGISTER_OUTPUT = appIdLen:u16 appId:ASCII shuffleId:u32 mapId:u32 attemptId:u32
//   REGISTERED      = partitionCount:u32 dataLength:u64       (what the ESS found in the index)
//   FETCH_BLOCKS    = appIdLen:u16 appId:ASCII shuffleId:u32 mapId:u32 attemptId:u32
//                     partition:u32 offset:u64 maxLength:u32
//   BLOCKS          = partitionLength:u64 crc32:u32           body = the region's bytes
//                     [offset, offset + body length), body length <= maxLength
//
// Files live under the ESS's own directory, named by the ids (mapOutputBase in
// src/common/map-output.ts), so no message carries a path. A region holds whole blocks
// (block.ts); a range cut may split a block, the reader joins ranges. BLOCKS carries the
// CRC-32 of its body, checked on receipt.
import type { AppId, ShuffleId } from '../ids.js';
import { crc32 } from './crc.js';
import { type Frame, FrameType, encodeFrame } from './frame.js';
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
}

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
  return writeRef(new HeaderWriter('FETCH_BLOCKS', appIdFieldBytes(m.appId) + 28), m)
    .u32('partition', m.partition)
    .u64Number('offset', m.offset)
    .u32('maxLength', m.maxLength)
    .finish();
}

export function decodeFetchBlocks(header: Buffer): FetchBlocks {
  const r = new HeaderReader('FETCH_BLOCKS', header);
  const ref = readRef(r);
  const partition = r.u32('partition');
  const offset = r.u64Number('offset');
  const maxLength = r.u32('maxLength');
  r.end();
  return { ...ref, partition, offset, maxLength };
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
