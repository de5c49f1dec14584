// Record framing inside a block (docs/client.md): records are length-prefixed so the reader gives
// back exactly the bytes each write() got.
//
//   block contents = record*      record = length:u32 (big-endian) bytes:u8[length]
import { InvalidArgumentError } from '../common/errors.js';

export const RECORD_PREFIX_BYTES = 4;
const MAX_RECORD_BYTES = 0xffff_ffff;

/** A growable buffer of length-prefixed records (one per partition inside a writer). */
export class RecordBuffer {
  #buf: Buffer;
  #length = 0;
  #records = 0;

  constructor(initialBytes = 4096) {
    this.#buf = Buffer.allocUnsafe(initialBytes);
  }

  get length(): number {
    return this.#length;
  }

  get records(): number {
    return this.#records;
  }

  /** Bytes of memory held, used or not. */
  get capacity(): number {
    return this.#buf.length;
  }

  /** Appends one record; returns the bytes added (prefix included). */
  append(record: Buffer | Uint8Array): number {
    const n = record.length;
    if (n > MAX_RECORD_BYTES) throw new InvalidArgumentError('record', `is larger than 4 GiB`);
    const need = this.#length + RECORD_PREFIX_BYTES + n;
    if (need > this.#buf.length) this.#grow(need);
    this.#buf.writeUInt32BE(n, this.#length);
    this.#buf.set(record, this.#length + RECORD_PREFIX_BYTES);
    this.#length = need;
    this.#records++;
    return RECORD_PREFIX_BYTES + n;
  }

  /** The framed records so far as a view; valid until the next append() or reset(). */
  view(): Buffer {
    return this.#buf.subarray(0, this.#length);
  }

  /** Empties the buffer. `keep` false hands the memory over (a view of it is still in use). */
  reset(keep: boolean): void {
    if (!keep) this.#buf = Buffer.allocUnsafe(Math.min(this.#buf.length, 64 * 1024));
    this.#length = 0;
    this.#records = 0;
  }

  #grow(need: number): void {
    let size = Math.max(this.#buf.length * 2, 64); // a 0-byte buffer would double to 0 forever
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.#buf.copy(next, 0, 0, this.#length);
    this.#buf = next;
  }
}

/** Frames records into one buffer (for engines that build blocks themselves, and tests). */
export function encodeRecords(records: readonly (Buffer | Uint8Array)[]): Buffer {
  const b = new RecordBuffer(records.reduce((n, r) => n + RECORD_PREFIX_BYTES + r.length, 0) || 1);
  for (const r of records) b.append(r);
  return Buffer.from(b.view());
}

/**
 * The records of a block's contents, as views of it. Throws when the framing is broken (the
 * block passed its CRC, so this is a writer bug, never silently truncated data).
 */
export function* decodeRecords(contents: Buffer): Generator<Buffer, void, undefined> {
  let at = 0;
  while (at < contents.length) {
    if (contents.length - at < RECORD_PREFIX_BYTES)
      throw new InvalidArgumentError(
        'block',
        `truncated record prefix at byte ${at} of ${contents.length}`,
      );
    const n = contents.readUInt32BE(at);
    const start = at + RECORD_PREFIX_BYTES;
    if (n > contents.length - start)
      throw new InvalidArgumentError(
        'block',
        `record of ${n} bytes at byte ${at} runs past the block (${contents.length})`,
      );
    yield contents.subarray(start, start + n);
    at = start + n;
  }
}

/** [start, end, records] runs of whole framed records of at most `max` bytes each. */
export function* recordRuns(view: Buffer, max: number): Generator<[number, number, number]> {
  let start = 0;
  let at = 0;
  let records = 0;
  while (at < view.length) {
    const next = at + RECORD_PREFIX_BYTES + view.readUInt32BE(at);
    if (at > start && next - start > max) {
      yield [start, at, records];
      start = at;
      records = 0;
    }
    at = next;
    records++;
  }
  if (at > start) yield [start, at, records];
}
