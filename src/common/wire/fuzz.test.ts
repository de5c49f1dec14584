// Seeded fuzzing of everything that parses peer bytes (docs/protocol.md: "never a crash, never a
// silent drop"). Each input must end in one of three outcomes: frames/messages, "need more
// data", or a WireProtocolError; never another exception, never a hang, never an allocation
// larger than the frame limit. Seeds are fixed so a failure reproduces; the case index is in
// the assertion message.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AppId, ShuffleId } from '../ids.js';
import { BlockCodec, iterateBlocks, writeBlock } from './block.js';
import { FrameDecoder } from './decoder.js';
import { FRAME_OVERHEAD_BYTES, type Frame, FrameType } from './frame.js';
import * as msg from './messages.js';
import * as stream from './stream-messages.js';
import * as ess from './ess-messages.js';
import * as auth from './auth-messages.js';
import { CorruptBlockError, WireProtocolError } from './wire-error.js';

const MAX_FRAME_BYTES = 2048;
const ALLOC_SLACK_BYTES = 64;

/** mulberry32: small, fast, and the same sequence on every run. */
function prng(seed: number): { int(n: number): number; bytes(n: number): Buffer } {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const int = (n: number): number => Math.floor(next() * n);
  return { int, bytes: (n) => Buffer.from(Array.from({ length: n }, () => int(256))) };
}

const PUSH: msg.PushHeader = {
  appId: 'fuzz-app' as AppId,
  shuffleId: 3 as ShuffleId,
  mapId: 11,
  attemptId: 1,
  epoch: 0,
  groupId: 2,
  slices: [
    { partitionId: 0, bodyOffset: 0, length: 40 },
    { partitionId: 9, bodyOffset: 40, length: 39 },
  ],
};
const PUSH_BODY = Buffer.concat([
  ...writeBlock(
    { mapId: 11, attemptId: 1, batchId: 0, rawLength: 8, codec: 0 },
    Buffer.alloc(8, 1),
  ),
  ...writeBlock(
    { mapId: 11, attemptId: 1, batchId: 1, rawLength: 7, codec: 0 },
    Buffer.alloc(7, 2),
  ),
]);
const OPEN = {
  appId: 'a.b' as AppId,
  shuffleId: 1 as ShuffleId,
  partition: 2,
  epoch: 3,
  startChunk: 0,
};
const REF = { appId: 'app-1' as AppId, shuffleId: 1 as ShuffleId, mapId: 5, attemptId: 1 };
const HANDLE = { streamId: 77n, fileLength: 300, fileCrc32: 5, chunkLengths: [100, 200] };

/** One valid frame of every type. */
const VALID_FRAMES: Buffer[] = [
  msg.encodePushFrame(1n, PUSH, PUSH_BODY),
  msg.encodePushAckFrame(2n, { statuses: [{ partitionId: 4, status: 1 }] }),
  stream.encodeOpenStreamFrame(3n, OPEN),
  stream.encodeStreamHandleFrame(4n, HANDLE),
  stream.encodeFetchChunkFrame(5n, { streamId: 77n, chunkIndex: 1 }),
  stream.encodeChunkFrame(6n, { streamId: 77n, chunkIndex: 1 }, Buffer.from('chunk')),
  msg.encodeErrorFrame(7n, { status: 9, message: 'bad frame' }),
  msg.encodePingFrame(8n, Buffer.from('ping')),
  msg.encodePongFrame(9n, Buffer.from('pong')),
  stream.encodeCloseStreamFrame(10n, { streamId: 77n }),
  ess.encodeRegisterOutputFrame(11n, REF),
  ess.encodeRegisteredFrame(12n, { partitionCount: 4, dataLength: 1000 }),
  ess.encodeFetchBlocksFrame(13n, {
    ...REF,
    partition: 2,
    offset: 64,
    maxLength: 4096,
    priority: 2,
  }),
  ess.encodeBlocksFrame(14n, 300, Buffer.from('blocks')),
  auth.encodeAuthHelloFrame(15n, { appId: REF.appId, keyId: Buffer.alloc(16, 7) }),
  auth.encodeAuthChallengeFrame(16n, Buffer.alloc(32, 1)),
  auth.encodeAuthProofFrame(17n, { clientNonce: Buffer.alloc(32, 2), mac: Buffer.alloc(32, 3) }),
  auth.encodeAuthOkFrame(18n, Buffer.alloc(32, 4)),
  ess.encodeRemoveOutputsFrame(19n, { appId: REF.appId, shuffleId: 3 }),
  ess.encodeOutputsRemovedFrame(20n, 9),
].map((parts) => Buffer.concat(parts));

