// Incremental frame decoder for one data-plane connection (grammar in frame.ts, docs/protocol.md).
//
// Socket chunks are kept as received, in a list; nothing is copied while a frame is incomplete.
// A complete frame's body is returned as views of the chunks it arrived in (bodyParts: zero
// copy, it keeps those chunks alive while the caller holds it), joined into one Buffer only if
// someone reads `body`; the prefix and header, small, are copied when they span chunks. The length is
// checked as soon as its 4 bytes arrive, and type and headerLength as soon as the 12-byte
// prefix does, so a hostile or corrupt peer can never make us buffer or allocate more than
// maxFrameBytes for one frame. The first violation poisons the decoder: framing can no longer
// be trusted, so every later call throws the same error until reset() (docs/protocol.md: answer
// ERROR, count it, close the connection).
import { InvalidArgumentError } from '../errors.js';
import {
  FRAME_LENGTH_FIELD_BYTES,
  FRAME_OVERHEAD_BYTES,
  FRAME_PREFIX_BYTES,
  type Frame,
  MAX_FRAME_LENGTH,
  frameTypeName,
  isFrameType,
} from './frame.js';
import { joinParts, partsLength } from './parts.js';
import { WireProtocolError } from './wire-error.js';

export interface FrameDecoderOptions {
  /** Largest accepted frameLength (bytes after the length field); larger is FRAME_TOO_LARGE. */
  maxFrameBytes: number;
}

/** Consumed slots at the head of the chunk list are dropped once there are this many. */
const COMPACT_AFTER_CHUNKS = 64;
const EMPTY = Buffer.alloc(0);

export class FrameDecoder {
  readonly maxFrameBytes: number;
  #chunks: Buffer[] = [];
  /** Index in #chunks of the first chunk holding unread bytes. */
  #first = 0;
  /** Bytes of #chunks[#first] already consumed. */
  #offset = 0;
  #buffered = 0;
  /** frameLength of the frame at the head once its prefix was checked, else -1. */
  #pending = -1;
  #error: WireProtocolError | undefined;

  constructor(options: FrameDecoderOptions) {
    this.maxFrameBytes = checkMaxFrameBytes(options.maxFrameBytes);
  }

