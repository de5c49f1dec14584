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
    const m = { ...REF, partition: 4, offset: 4096, maxLength: 65536, priority: 2 };
    const h = ess.encodeFetchBlocks(m);
    expect(h.toString('hex')).toBe(
      '0002' +
        '6162' +
        '00000001' +
        '00000002' +
        '00000003' +
        '00000004' +
        '0000000000001000' +
        '00010000' +
        '02',
    );
    expect(ess.decodeFetchBlocks(h)).toEqual(m);
    // The second decode of an app takes the fast path: the same answer.
    expect(ess.decodeFetchBlocks(h)).toEqual(m);
  });

  it('FETCH_BLOCKS refuses a priority outside 1..5, on the fast path too', () => {
    const h = ess.encodeFetchBlocks({ ...REF, partition: 0, offset: 0, maxLength: 1, priority: 5 });
    ess.decodeFetchBlocks(h);
    for (const bad of [0, 6, 255]) {
      h[h.length - 1] = bad;
      expect(() => ess.decodeFetchBlocks(h)).toThrow(/FETCH_BLOCKS.priority: must be 1..5/);
    }
    expect(() =>
      ess.encodeFetchBlocks({ ...REF, partition: 0, offset: 0, maxLength: 1, priority: 0 }),
    ).toThrow(/priority/);
  });

  it('a BLOCKS frame finished in place is the same bytes as one encoded from parts', () => {
    const body = Buffer.from('hello');
    const inPlace = Buffer.alloc(ess.BLOCKS_FRAME_HEAD_BYTES + body.length);
    body.copy(inPlace, ess.BLOCKS_FRAME_HEAD_BYTES);
    ess.finishBlocksFrame(inPlace, 9n, 2 ** 33 + 7);
    expect(inPlace).toEqual(Buffer.concat(ess.encodeBlocksFrame(9n, 2 ** 33 + 7, body)));
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

  it('REMOVE_OUTPUTS and OUTPUTS_REMOVED', () => {
    const one = Buffer.concat(ess.encodeRemoveOutputsFrame(5n, { appId: REF.appId, shuffleId: 7 }));
    expect(one.subarray(16).toString('hex')).toBe('0002' + '6162' + '00000007');
    const [f] = new FrameDecoder({ maxFrameBytes: 1024 }).push(one);
    expect(f!.type).toBe(19);
    expect(ess.decodeRemoveOutputs(f!.header)).toEqual({ appId: REF.appId, shuffleId: 7 });
    const all = Buffer.concat(
      ess.encodeRemoveOutputsFrame(6n, { appId: REF.appId, shuffleId: ess.ALL_SHUFFLES }),
    );
    expect(all.subarray(16).toString('hex')).toBe('0002' + '6162' + 'ffffffff');
    const bad = Buffer.from(all.subarray(16));
    bad.writeUInt32BE(0x8000_0000, 4);
    expect(() => ess.decodeRemoveOutputs(bad)).toThrow(/REMOVE_OUTPUTS.shuffleId/);
    const removed = Buffer.concat(ess.encodeOutputsRemovedFrame(6n, 12));
    expect(removed.subarray(4, 5).toString('hex')).toBe('14');
    expect(ess.decodeOutputsRemoved(removed.subarray(16))).toBe(12);
  });

  it('refuses a truncated header naming the field', () => {
    const h = ess.encodeFetchBlocks({ ...REF, partition: 4, offset: 0, maxLength: 1, priority: 3 });
    expect(() => ess.decodeFetchBlocks(h.subarray(0, h.length - 3))).toThrow(/maxLength/);
    expect(() => ess.decodeFetchBlocks(h.subarray(0, h.length - 1))).toThrow(/priority/);
  });
});