/** Decodes a frame's header with the codec for its type (the PUSH body length included). */
function decodeMessage(frame: Frame): unknown {
  switch (frame.type) {
    case FrameType.PUSH:
      return msg.decodePushFrame(frame);
    case FrameType.PUSH_ACK:
      return msg.decodePushAck(frame.header);
    case FrameType.OPEN_STREAM:
      return stream.decodeOpenStream(frame.header);
    case FrameType.STREAM_HANDLE:
      return stream.decodeStreamHandle(frame.header);
    case FrameType.FETCH_CHUNK:
      return stream.decodeFetchChunk(frame.header);
    case FrameType.CHUNK:
      return stream.decodeChunkFrame(frame);
    case FrameType.ERROR:
      return msg.decodeError(frame.header);
    case FrameType.PING:
      return msg.decodePing(frame.header);
    case FrameType.PONG:
      return msg.decodePong(frame.header);
    case FrameType.CLOSE_STREAM:
      return stream.decodeCloseStream(frame.header);
    case FrameType.REGISTER_OUTPUT:
      return ess.decodeRegisterOutput(frame.header);
    case FrameType.REGISTERED:
      return ess.decodeRegistered(frame.header);
    case FrameType.FETCH_BLOCKS:
      return ess.decodeFetchBlocks(frame.header);
    case FrameType.BLOCKS:
      return ess.decodeBlocksFrame(frame);
    case FrameType.AUTH_HELLO:
      return auth.decodeAuthHello(frame.header);
    case FrameType.AUTH_CHALLENGE:
      return auth.decodeAuthChallenge(frame.header);
    case FrameType.AUTH_PROOF:
      return auth.decodeAuthProof(frame.header);
    case FrameType.AUTH_OK:
      return auth.decodeAuthOk(frame.header);
    case FrameType.REMOVE_OUTPUTS:
      return ess.decodeRemoveOutputs(frame.header);
    case FrameType.OUTPUTS_REMOVED:
      return ess.decodeOutputsRemoved(frame.header);
  }
}

/** Calls `run`; only a WireProtocolError may escape it. Returns whether it succeeded. */
function survives(run: () => unknown, label: string): boolean {
  try {
    run();
    return true;
  } catch (err) {
    expect(err, label).toBeInstanceOf(WireProtocolError);
    return false;
  }
}

/** Largest Buffer allocation made inside FrameDecoder.push (the test harness is not counted). */
const allocs = { tracking: false, largest: 0 };

interface Outcome {
  frames: Frame[];
  error: WireProtocolError | undefined;
  buffered: number;
  /** Frames whose message header was refused (with a WireProtocolError). */
  refused: number;
}

/** Feeds `input` in random splits, decoding each frame's header as a receiver would. */
function runDecoder(input: Buffer, rand: ReturnType<typeof prng>, label: string): Outcome {
  const decoder = new FrameDecoder({ maxFrameBytes: MAX_FRAME_BYTES });
  const frames: Frame[] = [];
  let refused = 0;
  for (let at = 0; at < input.length;) {
    const n = 1 + rand.int(rand.int(2) === 0 ? 8 : 256);
    const chunk = input.subarray(at, at + n);
    at += n;
    let got: Frame[];
    try {
      allocs.tracking = true;
      got = decoder.push(chunk);
    } catch (err) {
      allocs.tracking = false;
      expect(err, label).toBeInstanceOf(WireProtocolError);
      expect(() => decoder.push(Buffer.alloc(1)), `${label}: poisoned`).toThrow(err as Error);
      return { frames, error: err as WireProtocolError, buffered: decoder.bufferedBytes, refused };
    }
    allocs.tracking = false;
    for (const frame of got) {
      expect(
        FRAME_OVERHEAD_BYTES + frame.header.length + frame.body.length,
        label,
      ).toBeLessThanOrEqual(MAX_FRAME_BYTES + 4);
      if (!survives(() => decodeMessage(frame), `${label}: message`)) refused++;
      frames.push(frame);
    }
  }
  return { frames, error: undefined, buffered: decoder.bufferedBytes, refused };
}

