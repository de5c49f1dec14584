import { describe, expect, it } from 'vitest';
import { SluiceError } from '../errors.js';
import {
  FRAME_OVERHEAD_BYTES,
  FRAME_PREFIX_BYTES,
  FrameType,
  type FrameTypeValue,
  encodeFrame,
  frameLengthFor,
  frameTypeName,
  frameWireBytes,
  isFrameType,
} from './frame.js';

const hex = (parts: Buffer[]): string => Buffer.concat(parts).toString('hex');

describe('frame grammar', () => {
  // Golden pairs: these numbers are on the wire (docs/protocol.md). Renumbering breaks older peers.
  it('pins every frame type to its value', () => {
    expect({ ...FrameType }).toEqual({
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
    });
    expect(isFrameType(0)).toBe(false);
    expect(isFrameType(21)).toBe(false);
    expect(frameTypeName(6)).toBe('CHUNK');
    expect(frameTypeName(200)).toBe('UNKNOWN(200)');
  });

  it('encodes the prefix as golden bytes', () => {
    const parts = encodeFrame(
      FrameType.PUSH_ACK,
      0x5a,
      0x0102030405060708n,
      Buffer.from('abc'),
      Buffer.from('xy'),
    );
    // frameLength 17 = 12 + 3 + 2 | type 2 | flags 5a | headerLength 3 | requestId | 'abc' | 'xy'
    expect(hex(parts)).toBe(
      '00000011' + '02' + '5a' + '0003' + '0102030405060708' + '616263' + '7879',
    );
  });

  it('encodes the largest requestId and an empty header and body', () => {
    const parts = encodeFrame(FrameType.PING, 0, 0xffff_ffff_ffff_ffffn, Buffer.alloc(0));
    expect(hex(parts)).toBe('0000000c' + '08' + '00' + '0000' + 'ffffffffffffffff');
    expect(parts).toHaveLength(1);
  });

  it('passes body buffers through without copying them', () => {
    const a = Buffer.from('first');
    const b = Buffer.from('second');
    const parts = encodeFrame(FrameType.PUSH, 0, 1n, Buffer.from('h'), [a, Buffer.alloc(0), b]);
    expect(parts).toHaveLength(3);
    expect(parts[1]).toBe(a);
    expect(parts[2]).toBe(b);
    expect(parts[0]!.readUInt32BE(0)).toBe(FRAME_PREFIX_BYTES + 1 + a.length + b.length);
    expect(parts[0]!.length).toBe(FRAME_OVERHEAD_BYTES + 1);
  });

  it('computes frame lengths', () => {
    expect(frameLengthFor(3, 2)).toBe(17);
    expect(frameWireBytes(3, 2)).toBe(21);
    expect(frameWireBytes(0, 0)).toBe(FRAME_OVERHEAD_BYTES);
  });

  it('refuses values the grammar cannot carry, naming the field', () => {
    const empty = Buffer.alloc(0);
    const cases: [() => unknown, string][] = [
      [() => encodeFrame(21 as FrameTypeValue, 0, 0n, empty), 'frame.type'],
      [() => encodeFrame(FrameType.PING, 256, 0n, empty), 'frame.flags'],
      [() => encodeFrame(FrameType.PING, 0, -1n, empty), 'frame.requestId'],
      [() => encodeFrame(FrameType.PING, 0, 1n << 64n, empty), 'frame.requestId'],
      [() => encodeFrame(FrameType.PING, 0, 0n, Buffer.alloc(0x10000)), 'frame.header'],
    ];
    for (const [run, field] of cases) {
      expect(run).toThrow(SluiceError);
      try {
        run();
      } catch (err) {
        expect((err as SluiceError).code).toBe('SLUICE_ERR_INVALID_ARGUMENT');
        expect((err as SluiceError).context['field']).toBe(field);
      }
    }
  });

  it('refuses a frame whose length does not fit the u32 field', () => {
    // A fake 4 GiB body: only its length is read, so no memory is used.
    const huge = { length: 0xffff_fff4 } as Buffer;
    expect(() => encodeFrame(FrameType.PUSH, 0, 0n, Buffer.from('h'), [huge])).toThrow(
      /exceeds the u32 length/,
    );
  });
});
