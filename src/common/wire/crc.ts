// CRC-32 (the zlib/IEEE polynomial, as in .index files) for blocks and CHUNK frames. Node has
// had zlib.crc32 since 20.15; an older runtime fails here, at load, with a clear message rather
// than with "crc32 is not a function" on the first push.
import * as zlib from 'node:zlib';
import { SluiceError } from '../errors.js';

if (typeof zlib.crc32 !== 'function') {
  throw new SluiceError(
    'SLUICE_ERR_UNSUPPORTED',
    `node:zlib has no crc32 in Node ${process.versions.node}: Sluice needs Node 20.15 or later`,
  );
}

/** CRC-32 of `data`, continuing from `previous` when the data arrives in parts. */
export function crc32(data: Buffer, previous = 0): number {
  return zlib.crc32(data, previous);
}
