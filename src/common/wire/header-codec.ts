// Cursor helpers shared by the message codecs (messages.ts, stream-messages.ts). All fields are
// big-endian. The reader turns every short read or leftover byte into a MALFORMED_FRAME error
// naming the message and field, so decoders state their layout once and never index by hand.
// The writer checks each value fits its field and raises InvalidArgumentError otherwise: a bad
// value handed to an encoder is the caller's bug, not a peer's.
import { InvalidArgumentError, SluiceError } from '../errors.js';
import { type AppId, type ShuffleId, parseAppId, parseShuffleId } from '../ids.js';
import { MAX_HEADER_BYTES } from './frame.js';
import { WireProtocolError } from './wire-error.js';

const MAX_U64 = (1n << 64n) - 1n;

export class HeaderReader {
  readonly #message: string;
  readonly #buf: Buffer;
  #pos = 0;

  constructor(message: string, buf: Buffer) {
    this.#message = message;
    this.#buf = buf;
  }

  get remaining(): number {
    return this.#buf.length - this.#pos;
  }

  /** A MALFORMED_FRAME error for `field` of this message. */
  malformed(field: string, message: string): WireProtocolError {
    return new WireProtocolError('MALFORMED_FRAME', `${this.#message}.${field}: ${message}`, {
      field: `${this.#message}.${field}`,
    });
  }

  u8(field: string): number {
    return this.#at(field, 1).readUInt8(0);
  }

  u16(field: string): number {
    return this.#at(field, 2).readUInt16BE(0);
  }

  u32(field: string): number {
    return this.#at(field, 4).readUInt32BE(0);
  }

  u64(field: string): bigint {
    return this.#at(field, 8).readBigUInt64BE(0);
  }

  /** A u64 that must fit a JS number exactly (byte counts, offsets). */
  u64Number(field: string): number {
    const value = this.u64(field);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw this.malformed(field, `${value} exceeds ${Number.MAX_SAFE_INTEGER}`);
    }
    return Number(value);
  }

  /** A view of the next n bytes (not copied). */
  bytes(field: string, n: number): Buffer {
    return this.#at(field, n);
  }

  /** `u16 appIdLen | appId (ASCII)`, held to the id rules of ids.ts (ids become paths). */
  appId(): AppId {
    const raw = this.bytes('appId', this.u16('appIdLen'));
    try {
      return parseAppId(raw.toString('latin1'), `${this.#message}.appId`);
    } catch (err) {
      throw this.#invalid('appId', err);
    }
  }

  /** A u32 that must also be a valid ShuffleId (ids.ts). */
  shuffleId(): ShuffleId {
    const value = this.u32('shuffleId');
    try {
      return parseShuffleId(value, `${this.#message}.shuffleId`);
    } catch (err) {
      throw this.#invalid('shuffleId', err);
    }
  }

  /** Throws when bytes are left over: a header must be exactly as long as its fields. */
  end(): void {
    if (this.remaining !== 0) {
      throw this.malformed('end', `${this.remaining} trailing bytes after the last field`);
    }
  }

  #invalid(field: string, err: unknown): WireProtocolError {
    const detail = err instanceof Error ? err.message : String(err);
    return new WireProtocolError('MALFORMED_FRAME', detail, {
      field: `${this.#message}.${field}`,
      cause: err,
    });
  }

  #at(field: string, n: number): Buffer {
    if (n > this.remaining) {
      throw this.malformed(
        field,
        `truncated: needs ${n} bytes at offset ${this.#pos}, header has ${this.remaining} left`,
      );
    }
    const view = this.#buf.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return view;
  }
}

/** Bytes of the `u16 appIdLen | appId` field (ids are ASCII; a non-string fails in appId()). */
export function appIdFieldBytes(appId: string): number {
  return 2 + (typeof appId === 'string' ? appId.length : 0);
}

export class HeaderWriter {
  readonly #message: string;
  readonly #buf: Buffer;
  #pos = 0;

  /** `size` must be the exact header size; finish() checks every byte was written. */
  constructor(message: string, size: number) {
    if (size > MAX_HEADER_BYTES) {
      throw new InvalidArgumentError(
        message,
        `header of ${size} bytes exceeds the u16 headerLength (${MAX_HEADER_BYTES}); send fewer entries per frame`,
      );
    }
    this.#message = message;
    this.#buf = Buffer.alloc(size);
  }

  u8(field: string, value: number): this {
    this.#check(field, value, 0xff);
    this.#pos = this.#buf.writeUInt8(value, this.#pos);
    return this;
  }

  u16(field: string, value: number): this {
    this.#check(field, value, 0xffff);
    this.#pos = this.#buf.writeUInt16BE(value, this.#pos);
    return this;
  }

  u32(field: string, value: number): this {
    this.#check(field, value, 0xffff_ffff);
    this.#pos = this.#buf.writeUInt32BE(value, this.#pos);
    return this;
  }

  u64(field: string, value: bigint): this {
    if (typeof value !== 'bigint' || value < 0n || value > MAX_U64) {
      throw new InvalidArgumentError(
        `${this.#message}.${field}`,
        `must be a u64 bigint, got ${String(value)}`,
      );
    }
    this.#pos = this.#buf.writeBigUInt64BE(value, this.#pos);
    return this;
  }

  /** A byte count or offset held as a number, written as u64. */
  u64Number(field: string, value: number): this {
    this.#check(field, value, Number.MAX_SAFE_INTEGER);
    return this.u64(field, BigInt(value));
  }

  /** `u16 appIdLen | appId (ASCII)`; the id must pass the rules of ids.ts. */
  appId(value: string): this {
    const id = parseAppId(value, `${this.#message}.appId`);
    this.u16('appIdLen', id.length);
    return this.bytes(Buffer.from(id, 'latin1'));
  }

  shuffleId(value: number): this {
    return this.u32('shuffleId', parseShuffleId(value, `${this.#message}.shuffleId`));
  }

  bytes(value: Buffer): this {
    this.#pos += value.copy(this.#buf, this.#pos);
    return this;
  }

  finish(): Buffer {
    if (this.#pos !== this.#buf.length) {
      throw new SluiceError(
        'SLUICE_ERR_INTERNAL',
        `${this.#message}: wrote ${this.#pos} of ${this.#buf.length} header bytes`,
      );
    }
    return this.#buf;
  }

  #check(field: string, value: number, max: number): void {
    if (!Number.isInteger(value) || value < 0 || value > max) {
      throw new InvalidArgumentError(
        `${this.#message}.${field}`,
        `must be an integer in [0, ${max}], got ${value}`,
      );
    }
  }
}
