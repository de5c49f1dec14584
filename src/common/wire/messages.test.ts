import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors.js';
import { type AppId, type ShuffleId } from '../ids.js';
import { WireStatusCode } from '../status-codes.js';
import { FrameDecoder } from './decoder.js';
import {
  type PushHeader,
  decodeError,
  decodePing,
  decodePong,
  decodePush,
  decodePushAck,
  decodePushFrame,
  encodeError,
  encodeErrorFrame,
  encodePing,
  encodePingFrame,
  encodePong,
  encodePongFrame,
  encodePush,
  encodePushAck,
  encodePushAckFrame,
  encodePushFrame,
} from './messages.js';
import { WireProtocolError } from './wire-error.js';

const bytes = (hex: string): Buffer => Buffer.from(hex.replace(/\s+/g, ''), 'hex');

const PUSH: PushHeader = {
  appId: 'app-1' as AppId,
  shuffleId: 7 as ShuffleId,
  mapId: 0x102,
  attemptId: 3,
  epoch: 2,
  groupId: 9,
  slices: [
    { partitionId: 4, bodyOffset: 0, length: 10 },
    { partitionId: 1, bodyOffset: 10, length: 6 },
  ],
};
// appIdLen 5 'app-1' | shuffleId 7 | mapId 0x102 | attemptId 3 | epoch 2 | groupId 9 |
// sliceCount 2 | (4, 0, 10) | (1, 10, 6)
const PUSH_HEX = `0005 6170702d31 00000007 00000102 00000003 00000002 00000009 00000002
  00000004 00000000 0000000a   00000001 0000000a 00000006`;

function wireError(run: () => unknown): WireProtocolError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(WireProtocolError);
    return err as WireProtocolError;
  }
  throw new Error('expected a WireProtocolError');
}

