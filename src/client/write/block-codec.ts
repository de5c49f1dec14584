// Builds and opens blocks (design §5 "Block format") with lz4's block API (npm `lz4`,
// encodeBlock/decodeBlock: 0.4–0.6 GB/s compress, ~3 GB/s decompress per core here; its
// frame/stream API is 3–10× slower, bench/results/codec-*.json). Incompressible data is
// stored as it is (codec 0), so a block never grows beyond raw + 32 bytes.
import { createRequire } from 'node:module';
import {
  BlockCodec,
  blockCrc,
  encodeBlockHeader,
  type BlockHeader,
} from '../../common/wire/index.js';
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
    const fields = { ...meta, rawLength: raw.length, storedLength: stored.length, codec };
    const crc32 = blockCrc(fields, stored);
    return {
      header: encodeBlockHeader({ ...fields, crc32 }),
      stored,
      crc32,
      aliased: stored === raw,
    };
  }
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