describe('fuzzing the frame decoder', () => {
  beforeEach(() => {
    allocs.largest = 0;
    for (const name of ['alloc', 'allocUnsafe', 'allocUnsafeSlow'] as const) {
      const original = Buffer[name].bind(Buffer) as (...args: unknown[]) => Buffer;
      vi.spyOn(Buffer, name).mockImplementation(((size: number, ...rest: unknown[]) => {
        if (allocs.tracking) allocs.largest = Math.max(allocs.largest, size);
        return original(size, ...rest);
      }) as never);
    }
  });
  afterEach(() => {
    vi.restoreAllMocks();
    // Never more than one frame's worth, whatever the peer claims.
    expect(allocs.largest).toBeLessThanOrEqual(MAX_FRAME_BYTES + ALLOC_SLACK_BYTES);
  });

  it('decodes every valid frame type in random splits, and each header round-trips', () => {
    const rand = prng(1);
    for (let i = 0; i < 500; i++) {
      const picks = Array.from(
        { length: 1 + rand.int(6) },
        () => VALID_FRAMES[rand.int(VALID_FRAMES.length)]!,
      );
      const out = runDecoder(Buffer.concat(picks), rand, `case ${i}`);
      expect(out.error, `case ${i}`).toBeUndefined();
      expect(out.refused, `case ${i}`).toBe(0);
      expect(out.frames.map((f) => f.requestId)).toEqual(picks.map((p) => p.readBigUInt64BE(8)));
      out.frames.forEach((f, k) => {
        const sent = picks[k]!.subarray(FRAME_OVERHEAD_BYTES);
        expect(Buffer.concat([f.header, f.body]).equals(sent), `case ${i} frame ${k}`).toBe(true);
      });
      expect(out.buffered).toBe(0);
    }
    // The allocation guard below is live: frames split over chunks were copied.
    expect(allocs.largest).toBeGreaterThan(0);
  });

  it('survives random bytes', () => {
    const rand = prng(2);
    const seen = { errors: 0, frames: 0 };
    for (let i = 0; i < 3000; i++) {
      const input = rand.bytes(rand.int(300));
      // Half the cases start with a plausible prefix so the type/header checks are reached.
      if (rand.int(2) === 0 && input.length >= 8) {
        input.writeUInt32BE(12 + rand.int(200), 0);
        input[4] = 1 + rand.int(10);
        input.writeUInt16BE(rand.int(64), 6);
      }
      const out = runDecoder(input, rand, `case ${i}`);
      seen.errors += out.error ? 1 : 0;
      seen.frames += out.frames.length;
    }
    expect(seen.errors).toBeGreaterThan(1000);
    expect(seen.frames).toBeGreaterThan(20);
  });

  it('waits for the rest of a truncated valid stream and returns the complete frames', () => {
    const rand = prng(3);
    for (let i = 0; i < 1000; i++) {
      const picks = Array.from(
        { length: 1 + rand.int(4) },
        () => VALID_FRAMES[rand.int(VALID_FRAMES.length)]!,
      );
      const whole = Buffer.concat(picks);
      const cut = rand.int(whole.length);
      const out = runDecoder(whole.subarray(0, cut), rand, `case ${i}`);
      expect(out.error, `case ${i}`).toBeUndefined();
      let complete = 0;
      for (
        let end = 0;
        complete < picks.length && end + picks[complete]!.length <= cut;
        complete++
      ) {
        end += picks[complete]!.length;
      }
      expect(out.frames.length, `case ${i}`).toBe(complete);
      const used = picks.slice(0, complete).reduce((s, p) => s + p.length, 0);
      expect(out.buffered, `case ${i}`).toBe(cut - used);
    }
  });

  it('survives valid streams with random byte flips', () => {
    const rand = prng(4);
    const seen = { errors: 0, frames: 0, refused: 0 };
    for (let i = 0; i < 3000; i++) {
      const picks = Array.from(
        { length: 1 + rand.int(3) },
        () => VALID_FRAMES[rand.int(VALID_FRAMES.length)]!,
      );
      const input = Buffer.concat(picks);
      for (let flips = 1 + rand.int(3); flips > 0; flips--)
        input[rand.int(input.length)] ^= 1 + rand.int(255);
      const out = runDecoder(input, rand, `case ${i}`);
      seen.errors += out.error ? 1 : 0;
      seen.frames += out.frames.length;
      seen.refused += out.refused;
    }
    // All three outcomes occur: framing errors, intact frames, refused message headers.
    expect(seen.errors).toBeGreaterThan(100);
    expect(seen.frames).toBeGreaterThan(1000);
    expect(seen.refused).toBeGreaterThan(100);
  });

  it('refuses huge length prefixes after 4 bytes, without buffering or allocating them', () => {
    const rand = prng(5);
    for (let i = 0; i < 1000; i++) {
      const length = MAX_FRAME_BYTES + 1 + rand.int(0xffff_ffff - MAX_FRAME_BYTES);
      const input = Buffer.concat([Buffer.alloc(4), rand.bytes(rand.int(64))]);
      input.writeUInt32BE(length, 0);
      const out = runDecoder(input, rand, `case ${i}`);
      expect(out.error?.status, `case ${i}`).toBe('FRAME_TOO_LARGE');
      expect(out.frames).toEqual([]);
    }
  });
});