describe('PUSH', () => {
  it('encodes and decodes golden bytes', () => {
    expect(encodePush(PUSH, 16).toString('hex')).toBe(bytes(PUSH_HEX).toString('hex'));
    expect(decodePush(bytes(PUSH_HEX), 16)).toEqual(PUSH);
  });

  it('round-trips a frame through the decoder and slices the body without copying', () => {
    const body = [Buffer.from('0123456789'), Buffer.from('abcdef')];
    const [frame] = new FrameDecoder({ maxFrameBytes: 4096 }).push(
      Buffer.concat(encodePushFrame(42n, PUSH, body)),
    );
    const { push, parts } = decodePushFrame(frame!);
    expect(frame!.requestId).toBe(42n);
    expect(push).toEqual(PUSH);
    expect(parts.map((p) => [p.partitionId, Buffer.concat(p.data).toString()])).toEqual([
      [4, '0123456789'],
      [1, 'abcdef'],
    ]);
    expect(parts[0]!.data[0]!.buffer).toBe(frame!.body.buffer);
  });

  it('slices a body that arrived in many socket chunks into views of those chunks', () => {
    const wire = Buffer.concat(
      encodePushFrame(7n, PUSH, [Buffer.from('0123456789'), Buffer.from('abcdef')]),
    );
    const decoder = new FrameDecoder({ maxFrameBytes: 4096 });
    const chunks: Buffer[] = [];
    const frames = [];
    for (let at = 0; at < wire.length; at += 5) {
      const chunk = Buffer.from(wire.subarray(at, at + 5)); // own memory, as a socket read
      chunks.push(chunk);
      frames.push(...decoder.push(chunk));
    }
    expect(frames).toHaveLength(1);
    const { parts } = decodePushFrame(frames[0]!);
    expect(parts.map((p) => [p.partitionId, Buffer.concat(p.data).toString()])).toEqual([
      [4, '0123456789'],
      [1, 'abcdef'],
    ]);
    const owners = new Set(chunks.map((c) => c.buffer));
    for (const p of parts) {
      expect(p.data.length).toBeGreaterThan(1); // straddles chunks: several views, no join
      for (const d of p.data) expect(owners.has(d.buffer)).toBe(true);
    }
    expect(frames[0]!.bodyLength).toBe(16);
    expect(frames[0]!.body.toString()).toBe('0123456789abcdef');
  });

  it('refuses slices that break the layout rules, naming the slice', () => {
    const withSlices = (slices: PushHeader['slices']) => ({ ...PUSH, slices });
    const cases: [PushHeader['slices'], number, string][] = [
      [[], 16, 'PUSH.sliceCount'],
      [[{ partitionId: 1, bodyOffset: 0, length: 0 }], 16, 'PUSH.slices[0]'],
      [[{ partitionId: 1, bodyOffset: 8, length: 9 }], 16, 'PUSH.slices[0]'],
      [
        [
          { partitionId: 1, bodyOffset: 0, length: 8 },
          { partitionId: 2, bodyOffset: 7, length: 2 },
        ],
        16,
        'PUSH.slices[1]',
      ],
      [
        [
          { partitionId: 1, bodyOffset: 8, length: 2 },
          { partitionId: 2, bodyOffset: 0, length: 2 },
        ],
        16,
        'PUSH.slices[1]',
      ],
      [
        [
          { partitionId: 3, bodyOffset: 0, length: 2 },
          { partitionId: 3, bodyOffset: 2, length: 2 },
        ],
        16,
        'PUSH.slices[1]',
      ],
    ];
    for (const [slices, bodyLength, field] of cases) {
      // Encoder: the caller's bug.
      expect(() => encodePush(withSlices(slices), bodyLength)).toThrow(InvalidArgumentError);
      // Decoder: the peer's; build the header by hand with a valid body length, then shrink it.
      const valid = encodePush(withSlices([{ partitionId: 0, bodyOffset: 0, length: 1 }]), 1);
      const header = Buffer.concat([
        valid.subarray(0, valid.length - 16),
        u32(slices.length),
        ...slices.map((s) => Buffer.concat([u32(s.partitionId), u32(s.bodyOffset), u32(s.length)])),
      ]);
      const err = wireError(() => decodePush(header, bodyLength));
      expect(err.status).toBe('MALFORMED_FRAME');
      expect(err.field).toBe(field);
    }
  });

  it('refuses bad app and shuffle ids on both sides', () => {
    for (const appId of ['', '..', 'a/b', 'x'.repeat(129), 'é']) {
      expect(() => encodePush({ ...PUSH, appId: appId as AppId }, 16)).toThrow(
        InvalidArgumentError,
      );
      const name = Buffer.from(appId, 'utf8');
      const header = Buffer.concat([u16(name.length), name, bytes(PUSH_HEX).subarray(7)]);
      expect(wireError(() => decodePush(header, 16)).field).toBe('PUSH.appId');
    }
    const big = Buffer.from(bytes(PUSH_HEX));
    big.writeUInt32BE(0x8000_0000, 7);
    expect(wireError(() => decodePush(big, 16)).field).toBe('PUSH.shuffleId');
  });

  it('refuses truncated and over-long headers', () => {
    const header = bytes(PUSH_HEX);
    expect(wireError(() => decodePush(header.subarray(0, header.length - 1), 16)).field).toBe(
      'PUSH.sliceCount',
    );
    expect(wireError(() => decodePush(header.subarray(0, 9), 16)).field).toBe('PUSH.shuffleId');
    expect(wireError(() => decodePush(Buffer.concat([header, Buffer.alloc(1)]), 16)).field).toBe(
      'PUSH.sliceCount',
    );
  });

  it('says when the slices do not fit one frame header', () => {
    const slices = Array.from({ length: 6000 }, (_, i) => ({
      partitionId: i,
      bodyOffset: i,
      length: 1,
    }));
    expect(() => encodePush({ ...PUSH, slices }, 6000)).toThrow(/exceeds the u16 headerLength/);
  });
});

