import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors.js';
import type { AppId, ShuffleId } from '../ids.js';
import { crc32 } from './crc.js';
import { FrameDecoder } from './decoder.js';
import { encodeFrame, FrameType } from './frame.js';
import {
  CHUNK_FLAG_NO_CRC,
  decodeChunk,
  decodeChunkFrame,
  decodeCloseStream,
  decodeFetchChunk,
  decodeOpenStream,
  decodeStreamHandle,
  encodeChunk,
  encodeChunkFrame,
  encodeCloseStream,
  encodeCloseStreamFrame,
  encodeFetchChunk,
  encodeFetchChunkFrame,
  encodeOpenStream,
  encodeOpenStreamFrame,
  encodeStreamHandle,
  encodeStreamHandleFrame,
} from './stream-messages.js';
import { WireProtocolError } from './wire-error.js';

const bytes = (hex: string): Buffer => Buffer.from(hex.replace(/\s+/g, ''), 'hex');
const frameOf = (parts: Buffer[]) =>
  new FrameDecoder({ maxFrameBytes: 1 << 16 }).push(Buffer.concat(parts))[0]!;

function wireError(run: () => unknown): WireProtocolError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(WireProtocolError);
    return err as WireProtocolError;
  }
  throw new Error('expected a WireProtocolError');
}

describe('OPEN_STREAM', () => {
  const MSG = {
    appId: 'a' as AppId,
    shuffleId: 5 as ShuffleId,
    partition: 300,
    epoch: 1,
    startChunk: 2,
  };
  // appIdLen 1 'a' | shuffleId 5 | partition 300 | epoch 1 | startChunk 2
  const HEX = '0001 61 00000005 0000012c 00000001 00000002';

  it('encodes and decodes golden bytes', () => {
    expect(encodeOpenStream(MSG)).toEqual(bytes(HEX));
    expect(decodeOpenStream(bytes(HEX))).toEqual(MSG);
    const frame = frameOf(encodeOpenStreamFrame(3n, MSG));
    expect(frame.type).toBe(3);
    expect(decodeOpenStream(frame.header)).toEqual(MSG);
  });

  it('refuses truncation, trailing bytes and bad ids', () => {
    expect(wireError(() => decodeOpenStream(bytes(HEX).subarray(0, 18))).field).toBe(
      'OPEN_STREAM.startChunk',
    );
    expect(wireError(() => decodeOpenStream(bytes(`${HEX} 00`))).field).toBe('OPEN_STREAM.end');
    expect(wireError(() => decodeOpenStream(bytes(`0001 2e ${HEX.slice(7)}`))).field).toBe(
      'OPEN_STREAM.appId',
    );
    expect(() => encodeOpenStream({ ...MSG, appId: '.' as AppId })).toThrow(InvalidArgumentError);
    expect(() => encodeOpenStream({ ...MSG, partition: -1 })).toThrow(InvalidArgumentError);
  });
});

describe('STREAM_HANDLE', () => {
  // fileLength past 4 GiB: a u64 on the wire, still exact as a number.
  const MSG = {
    streamId: 0xfedcba9876543210n,
    fileLength: 0x1_0000_0003,
    fileCrc32: 0xcbf43926,
    chunkLengths: [0xffff_ffff, 4],
  };
  // streamId | fileLength | fileCrc32 | chunkCount 2 | 0xffffffff | 4
  const HEX = 'fedcba9876543210 0000000100000003 cbf43926 00000002 ffffffff 00000004';

  it('encodes and decodes golden bytes', () => {
    expect(encodeStreamHandle(MSG)).toEqual(bytes(HEX));
    expect(decodeStreamHandle(bytes(HEX))).toEqual(MSG);
    expect(decodeStreamHandle(frameOf(encodeStreamHandleFrame(1n, MSG)).header)).toEqual(MSG);
  });

  it('encodes an empty file as zero chunks', () => {
    const empty = { streamId: 1n, fileLength: 0, fileCrc32: 0, chunkLengths: [] };
    expect(encodeStreamHandle(empty)).toEqual(
      bytes('0000000000000001 0000000000000000 00000000 00000000'),
    );
    expect(decodeStreamHandle(encodeStreamHandle(empty))).toEqual(empty);
  });

  it('refuses chunk lengths that do not add up to the file length', () => {
    const bad = bytes('0000000000000001 0000000000000009 00000000 00000001 00000008');
    expect(wireError(() => decodeStreamHandle(bad)).field).toBe('STREAM_HANDLE.chunkLengths');
    expect(() => encodeStreamHandle({ ...MSG, fileLength: 1 })).toThrow(InvalidArgumentError);
  });

  it('refuses a chunkCount that disagrees with the header and lengths past 2^53', () => {
    const short = bytes('0000000000000001 0000000000000008 00000000 00000002 00000008');
    expect(wireError(() => decodeStreamHandle(short)).field).toBe('STREAM_HANDLE.chunkCount');
    const huge = bytes('0000000000000001 0020000000000000 00000000 00000000');
    expect(wireError(() => decodeStreamHandle(huge)).field).toBe('STREAM_HANDLE.fileLength');
  });
});

