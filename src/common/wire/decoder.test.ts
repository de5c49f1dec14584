import { describe, expect, it } from 'vitest';
import { DirectFrameDecoder, FrameDecoder } from './decoder.js';
import { type Frame, FrameType, encodeFrame } from './frame.js';
import { WireProtocolError } from './wire-error.js';

const MAX = 1024;

function frameBytes(type: number, requestId: bigint, header: string, body: string): Buffer {
  return Buffer.concat(
    encodeFrame(type as Frame['type'], 0, requestId, Buffer.from(header), Buffer.from(body)),
  );
}

/** A copy with its own ArrayBuffer (small Buffer.from/concat results share Node's pool). */
function own(bytes: Buffer): Buffer {
  const out = Buffer.allocUnsafeSlow(bytes.length);
  bytes.copy(out);
  return out;
}

const summary = (f: Frame) => ({
  type: f.type,
  flags: f.flags,
  requestId: f.requestId,
  header: f.header.toString(),
  body: f.body.toString(),
});

const SAMPLE = [
  frameBytes(FrameType.PUSH, 1n, 'hdr-one', 'body bytes of the first frame'),
  frameBytes(FrameType.PING, 2n, '', ''),
  frameBytes(FrameType.CHUNK, 0xffff_ffff_ffff_fffen, 'h', ''),
  frameBytes(FrameType.ERROR, 4n, '', 'only a body'),
];
const EXPECTED = [
  { type: 1, flags: 0, requestId: 1n, header: 'hdr-one', body: 'body bytes of the first frame' },
  { type: 8, flags: 0, requestId: 2n, header: '', body: '' },
  { type: 6, flags: 0, requestId: 0xffff_ffff_ffff_fffen, header: 'h', body: '' },
  { type: 7, flags: 0, requestId: 4n, header: '', body: 'only a body' },
];
const STREAM = Buffer.concat(SAMPLE);

function feed(decoder: FrameDecoder, chunks: Buffer[]): Frame[] {
  return chunks.flatMap((c) => decoder.push(c));
}

/** A prefix with chosen fields, for malformed cases the encoder refuses to produce. */
function rawPrefix(length: number, type: number, headerLength: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt32BE(length, 0);
  b.writeUInt8(type, 4);
  b.writeUInt16BE(headerLength, 6);
  return b;
}

