// The reader's data path (docs/architecture.md#reads-and-failover), apart from the choice of
// replica, the winners and the records: every chunk of an open stream fetched in order with a
// window of requests in flight, each checked to be the chunk asked for at its indexed length,
// and every block of it verified against its own CRC. PushReader reads through these two
// functions, and so does bench scenario 4 (bench/README.md), so the bench's read rate and
// CPU are the library's.
//
// Integrity: the block CRC (docs/protocol.md#block-format) is the end-to-end check, written by
// the mapper, verified by the worker on receipt and by the reader here, over every byte of
// every chunk (a chunk is whole blocks). A CHUNK frame carries no CRC of its own that anyone
// relies on (docs/protocol.md#data-plane-messages; measured in bench/README.md, "The chunk
// CRC"): it would be a second pass over the same bytes on both sides. What block CRCs cannot
// see is a chunk that is missing, cut at a block boundary or another chunk's valid blocks;
// checkedChunk catches those by identity and length.
import {
  BLOCK_HEADER_BYTES,
  decodeChunk,
  encodeFetchChunkFrame,
  readBlock,
  WireProtocolError,
  type Block,
  type Frame,
  type StreamHandle,
} from '../../common/wire/index.js';

/** What fetchChunks needs of a connection (DataConnection). */
export interface ChunkRequester {
  request(encode: (requestId: bigint) => Buffer[], timeoutMs: number): Promise<Frame>;
}

export interface FetchChunksOptions {
  /** FETCH_CHUNK requests in flight (the client's fetchWindow). */
  readonly window: number;
  readonly timeoutMs: number;
  /** Sends one request, e.g. again while the worker answers THROTTLED. Default: once. */
  readonly send?: (request: () => Promise<Frame>) => Promise<Frame>;
}

/**
 * The bodies of every chunk of `handle`'s stream, in order, each one the chunk asked for at
 * the length the handle indexed (CRC_MISMATCH otherwise). Stopping early leaves the fetches
 * in flight to settle unobserved; the caller closes the stream.
 */
export async function* fetchChunks(
  conn: ChunkRequester,
  handle: StreamHandle,
  opts: FetchChunksOptions,
): AsyncGenerator<Buffer, void, undefined> {
  const { streamId, chunkLengths } = handle;
  const send = opts.send ?? ((request: () => Promise<Frame>) => request());
  const fetch = (chunkIndex: number) =>
    quiet(
      send(() =>
        conn.request((id) => encodeFetchChunkFrame(id, { streamId, chunkIndex }), opts.timeoutMs),
      ).then((frame) => checkedChunk(frame, handle, chunkIndex)),
    );
  const count = chunkLengths.length;
  const window: Promise<Buffer>[] = [];
  let next = 0;
  while (next < count && window.length < opts.window) window.push(fetch(next++));
  for (let i = 0; i < count; i++) {
    const body = await window.shift()!;
    if (next < count) window.push(fetch(next++));
    yield body;
  }
}

/** The body of a CHUNK frame that answers chunk `chunkIndex` of `handle`'s stream. */
function checkedChunk(frame: Frame, handle: StreamHandle, chunkIndex: number): Buffer {
  // Header only: the frame's crc32 field is not checked (see the top of this file).
  const chunk = decodeChunk(frame.header);
  const length = handle.chunkLengths[chunkIndex];
  if (
    chunk.streamId !== handle.streamId ||
    chunk.chunkIndex !== chunkIndex ||
    frame.bodyLength !== length
  ) {
    throw new WireProtocolError(
      'CRC_MISMATCH',
      `CHUNK ${chunk.chunkIndex} of stream ${chunk.streamId} (${frame.bodyLength} bytes) answered chunk ${chunkIndex} of stream ${handle.streamId} (${length} bytes in the index)`,
    );
  }
  return frame.body;
}

/**
 * The blocks of a chunk body, each verified (readBlock: structure, bounds and CRC) before it
 * is yielded; the first bad one throws CorruptBlockError. `baseOffset` is the chunk's
 * position in its file, for errors.
 */
export function* verifiedBlocks(
  buf: Buffer,
  baseOffset: number,
): Generator<Block, void, undefined> {
  let at = 0;
  while (at < buf.length) {
    const block = readBlock(buf, at, baseOffset);
    at += BLOCK_HEADER_BYTES + block.header.storedLength;
    yield block;
  }
}

/** A fetch promise that never causes an unhandled rejection while it waits in the window. */
function quiet<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}
