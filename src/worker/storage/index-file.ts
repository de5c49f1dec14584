// The `.index` file written at commit (docs/architecture.md#on-disk-layout-and-index-format), big-endian:
//
//   u32 magic 'SLI1' | u32 version (1) | u64 fileLength | u32 fileCrc32 | u32 chunkCount
//   | chunkCount x u64 chunkStart | u32 crc32(every preceding byte of the index)
//
// Chunk i is [chunkStart[i], chunkStart[i+1]) and the last one ends at fileLength. Chunk
// starts are block boundaries, so a reader can verify and decode each chunk on its own.
// An index is trusted only in a shuffle directory with its COMMITTED marker, written after
// every index of the commit (writeIndexFile).
import { open, readFile } from 'node:fs/promises';
import { crc32 } from '../../common/wire/crc.js';

export const INDEX_MAGIC = 0x534c4931; // 'SLI1'
export const INDEX_VERSION = 1;
const FIXED = 4 + 4 + 8 + 4 + 4;

export interface PartitionIndex {
  readonly fileLength: number;
  readonly fileCrc32: number;
  /** Start offset of every chunk; the first is 0 (when the file is not empty). */
  readonly chunkStarts: readonly number[];
}

export class IndexFormatError extends Error {
  override readonly name = 'IndexFormatError';
}

export function chunkLengths(index: PartitionIndex): number[] {
  const s = index.chunkStarts;
  return s.map((start, i) => (i + 1 < s.length ? s[i + 1]! : index.fileLength) - start);
}

export function encodeIndex(index: PartitionIndex): Buffer {
  const n = index.chunkStarts.length;
  const buf = Buffer.alloc(FIXED + n * 8 + 4);
  buf.writeUInt32BE(INDEX_MAGIC, 0);
  buf.writeUInt32BE(INDEX_VERSION, 4);
  buf.writeBigUInt64BE(BigInt(index.fileLength), 8);
  buf.writeUInt32BE(index.fileCrc32 >>> 0, 16);
  buf.writeUInt32BE(n, 20);
  index.chunkStarts.forEach((start, i) => buf.writeBigUInt64BE(BigInt(start), FIXED + i * 8));
  buf.writeUInt32BE(crc32(buf.subarray(0, FIXED + n * 8)), FIXED + n * 8);
  return buf;
}

export function decodeIndex(buf: Buffer): PartitionIndex {
  if (buf.length < FIXED + 4)
    throw new IndexFormatError(`index is ${buf.length} bytes, shorter than its header`);
  if (buf.readUInt32BE(0) !== INDEX_MAGIC) throw new IndexFormatError('index has a wrong magic');
  if (buf.readUInt32BE(4) !== INDEX_VERSION)
    throw new IndexFormatError(`index version ${buf.readUInt32BE(4)} is not supported`);
  const n = buf.readUInt32BE(20);
  if (buf.length !== FIXED + n * 8 + 4)
    throw new IndexFormatError(`index length ${buf.length} does not match ${n} chunks`);
  if (crc32(buf.subarray(0, FIXED + n * 8)) !== buf.readUInt32BE(FIXED + n * 8)) {
    throw new IndexFormatError('index checksum mismatch');
  }
  const fileLength = safeNumber(buf.readBigUInt64BE(8), 'file length');
  const chunkStarts: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = safeNumber(buf.readBigUInt64BE(FIXED + i * 8), `chunk ${i} start`);
    const prev = i === 0 ? -1 : chunkStarts[i - 1]!;
    if (start <= prev || start >= fileLength || (i === 0 && start !== 0)) {
      throw new IndexFormatError(
        `index chunk ${i} starts at ${start}, out of order or past the file`,
      );
    }
    chunkStarts.push(start);
  }
  if ((n === 0) !== (fileLength === 0))
    throw new IndexFormatError('index chunks do not cover the file');
  return { fileLength, fileCrc32: buf.readUInt32BE(16), chunkStarts };
}

/**
 * Writes the index (and fsyncs it with `fsync`). No temp file and rename, and no fsync of the
 * directory: an index counts only once the shuffle's COMMITTED marker is written, after every
 * index of the commit, and the marker's write fsyncs the directory (local-disk.ts #mark). A
 * crash before the marker leaves a shuffle that is not committed whatever its indexes say,
 * and a torn index fails its checksum. (The rename and the directory fsync were 2 of the 6
 * file-system calls per partition at commit, and a directory fsync per file.)
 */
export async function writeIndexFile(
  path: string,
  index: PartitionIndex,
  fsync: boolean,
): Promise<void> {
  const fh = await open(path, 'w');
  try {
    await fh.writeFile(encodeIndex(index));
    if (fsync) await fh.sync();
  } finally {
    await fh.close();
  }
}

export async function readIndexFile(path: string): Promise<PartitionIndex> {
  return decodeIndex(await readFile(path));
}

function safeNumber(value: bigint, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER))
    throw new IndexFormatError(`index ${what} ${value} is out of range`);
  return Number(value);
}