function expectWireError(run: () => unknown, status: string, field: string): WireProtocolError {
  let caught: unknown;
  try {
    run();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(WireProtocolError);
  const err = caught as WireProtocolError;
  expect(err.status).toBe(status);
  expect(err.field).toBe(field);
  // Each wire status has its own error code (src/common/status-codes.ts).
  expect(err.code).toBe(`SLUICE_ERR_${status}`);
  return err;
}

describe('FrameDecoder', () => {
  it('decodes several frames from one chunk', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: MAX });
    expect(decoder.push(STREAM).map(summary)).toEqual(EXPECTED);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('decodes frames fed one byte at a time', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: MAX });
    const bytes = [...STREAM].map((b) => Buffer.from([b]));
    const frames: Frame[] = [];
    for (const [i, chunk] of bytes.entries()) {
      frames.push(...decoder.push(chunk));
      expect(decoder.bufferedBytes).toBeLessThanOrEqual(i + 1);
    }
    expect(frames.map(summary)).toEqual(EXPECTED);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('decodes frames fed in every two-way split and in random splits', () => {
    for (let cut = 0; cut <= STREAM.length; cut++) {
      const decoder = new FrameDecoder({ maxFrameBytes: MAX });
      const frames = feed(decoder, [STREAM.subarray(0, cut), STREAM.subarray(cut)]);
      expect(frames.map(summary)).toEqual(EXPECTED);
    }
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 200; round++) {
      const chunks: Buffer[] = [];
      for (let at = 0; at < STREAM.length;) {
        const n = 1 + Math.floor(rand() * 40);
        chunks.push(STREAM.subarray(at, at + n));
        at += n;
      }
      const decoder = new FrameDecoder({ maxFrameBytes: MAX });
      expect(feed(decoder, chunks).map(summary)).toEqual(EXPECTED);
    }
  });

  it('returns views of the chunk when a frame lies inside it (zero copy)', () => {
    const chunk = own(Buffer.concat([SAMPLE[0]!, SAMPLE[1]!.subarray(0, 5)]));
    const decoder = new FrameDecoder({ maxFrameBytes: MAX });
    const [frame] = decoder.push(chunk);
    expect(frame!.body.buffer).toBe(chunk.buffer);
    expect(frame!.header.buffer).toBe(chunk.buffer);
    expect(frame!.body.byteOffset).toBe(chunk.byteOffset + 16 + 'hdr-one'.length);
    chunk[chunk.length - 6] = 0x21; // the body is shared, not a copy
    expect(frame!.body.toString().endsWith('!')).toBe(true);
    expect(decoder.bufferedBytes).toBe(5);
  });

  it('copies only a header that spans chunks; the body stays views of the chunks', () => {
    const frame = SAMPLE[0]!;
    const decoder = new FrameDecoder({ maxFrameBytes: MAX });
    const a = own(frame.subarray(0, 20)); // the header ends at byte 23
    const b = own(frame.subarray(20, 26));
    const c = own(frame.subarray(26));
    const [out] = feed(decoder, [a, b, c]);
    expect(summary(out!)).toEqual(EXPECTED[0]);
    expect(out!.header.buffer).not.toBe(a.buffer);
    expect(out!.header.buffer).not.toBe(b.buffer);
    expect(out!.bodyParts).toHaveLength(2);
    expect(out!.bodyParts[0]!.buffer).toBe(b.buffer);
    expect(out!.bodyParts[1]!.buffer).toBe(c.buffer);
    expect(out!.bodyLength).toBe(out!.body.length);
    // `body` joins the parts once, on demand
    expect(out!.body).toBe(out!.body);
    expect(out!.body.buffer).not.toBe(c.buffer);
  });

  it('stays zero copy when only the length field spans chunks', () => {
    const frame = SAMPLE[0]!;
    const rest = own(frame.subarray(2));
    const decoder = new FrameDecoder({ maxFrameBytes: MAX });
    const [out] = feed(decoder, [frame.subarray(0, 2), rest]);
    expect(out!.body.buffer).toBe(rest.buffer);
  });

  it('supports pulling frames one at a time with append() and next()', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: MAX });
    decoder.append(STREAM);
    expect(summary(decoder.next()!)).toEqual(EXPECTED[0]);
    expect(decoder.bufferedBytes).toBe(STREAM.length - SAMPLE[0]!.length);
    expect(summary(decoder.next()!)).toEqual(EXPECTED[1]);
    decoder.next();
    decoder.next();
    expect(decoder.next()).toBeUndefined();
  });

  it('refuses a length shorter than the prefix', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: MAX });
    expectWireError(
      () => decoder.push(rawPrefix(11, 1, 0)),
      'MALFORMED_FRAME',
      'frame.frameLength',
    );
  });

  it('refuses an oversized frame as soon as the 4 length bytes arrive', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: MAX });
    expect(decoder.push(Buffer.from([0x00, 0x00, 0x04]))).toEqual([]);
    const err = expectWireError(
      () => decoder.push(Buffer.from([0x01])),
      'FRAME_TOO_LARGE',
      'frame.frameLength',
    );
    expect(err.statusCode).toBe(10);
    expect(err.retriable).toBe(false);
    expect(err.context['frameLength']).toBe(MAX + 1);
  });

  it('accepts a frame of exactly maxFrameBytes', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: MAX });
    const body = Buffer.alloc(MAX - 12, 7);
    const frames = decoder.push(
      Buffer.concat(encodeFrame(FrameType.PONG, 0, 9n, Buffer.alloc(0), body)),
    );
    expect(frames).toHaveLength(1);
    expect(frames[0]!.body.equals(body)).toBe(true);
  });

  it('refuses an unknown type and a headerLength past the frame', () => {
    expectWireError(
      () => new FrameDecoder({ maxFrameBytes: MAX }).push(rawPrefix(12, 0, 0)),
      'MALFORMED_FRAME',
      'frame.type',
    );
    expectWireError(
      () => new FrameDecoder({ maxFrameBytes: MAX }).push(rawPrefix(12, 21, 0)),
      'MALFORMED_FRAME',
      'frame.type',
    );
    expectWireError(
      () => new FrameDecoder({ maxFrameBytes: MAX }).push(rawPrefix(20, 1, 9)),
      'MALFORMED_FRAME',
      'frame.headerLength',
    );
  });

  it('checks type and headerLength before the body arrives', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: MAX });
    expect(() => decoder.push(rawPrefix(500, 99, 0))).toThrow(WireProtocolError);
  });

  it('is poisoned after an error until reset()', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: MAX });
    let first: unknown;
    try {
      decoder.push(Buffer.concat([SAMPLE[0]!, rawPrefix(3, 1, 0)]));
    } catch (err) {
      first = err;
    }
    expect(first).toBeInstanceOf(WireProtocolError);
    expect(decoder.error).toBe(first);
    expect(() => decoder.push(SAMPLE[1]!)).toThrow(first as Error);
    expect(() => decoder.next()).toThrow(first as Error);
    decoder.reset();
    expect(decoder.error).toBeUndefined();
    expect(decoder.bufferedBytes).toBe(0);
    expect(decoder.push(STREAM).map(summary)).toEqual(EXPECTED);
  });

  it('lets the frames before a bad one be pulled with next()', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: MAX });
    decoder.append(Buffer.concat([SAMPLE[0]!, rawPrefix(3, 1, 0)]));
    expect(summary(decoder.next()!)).toEqual(EXPECTED[0]);
    expect(() => decoder.next()).toThrow(WireProtocolError);
  });

  it('reports buffered bytes and releases them with reset()', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: MAX });
    decoder.push(STREAM.subarray(0, 30));
    expect(decoder.bufferedBytes).toBe(30);
    decoder.push(Buffer.alloc(0));
    expect(decoder.bufferedBytes).toBe(30);
    decoder.reset();
    expect(decoder.bufferedBytes).toBe(0);
    expect(decoder.push(STREAM).map(summary)).toEqual(EXPECTED);
  });

  it('says how large the frame in progress is as soon as its length field has arrived', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: MAX });
    const first = SAMPLE[0]!;
    expect(decoder.frameInProgressBytes).toBe(0);
    decoder.push(first.subarray(0, 3));
    expect(decoder.frameInProgressBytes).toBe(0); // the length is not known yet
    decoder.push(first.subarray(3, 5));
    expect(decoder.frameInProgressBytes).toBe(first.length);
    decoder.push(first.subarray(5, first.length - 1));
    expect(decoder.frameInProgressBytes).toBe(first.length);
    // The frame completes and the next one's length arrives in the same chunk.
    decoder.push(Buffer.concat([first.subarray(first.length - 1), SAMPLE[1]!.subarray(0, 4)]));
    expect(decoder.frameInProgressBytes).toBe(SAMPLE[1]!.length);
    decoder.reset();
    expect(decoder.frameInProgressBytes).toBe(0);
  });

  it('keeps working over many small chunks (chunk list compaction)', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: MAX });
    const many = Buffer.concat(Array.from({ length: 50 }, () => STREAM));
    const frames: Frame[] = [];
    for (let at = 0; at < many.length; at += 3)
      frames.push(...decoder.push(many.subarray(at, at + 3)));
    expect(frames).toHaveLength(200);
    expect(frames.slice(-4).map(summary)).toEqual(EXPECTED);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('refuses an invalid maxFrameBytes', () => {
    for (const maxFrameBytes of [11, 2 ** 32, 1.5, Number.NaN]) {
      expect(() => new FrameDecoder({ maxFrameBytes })).toThrow(/maxFrameBytes/);
    }
  });
});