  /** Received bytes not yet returned as frames (for memory accounting). */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  /**
   * Wire bytes (length field included) of the frame in progress, as its length field says,
   * once those 4 bytes have arrived; 0 when no frame is in progress or its length is not
   * known yet. Lets a server tell a large frame from a small request before it has arrived.
   */
  get frameInProgressBytes(): number {
    if (this.#error !== undefined) return 0;
    if (this.#pending >= 0) return FRAME_LENGTH_FIELD_BYTES + this.#pending;
    if (this.#buffered < FRAME_LENGTH_FIELD_BYTES) return 0;
    return FRAME_LENGTH_FIELD_BYTES + this.#peekUInt32();
  }

  /** The error that poisoned the decoder, if any. */
  get error(): WireProtocolError | undefined {
    return this.#error;
  }

  /**
   * Appends a chunk and returns every frame now complete, in order. Throws WireProtocolError
   * on the first invalid frame; frames decoded before it in the same call are then not
   * returned (use append()/next() to consume them one by one instead).
   */
  push(chunk: Buffer): Frame[] {
    this.append(chunk);
    const frames: Frame[] = [];
    for (let frame = this.next(); frame !== undefined; frame = this.next()) frames.push(frame);
    return frames;
  }

  /** Buffers a chunk without decoding; pair with next(). */
  append(chunk: Buffer): void {
    this.#throwIfPoisoned();
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
  }

  /** The next complete frame, or undefined when more bytes are needed. */
  next(): Frame | undefined {
    this.#throwIfPoisoned();
    try {
      return this.#decodeNext();
    } catch (err) {
      if (err instanceof WireProtocolError) this.#error = err;
      throw err;
    }
  }

  /** Drops buffered bytes and any poison: for reuse on a new connection. */
  reset(): void {
    this.#chunks = [];
    this.#first = 0;
    this.#offset = 0;
    this.#buffered = 0;
    this.#pending = -1;
    this.#error = undefined;
  }

  #throwIfPoisoned(): void {
    if (this.#error !== undefined) throw this.#error;
  }

  #decodeNext(): Frame | undefined {
    if (this.#pending < 0) {
      if (this.#buffered < FRAME_OVERHEAD_BYTES) {
        // Refuse a bad length before the rest of the prefix arrives (never wait for a huge frame).
        if (this.#buffered >= FRAME_LENGTH_FIELD_BYTES) this.#checkLength(this.#peekUInt32());
        return undefined;
      }
      this.#pending = this.#checkPrefix();
    }
    const length = this.#pending;
    if (this.#buffered < FRAME_LENGTH_FIELD_BYTES + length) return undefined;
    this.#skip(FRAME_LENGTH_FIELD_BYTES);
    const headerLength = this.#peek(FRAME_PREFIX_BYTES).readUInt16BE(2);
    const head = this.#take(FRAME_PREFIX_BYTES + headerLength);
    const bodyParts = this.#takeParts(length - FRAME_PREFIX_BYTES - headerLength);
    this.#pending = -1;
    return new DecodedFrame(head, headerLength, bodyParts);
  }

  #checkLength(length: number): void {
    checkFrameLength(length, this.maxFrameBytes);
  }

  /** Validates the 16 bytes at the head (length field + prefix); returns frameLength. */
  #checkPrefix(): number {
    return checkFramePrefix(this.#peek(FRAME_OVERHEAD_BYTES), this.maxFrameBytes);
  }

  #peekUInt32(): number {
    return this.#peek(FRAME_LENGTH_FIELD_BYTES).readUInt32BE(0);
  }

  /** The first n buffered bytes (n <= FRAME_OVERHEAD_BYTES), without consuming them. */
  #peek(n: number): Buffer {
    const head = this.#chunks[this.#first]!;
    if (head.length - this.#offset >= n) return head.subarray(this.#offset, this.#offset + n);
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    for (let i = this.#first, offset = this.#offset; filled < n; i++, offset = 0) {
      const chunk = this.#chunks[i]!;
      filled += chunk.copy(out, filled, offset, Math.min(chunk.length, offset + n - filled));
    }
    return out;
  }

  /** Consumes n buffered bytes: a view when they lie in one chunk, else one exact copy. */
  #take(n: number): Buffer {
    if (n === 0) return EMPTY;
    const head = this.#chunks[this.#first]!;
    if (head.length - this.#offset >= n) {
      const view = head.subarray(this.#offset, this.#offset + n);
      this.#skip(n);
      return view;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.#chunks[this.#first]!;
      const k = Math.min(chunk.length - this.#offset, n - filled);
      chunk.copy(out, filled, this.#offset, this.#offset + k);
      filled += k;
      this.#skip(k);
    }
    return out;
  }

  /** Consumes n buffered bytes as views of the chunks they lie in (no copy). */
  #takeParts(n: number): Buffer[] {
    const parts: Buffer[] = [];
    while (n > 0) {
      const chunk = this.#chunks[this.#first]!;
      const k = Math.min(chunk.length - this.#offset, n);
      parts.push(chunk.subarray(this.#offset, this.#offset + k));
      this.#skip(k);
      n -= k;
    }
    return parts;
  }

  #skip(n: number): void {
    this.#buffered -= n;
    let left = n;
    while (left > 0) {
      const avail = this.#chunks[this.#first]!.length - this.#offset;
      if (left < avail) {
        this.#offset += left;
        return;
      }
      left -= avail;
      this.#chunks[this.#first] = EMPTY; // release the chunk now, not at compaction
      this.#first++;
      this.#offset = 0;
    }
    this.#compact();
  }

  #compact(): void {
    if (this.#first === this.#chunks.length) {
      this.#chunks = [];
      this.#first = 0;
    } else if (this.#first >= COMPACT_AFTER_CHUNKS && this.#first * 2 >= this.#chunks.length) {
      this.#chunks = this.#chunks.slice(this.#first);
      this.#first = 0;
    }
  }
}

function checkMaxFrameBytes(max: number): number {
  if (!Number.isInteger(max) || max < FRAME_PREFIX_BYTES || max > MAX_FRAME_LENGTH) {
    throw new InvalidArgumentError(
      'maxFrameBytes',
      `must be an integer in [${FRAME_PREFIX_BYTES}, ${MAX_FRAME_LENGTH}], got ${max}`,
    );
  }
  return max;
}

function checkFrameLength(length: number, maxFrameBytes: number): void {
  if (length < FRAME_PREFIX_BYTES) {
    throw new WireProtocolError(
      'MALFORMED_FRAME',
      `frameLength ${length} is shorter than the ${FRAME_PREFIX_BYTES}-byte prefix`,
      { field: 'frame.frameLength' },
    );
  }
  if (length > maxFrameBytes) {
    throw new WireProtocolError(
      'FRAME_TOO_LARGE',
      `frameLength ${length} exceeds maxFrameBytes ${maxFrameBytes}`,
      { field: 'frame.frameLength', context: { frameLength: length } },
    );
  }
}

/** Validates a frame's first 16 bytes (length field + prefix); returns frameLength. */
function checkFramePrefix(prefix: Buffer, maxFrameBytes: number): number {
  const length = prefix.readUInt32BE(0);
  checkFrameLength(length, maxFrameBytes);
  const type = prefix[4]!;
  if (!isFrameType(type)) {
    throw new WireProtocolError('MALFORMED_FRAME', `unknown frame type ${frameTypeName(type)}`, {
      field: 'frame.type',
    });
  }
  const headerLength = prefix.readUInt16BE(6);
  if (headerLength > length - FRAME_PREFIX_BYTES) {
    throw new WireProtocolError(
      'MALFORMED_FRAME',
      `headerLength ${headerLength} exceeds the ${length - FRAME_PREFIX_BYTES} bytes after the prefix`,
      { field: 'frame.headerLength' },
    );
  }
  return length;
}

/** Where a DirectFrameDecoder reads what is not a large frame's remainder. */
const SCRATCH_BYTES = 64 * 1024;

/**
 * A frame decoder for a socket that reads where it is told (net.Socket's `onread` with a
 * buffer supplier): each frame gets a Buffer of its own, exactly its size, and once a frame's
 * first bytes are known the socket reads the rest straight into it. So there is no Buffer per
 * read and no join of a large body (the client's 8 MiB chunks arrived as ~130 reads of 64 KiB,
 * then were copied once more into one Buffer). Reads between frames go to one reused scratch
 * buffer, and the frames in it are copied out. Checks and poisoning as FrameDecoder's.
 */
export class DirectFrameDecoder {
  readonly maxFrameBytes: number;
  readonly #scratch = Buffer.allocUnsafeSlow(SCRATCH_BYTES);
  /** A frame's first bytes (length field and prefix) while fewer than 16 have arrived. */
  readonly #prefix = Buffer.allocUnsafe(FRAME_OVERHEAD_BYTES);
  #prefixBytes = 0;
  /** The frame in progress after its length field: prefix, header and body. */
  #frame: Buffer | undefined;
  #filled = 0;
  #error: WireProtocolError | undefined;

  constructor(options: FrameDecoderOptions) {
    this.maxFrameBytes = checkMaxFrameBytes(options.maxFrameBytes);
  }

  /** Where the next read goes: the rest of the frame in progress, or the scratch buffer. */
  nextBuffer(): Buffer {
    const frame = this.#frame;
    return frame !== undefined && this.#error === undefined
      ? frame.subarray(this.#filled)
      : this.#scratch;
  }

  /**
   * `n` bytes were read into `buf` (what nextBuffer returned): every frame now complete, in
   * order. Throws WireProtocolError on the first invalid frame, and again on every later call.
   */
  filled(n: number, buf: Buffer): Frame[] {
    if (this.#error !== undefined) throw this.#error;
    try {
      if (buf === this.#scratch) return this.#split(n);
      this.#filled += n;
      return this.#filled === this.#frame!.length ? [this.#finish()] : [];
    } catch (err) {
      if (err instanceof WireProtocolError) this.#error = err;
      throw err;
    }
  }

  #split(n: number): Frame[] {
    const scratch = this.#scratch;
    const frames: Frame[] = [];
    let at = 0;
    while (at < n) {
      const frame = this.#frame;
      if (frame !== undefined) {
        const k = Math.min(n - at, frame.length - this.#filled);
        scratch.copy(frame, this.#filled, at, at + k);
        this.#filled += k;
        at += k;
        if (this.#filled === frame.length) frames.push(this.#finish());
        continue;
      }
      const k = Math.min(FRAME_OVERHEAD_BYTES - this.#prefixBytes, n - at);
      scratch.copy(this.#prefix, this.#prefixBytes, at, at + k);
      this.#prefixBytes += k;
      at += k;
      if (this.#prefixBytes < FRAME_OVERHEAD_BYTES) {
        // Refuse a bad length before the rest of the prefix arrives.
        if (this.#prefixBytes >= FRAME_LENGTH_FIELD_BYTES)
          checkFrameLength(this.#prefix.readUInt32BE(0), this.maxFrameBytes);
        break;
      }
      const length = checkFramePrefix(this.#prefix, this.maxFrameBytes);
      this.#frame = Buffer.allocUnsafe(length);
      this.#filled = this.#prefix.copy(this.#frame, 0, FRAME_LENGTH_FIELD_BYTES);
      this.#prefixBytes = 0;
      if (this.#filled === length) frames.push(this.#finish());
    }
    return frames;
  }

  #finish(): Frame {
    const frame = this.#frame!;
    this.#frame = undefined;
    const headerLength = frame.readUInt16BE(2);
    const bodyStart = FRAME_PREFIX_BYTES + headerLength;
    const body = bodyStart === frame.length ? [] : [frame.subarray(bodyStart)];
    return new DecodedFrame(frame.subarray(0, bodyStart), headerLength, body);
  }
}

class DecodedFrame implements Frame {
  readonly type: Frame['type'];
  readonly flags: number;
  readonly requestId: bigint;
  readonly header: Buffer;
  readonly bodyParts: readonly Buffer[];
  readonly bodyLength: number;
  #body: Buffer | undefined;

  /** `head` is the prefix and the header, contiguous. */
  constructor(head: Buffer, headerLength: number, bodyParts: Buffer[]) {
    this.type = head[0] as Frame['type'];
    this.flags = head[1]!;
    this.requestId = head.readBigUInt64BE(4);
    this.header = head.subarray(FRAME_PREFIX_BYTES, FRAME_PREFIX_BYTES + headerLength);
    this.bodyParts = bodyParts;
    this.bodyLength = partsLength(bodyParts);
  }

  get body(): Buffer {
    this.#body ??= this.bodyParts.length === 0 ? EMPTY : joinParts(this.bodyParts);
    return this.#body;
  }
}
