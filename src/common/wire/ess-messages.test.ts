// Golden bytes of the ESS messages (grammar in ess-messages.ts).
import { describe, expect, it } from 'vitest';
import type { AppId, ShuffleId } from '../ids.js';
import * as ess from './ess-messages.js';
import { FrameDecoder } from './decoder.js';
import { WireProtocolError } from './wire-error.js';

const REF = { appId: 'ab' as AppId, shuffleId: 1 as ShuffleId, mapId: 2, attemptId: 3 };

describe('ESS messages', () => {
  it('REGISTER_OUTPUT', () => {
    const h = ess.encodeRegisterOutput(REF);
    expect(h.toString('hex')).toBe('0002' + '6162' + '00000001' + '00000002' + '00000003');
    expect(ess.decodeRegisterOutput(h)).toEqual(REF);
  });

  it('REGISTERED', () => {
    const h = ess.encodeRegistered({ partitionCount: 7, dataLength: 2 ** 33 + 5 });
    expect(h.toString('hex')).toBe('00000007' + '0000000200000005');
    expect(ess.decodeRegistered(h)).toEqual({ partitionCount: 7, dataLength: 2 ** 33 + 5 });
  });

  it('FETCH_BLOCKS', () => {
    const m = { ...REF, partition: 4, offset: 4096, maxLength: 65536 };
    const h = ess.encodeFetchBlocks(m);
    expect(h.toString('hex')).toBe(
      '0002' +
        '6162' +
        '00000001' +
        '00000002' +
        '00000003' +
        '00000004' +
        '0000000000001000' +
        '00010000',
    );
    expect(ess.decodeFetchBlocks(h)).toEqual(m);
  });

  it('BLOCKS carries the body CRC and refuses a damaged body', () => {
    const frame = Buffer.concat(ess.encodeBlocksFrame(9n, 1000, Buffer.from('hello')));
    // length, type 14, flags, headerLength 12, requestId 9, partitionLength, crc32('hello')
    expect(frame.subarray(0, 28).toString('hex')).toBe(
      '0000001d' + '0e' + '00' + '000c' + '0000000000000009' + '00000000000003e8' + '3610a686',
    );
    const [decoded] = new FrameDecoder({ maxFrameBytes: 1024 }).push(frame);
    expect(ess.decodeBlocksFrame(decoded!)).toEqual({ partitionLength: 1000, crc32: 0x3610a686 });
    const bad = Buffer.from(frame);
    bad[bad.length - 1] ^= 1;
    const [damaged] = new FrameDecoder({ maxFrameBytes: 1024 }).push(bad);
    expect(() => ess.decodeBlocksFrame(damaged!)).toThrow(WireProtocolError);
  });

  it('refuses a truncated header naming the field', () => {
    const h = ess.encodeFetchBlocks({ ...REF, partition: 4, offset: 0, maxLength: 1 });
    expect(() => ess.decodeFetchBlocks(h.subarray(0, h.length - 2))).toThrow(/maxLength/);
  });
});
