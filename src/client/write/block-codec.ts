// Builds and opens blocks (docs/protocol.md#block-format) with lz4's block API (npm `lz4`,
// encodeBlock/decodeBlock: 0.4–0.6 GB/s compress, ~3 GB/s decompress per core here; its
// frame/stream API is 3–10× slower, bench/results/codec-*.json). Incompressible data is
// stored as it is (codec 0), so a block never grows beyond raw + 32 bytes.
import { createRequire } from 'node:module';
import {
  BLOCK_HEADER_BYTES,
  BlockCodec,
  encodeBlockHeader,
  encodeBlockHeaderInto,
  type BlockHeader,
} from '../../common/wire/index.js';
import { crc32 } from '../../common/wire/crc.js';
import { InvalidArgumentError } from '../../common/errors.js';
import type { Compression } from '../options.js';
import type * as Lz4 from 'lz4';

// lz4 is CommonJS; require() gets its exports object as the package defines it.
const lz4 = createRequire(import.meta.url)('lz4') as typeof Lz4;

export interface EncodedBlock {
  readonly header: Buffer;
  readonly stored: Buffer;
  /** The block's CRC (header field): over header bytes 4..27 and the stored bytes. */
  readonly crc32: number;
}

/**
 * The block CRC is the header's last field and covers header bytes 4 up to it, then the stored
 * bytes (src/common/wire/block.ts): one running CRC over both, written into the header once,
 * costs a third of blockCrc() + a second encodeBlockHeader() per block (crc32Combine and two
 * header encodes were ~9 of the ~13 us a 10 KiB block took, bench scenario 5).
 */
const CRC_AT = BLOCK_HEADER_BYTES - 4;

export class BlockEncoder {
  readonly #compression: Compression;
  #scratch = Buffer.alloc(0);

  constructor(compression: Compression) {
    this.#compression = compression;
  }

  /**
   * One block of `raw`. The stored bytes never alias `raw` when compressed; when stored as
   * is they do, and `aliased` says so (the caller must not reuse raw's memory).
   */
  encode(
    meta: { mapId: number; attemptId: number; batchId: number },
    raw: Buffer,
  ): EncodedBlock & { aliased: boolean } {
    let stored = raw;
    let codec: BlockHeader['codec'] = BlockCodec.NONE;
    if (this.#compression === 'lz4' && raw.length > 0) {
      const bound = lz4.encodeBound(raw.length);
      if (this.#scratch.length < bound) this.#scratch = Buffer.allocUnsafe(bound);
      const n = lz4.encodeBlock(raw, this.#scratch);
      // 0 means incompressible; keep lz4 only when it saves something.
      if (n > 0 && n < raw.length) {
        stored = Buffer.allocUnsafe(n);
        this.#scratch.copy(stored, 0, 0, n);
        codec = BlockCodec.LZ4;
      }
    }
    const header = encodeBlockHeader({
      mapId: meta.mapId,
      attemptId: meta.attemptId,
      batchId: meta.batchId,
      rawLength: raw.length,
      storedLength: stored.length,
      codec,
      crc32: 0,
    });
    return { header, stored, crc32: sealHeader(header, stored), aliased: stored === raw };
  }

  /** The most bytes encodeInto() writes for `rawLength` raw bytes (header included). */
  bound(rawLength: number): number {
    const stored =
      this.#compression === 'lz4' && rawLength > 0
        ? Math.max(rawLength, lz4.encodeBound(rawLength))
        : rawLength;
    return BLOCK_HEADER_BYTES + stored;
  }

  /**
   * One block of `raw` written into `out` at `at`: bound(raw.length) bytes must fit there, and
   * all of them may be written (lz4 tries in place). Header and stored bytes are views of
   * `out`; raw's memory is free again when this returns.
   */
  encodeInto(
    meta: { mapId: number; attemptId: number; batchId: number },
    raw: Buffer,
    out: Buffer,
    at: number,
  ): EncodedBlock {
    const start = at + BLOCK_HEADER_BYTES;
    let storedLength = 0;
    let codec: BlockHeader['codec'] = BlockCodec.NONE;
    if (this.#compression === 'lz4' && raw.length > 0) {
      const bound = lz4.encodeBound(raw.length);
      const n = lz4.encodeBlock(raw, out.subarray(start, start + bound));
      // 0 means incompressible; keep lz4 only when it saves something.
      if (n > 0 && n < raw.length) {
        storedLength = n;
        codec = BlockCodec.LZ4;
      }
    }
    if (codec === BlockCodec.NONE) storedLength = raw.copy(out, start);
    // Fields named one by one: spreading `meta` into a literal with more fields took V8 about
    // 4 us here against 18 ns (micro-benchmark), once per block.
    const fields = {
      mapId: meta.mapId,
      attemptId: meta.attemptId,
      batchId: meta.batchId,
      rawLength: raw.length,
      storedLength,
      codec,
      crc32: 0,
    };
    encodeBlockHeaderInto(fields, out, at);
    const header = out.subarray(at, start);
    const stored = out.subarray(start, start + storedLength);
    return { header, stored, crc32: sealHeader(header, stored) };
  }
}

/** Computes the block CRC of a header whose CRC field is still 0, writes it there, returns it. */
function sealHeader(header: Buffer, stored: Buffer): number {
  const crc = crc32(stored, crc32(header.subarray(4, CRC_AT)));
  header.writeUInt32BE(crc, CRC_AT);
  return crc;
}

/** The raw contents of a verified block. Throws InvalidArgumentError if lz4 data is bad. */
export function decodeBlockContents(header: BlockHeader, stored: Buffer): Buffer {
  if (header.codec === BlockCodec.NONE) return stored;
  const out = Buffer.allocUnsafe(header.rawLength);
  const n = header.rawLength === 0 ? 0 : lz4.decodeBlock(stored, out);
  if (n !== header.rawLength)
    throw new InvalidArgumentError(
      'block',
      `lz4 data decodes to ${n} bytes, header says ${header.rawLength}`,
    );
  return out;
}