describe('FETCH_CHUNK, CHUNK, CLOSE_STREAM', () => {
  it('encode and decode golden bytes', () => {
    expect(encodeFetchChunk({ streamId: 1n, chunkIndex: 7 })).toEqual(
      bytes('0000000000000001 00000007'),
    );
    expect(decodeFetchChunk(bytes('0000000000000001 00000007'))).toEqual({
      streamId: 1n,
      chunkIndex: 7,
    });
    const chunk = { streamId: 2n, chunkIndex: 0, crc32: 0xcbf43926 };
    expect(encodeChunk(chunk)).toEqual(bytes('0000000000000002 00000000 cbf43926'));
    expect(decodeChunk(bytes('0000000000000002 00000000 cbf43926'))).toEqual(chunk);
    const close = { streamId: 0xffff_ffff_ffff_ffffn };
    expect(encodeCloseStream(close)).toEqual(bytes('ffffffffffffffff'));
    expect(decodeCloseStream(bytes('ffffffffffffffff'))).toEqual(close);
  });

  it('encodes whole frames as golden bytes', () => {
    expect(Buffer.concat(encodeFetchChunkFrame(9n, { streamId: 1n, chunkIndex: 7 }))).toEqual(
      bytes('00000018 05 00 000c 0000000000000009 0000000000000001 00000007'),
    );
    expect(Buffer.concat(encodeCloseStreamFrame(9n, { streamId: 1n }))).toEqual(
      bytes('00000014 0a 00 0008 0000000000000009 0000000000000001'),
    );
    // Flags CHUNK_FLAG_NO_CRC, crc32 0: workers do not compute a chunk CRC.
    expect(
      Buffer.concat(
        encodeChunkFrame(3n, { streamId: 2n, chunkIndex: 0 }, Buffer.from('123456789')),
      ),
    ).toEqual(
      bytes(
        '00000025 06 01 0010 0000000000000003 0000000000000002 00000000 00000000 313233343536373839',
      ),
    );
  });

  it('sends a CHUNK without a CRC, flagged, and does not check one', () => {
    const body = Buffer.from('chunk bytes '.repeat(100));
    const frame = frameOf(encodeChunkFrame(3n, { streamId: 5n, chunkIndex: 4 }, body));
    expect(frame.flags & CHUNK_FLAG_NO_CRC).toBe(CHUNK_FLAG_NO_CRC);
    expect(decodeChunkFrame(frame)).toEqual({ streamId: 5n, chunkIndex: 4, crc32: 0 });
    expect(frame.body.equals(body)).toBe(true);
  });

  it('verifies a CHUNK body against its CRC when the frame has one (an older worker)', () => {
    const body = Buffer.from('chunk bytes '.repeat(100));
    const header = encodeChunk({ streamId: 5n, chunkIndex: 4, crc32: crc32(body) });
    const frame = frameOf(encodeFrame(FrameType.CHUNK, 0, 3n, header, body));
    expect(decodeChunkFrame(frame)).toMatchObject({ streamId: 5n, chunkIndex: 4 });
    expect(frame.body.equals(body)).toBe(true);
    frame.body[100] ^= 0x01;
    const err = wireError(() => decodeChunkFrame(frame));
    expect(err.status).toBe('CRC_MISMATCH');
    expect(err.retriable).toBe(true);
    expect(err.context).toMatchObject({ streamId: '5', chunkIndex: 4 });
  });

  it('refuses wrong header sizes', () => {
    expect(wireError(() => decodeFetchChunk(Buffer.alloc(11))).field).toBe(
      'FETCH_CHUNK.chunkIndex',
    );
    expect(wireError(() => decodeChunk(Buffer.alloc(17))).field).toBe('CHUNK.end');
    expect(wireError(() => decodeCloseStream(Buffer.alloc(7))).field).toBe('CLOSE_STREAM.streamId');
    expect(() => encodeCloseStream({ streamId: -1n })).toThrow(InvalidArgumentError);
  });
});