describe('PUSH_ACK', () => {
  const ACK = {
    statuses: [
      { partitionId: 4, status: WireStatusCode.OK_CONGESTED },
      { partitionId: 1, status: WireStatusCode.HARD_SPLIT },
    ],
  };
  // count 2 | (4, 1) | (1, 3)
  const ACK_HEX = '00000002 00000004 01 00000001 03';

  it('encodes and decodes golden bytes', () => {
    expect(encodePushAck(ACK)).toEqual(bytes(ACK_HEX));
    expect(decodePushAck(bytes(ACK_HEX))).toEqual(ACK);
    expect(Buffer.concat(encodePushAckFrame(5n, ACK))).toEqual(
      bytes(`0000001a 02 00 000e 0000000000000005 ${ACK_HEX}`),
    );
  });

  it('keeps status values this build does not know (a newer peer may send them)', () => {
    expect(decodePushAck(bytes('00000001 00000000 c8')).statuses[0]!.status).toBe(200);
  });

  it('refuses count mismatches and duplicate partitions', () => {
    expect(wireError(() => decodePushAck(bytes('00000003 00000004 01'))).field).toBe(
      'PUSH_ACK.count',
    );
    expect(wireError(() => decodePushAck(bytes('000000'))).field).toBe('PUSH_ACK.count');
    expect(wireError(() => decodePushAck(bytes('00000002 00000004 01 00000004 00'))).field).toBe(
      'PUSH_ACK.statuses[1]',
    );
    expect(() => encodePushAck({ statuses: [ACK.statuses[0]!, ACK.statuses[0]!] })).toThrow(
      InvalidArgumentError,
    );
    expect(() => encodePushAck({ statuses: [{ partitionId: 1, status: 256 }] })).toThrow(
      InvalidArgumentError,
    );
  });
});

describe('ERROR', () => {
  it('encodes and decodes golden bytes', () => {
    const msg = { status: WireStatusCode.FRAME_TOO_LARGE, message: 'too big' };
    // status 10 | messageLength 7 | 'too big'
    const hex = '000a 0007 746f6f20626967';
    expect(encodeError(msg)).toEqual(bytes(hex));
    expect(decodeError(bytes(hex))).toEqual(msg);
    expect(Buffer.concat(encodeErrorFrame(0n, msg))).toEqual(
      bytes(`00000017 07 00 000b 0000000000000000 ${hex}`),
    );
  });

  it('truncates long messages to 1024 bytes without splitting a character', () => {
    const ascii = decodeError(encodeError({ status: 14, message: 'x'.repeat(5000) }));
    expect(ascii.message).toBe('x'.repeat(1024));
    // 'é' is 2 bytes: 1023 + 2 would pass 1024, so the last one is dropped whole.
    const accented = encodeError({ status: 14, message: `${'x'.repeat(1023)}é` });
    expect(accented.readUInt16BE(2)).toBe(1023);
    expect(decodeError(accented).message).toBe('x'.repeat(1023));
  });

  it('refuses an over-long or inconsistent message length', () => {
    const long = Buffer.concat([bytes('0009 0401'), Buffer.alloc(1025, 0x61)]);
    expect(wireError(() => decodeError(long)).field).toBe('ERROR.messageLength');
    expect(wireError(() => decodeError(bytes('0009 0003 6162'))).field).toBe('ERROR.message');
    expect(wireError(() => decodeError(bytes('0009 0001 6162'))).field).toBe('ERROR.end');
  });
});

describe('PING and PONG', () => {
  it('have empty headers and carry the body in golden bytes', () => {
    expect(encodePing()).toHaveLength(0);
    expect(encodePong()).toHaveLength(0);
    expect(Buffer.concat(encodePingFrame(1n, Buffer.from('hi')))).toEqual(
      bytes('0000000e 08 00 0000 0000000000000001 6869'),
    );
    expect(Buffer.concat(encodePongFrame(1n, Buffer.from('hi')))).toEqual(
      bytes('0000000e 09 00 0000 0000000000000001 6869'),
    );
    expect(() => decodePing(Buffer.alloc(0))).not.toThrow();
    expect(wireError(() => decodePing(Buffer.alloc(1))).field).toBe('PING.end');
    expect(wireError(() => decodePong(Buffer.alloc(2))).field).toBe('PONG.end');
  });
});

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}