describe('fuzzing the header decoders', () => {
  const decoders: [string, (h: Buffer, bodyLength: number) => unknown, (v: never) => Buffer][] = [
    ['PUSH', msg.decodePush, (v: msg.PushHeader) => msg.encodePush(v, PUSH_BODY.length)],
    ['PUSH_ACK', msg.decodePushAck, msg.encodePushAck],
    ['ERROR', msg.decodeError, msg.encodeError],
    ['PING', msg.decodePing, msg.encodePing],
    ['PONG', msg.decodePong, msg.encodePong],
    ['OPEN_STREAM', stream.decodeOpenStream, stream.encodeOpenStream],
    ['STREAM_HANDLE', stream.decodeStreamHandle, stream.encodeStreamHandle],
    ['FETCH_CHUNK', stream.decodeFetchChunk, stream.encodeFetchChunk],
    ['CHUNK', stream.decodeChunk, stream.encodeChunk],
    ['CLOSE_STREAM', stream.decodeCloseStream, stream.encodeCloseStream],
  ];
  const validHeaders = VALID_FRAMES.map((f) => f.subarray(16, 16 + f.readUInt16BE(6)));

  it('only succeed or throw WireProtocolError, and what they accept re-encodes to the same bytes', () => {
    const rand = prng(6);
    for (const [name, decode, encode] of decoders) {
      const base = validHeaders[VALID_FRAMES.findIndex((f) => f[4] === headerType(name))]!;
      const seen = { accepted: 0, refused: 0 };
      for (let i = 0; i < 600; i++) {
        const label = `${name} case ${i}`;
        const input = mutate(base, rand);
        let value: unknown;
        if (!survives(() => (value = decode(input, PUSH_BODY.length)), label)) {
          seen.refused++;
          continue;
        }
        seen.accepted++;
        // ERROR text is decoded leniently (invalid UTF-8 becomes U+FFFD), so it need not re-encode.
        if (name !== 'ERROR') expect(encode(value as never).equals(input), label).toBe(true);
      }
      expect(seen.accepted, name).toBeGreaterThan(10);
      expect(seen.refused, name).toBeGreaterThan(10);
    }
  });
});

function headerType(name: string): number {
  return FrameType[name as keyof typeof FrameType];
}

/** Random bytes, or a valid header truncated, extended or with bytes flipped. */
function mutate(base: Buffer, rand: ReturnType<typeof prng>): Buffer {
  switch (rand.int(4)) {
    case 0:
      return rand.bytes(rand.int(80));
    case 1:
      return base.subarray(0, rand.int(base.length + 1));
    case 2:
      return Buffer.concat([base, rand.bytes(1 + rand.int(8))]);
    default: {
      const copy = Buffer.from(base);
      if (copy.length > 0) copy[rand.int(copy.length)] ^= 1 + rand.int(255);
      return copy;
    }
  }
}

describe('fuzzing the block walker', () => {
  it('never yields stored bytes that differ from what was written', () => {
    const rand = prng(7);
    const seen = { clean: 0, corrupt: 0 };
    for (let i = 0; i < 1500; i++) {
      const written = Array.from({ length: 1 + rand.int(4) }, () => rand.bytes(rand.int(40)));
      const buf = Buffer.concat(
        written.flatMap((stored, batchId) =>
          writeBlock(
            { mapId: 1, attemptId: 0, batchId, rawLength: stored.length, codec: BlockCodec.NONE },
            stored,
          ),
        ),
      );
      for (let flips = rand.int(3); flips > 0; flips--)
        buf[rand.int(buf.length)] ^= 1 + rand.int(255);
      const cut = rand.int(4) === 0 ? rand.int(buf.length + 1) : buf.length;
      let k = 0;
      try {
        for (const block of iterateBlocks(buf.subarray(0, cut))) {
          expect(block.stored.equals(written[k]!), `case ${i} block ${k}`).toBe(true);
          k++;
        }
        seen.clean++;
      } catch (err) {
        expect(err, `case ${i}`).toBeInstanceOf(CorruptBlockError);
        seen.corrupt++;
      }
    }
    expect(seen.clean).toBeGreaterThan(300);
    expect(seen.corrupt).toBeGreaterThan(300);
  });
});