/**
 * What a socket with `onread` does: asks the decoder where to read, puts at most what fits
 * (and at most `readSize(i)` bytes) of `stream` there, and reports how many.
 */
function readThrough(
  decoder: DirectFrameDecoder,
  stream: Buffer,
  readSize: (i: number) => number,
): { frames: Frame[]; targets: Buffer[] } {
  const frames: Frame[] = [];
  const targets: Buffer[] = [];
  for (let at = 0, i = 0; at < stream.length; i++) {
    const target = decoder.nextBuffer();
    targets.push(target);
    const n = stream.copy(target, 0, at, at + Math.max(1, Math.min(readSize(i), target.length)));
    at += n;
    for (const f of decoder.filled(n, target)) frames.push(f);
  }
  return { frames, targets };
}

describe('DirectFrameDecoder', () => {
  it('decodes frames read in any sizes, one byte at a time included', () => {
    for (const size of [1, 2, 5, 16, 17, 64, 100_000]) {
      const decoder = new DirectFrameDecoder({ maxFrameBytes: MAX });
      const many = Buffer.concat([STREAM, STREAM, STREAM]);
      const { frames } = readThrough(decoder, many, () => size);
      expect(frames.map(summary)).toEqual([...EXPECTED, ...EXPECTED, ...EXPECTED]);
    }
    let seed = 7;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) % 40;
    const decoder = new DirectFrameDecoder({ maxFrameBytes: MAX });
    const many = Buffer.concat(Array.from({ length: 30 }, () => STREAM));
    expect(readThrough(decoder, many, random).frames.map(summary)).toEqual(
      Array.from({ length: 30 }, () => EXPECTED).flat(),
    );
  });

  it("reads a large body straight into the frame's own Buffer, and copies nothing after", () => {
    const body = Buffer.alloc(3 * 65_536 + 5);
    for (let i = 0; i < body.length; i++) body[i] = (i * 31) & 0xff;
    const large = Buffer.concat(encodeFrame(FrameType.CHUNK, 0, 5n, Buffer.from('hh'), body));
    const decoder = new DirectFrameDecoder({ maxFrameBytes: 1024 ** 2 });
    const stream = Buffer.concat([SAMPLE[0]!, large, SAMPLE[1]!]);
    const { frames, targets } = readThrough(decoder, stream, () => 65_536);
    expect(frames).toHaveLength(3);
    const chunk = frames[1]!;
    expect(chunk.requestId).toBe(5n);
    expect(chunk.header.toString()).toBe('hh');
    expect(chunk.body.equals(body)).toBe(true);
    // Every read after the first one of the large frame went into that frame's memory.
    const bodyMemory = chunk.body.buffer;
    expect(targets.filter((t) => t.buffer === bodyMemory).length).toBeGreaterThanOrEqual(3);
    expect(chunk.bodyParts).toHaveLength(1);
  });

  it('refuses what FrameDecoder refuses, as early, and stays poisoned', () => {
    const tooLarge = new DirectFrameDecoder({ maxFrameBytes: MAX });
    expect(readThrough(tooLarge, Buffer.from([0x00, 0x00, 0x04]), () => 3).frames).toEqual([]);
    expectWireError(
      () => readThrough(tooLarge, Buffer.from([0x01]), () => 1),
      'FRAME_TOO_LARGE',
      'frame.frameLength',
    );
    expect(() => readThrough(tooLarge, SAMPLE[1]!, () => 100)).toThrow(WireProtocolError);
    const cases: [Buffer, string][] = [
      [rawPrefix(11, 1, 0), 'frame.frameLength'],
      [rawPrefix(12, 0, 0), 'frame.type'],
      [rawPrefix(20, 1, 9), 'frame.headerLength'],
    ];
    for (const [bytes, field] of cases) {
      const decoder = new DirectFrameDecoder({ maxFrameBytes: MAX });
      expectWireError(() => readThrough(decoder, bytes, () => 100), 'MALFORMED_FRAME', field);
    }
    expect(() => new DirectFrameDecoder({ maxFrameBytes: 11 })).toThrow(/maxFrameBytes/);
  });
});
