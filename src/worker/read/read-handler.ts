// The read server (docs/architecture.md#worker): OPEN_STREAM -> STREAM_HANDLE (chunk count and sizes from the
// index), FETCH_CHUNK -> CHUNK read from the file's storage in one large read, sent without a CRC of its own
// (blocks carry theirs; encodeChunkFrame in stream-messages.ts has the measurement). Several
// chunks may be in flight per stream; reads per connection are bounded by a window so a
// client asking for everything at once cannot make the worker read everything into memory.
// Every OPEN_STREAM and FETCH_CHUNK first passes FetchAdmission (docs/architecture.md#request-throttling):
// a refused one is answered THROTTLED; an admitted chunk's ticket is done once its response was sent.
// Open streams are bounded per connection (MAX_STREAMS_PER_CONNECTION) and for the whole worker
// (OpenStreams, worker.maxOpenStreams): each holds an open file. Past either, and when the
// process is out of file descriptors, OPEN_STREAM is answered THROTTLED (readers back off).
import { setTimeout as sleep } from 'node:timers/promises';
import { Slots } from '../../common/flow/slots.js';
import { chunkLengths } from '../storage/index-file.js';
import type { FetchAdmission } from '../../common/flow/fetch-admission.js';
import type { OpenStreams } from './open-streams.js';
import type { CommittedFile, PartitionStore } from '../storage/partition-store.js';
import type { ReadableFile } from '../storage/storage.js';
import {
  decodeCloseStream,
  decodeFetchChunk,
  decodeOpenStream,
  WireProtocolError,
  type StreamHandle,
} from '../../common/wire/index.js';

const MAX_STREAMS_PER_CONNECTION = 4096;

interface Stream {
  readonly file: CommittedFile;
  readonly input: ReadableFile;
  readonly lengths: readonly number[];
}

export interface ReadHandlerOptions {
  readonly store: PartitionStore;
  /** worker.fetchWindow: chunk reads in flight for this connection. */
  readonly fetchWindow: number;
  readonly fetchAdmission?: FetchAdmission;
  /** Fault injection (test.fetchDelayMs): a slow disk for reads. */
  readonly fetchDelayMs?: number;
  /** The worker's budget of open streams, shared by every connection. */
  readonly openStreams?: OpenStreams;
}

export class ReadHandler {
  readonly #store: PartitionStore;
  readonly #streams = new Map<bigint, Stream>();
  readonly #admission: FetchAdmission | undefined;
  readonly #budget: OpenStreams | undefined;
  readonly #delayMs: number;
  readonly #slots: Slots;
  #nextId = 1n;
  #closed = false;

  constructor(opts: ReadHandlerOptions) {
    this.#store = opts.store;
    this.#slots = new Slots(opts.fetchWindow);
    this.#admission = opts.fetchAdmission;
    this.#budget = opts.openStreams;
    this.#delayMs = opts.fetchDelayMs ?? 0;
  }

  /** `authorize` throws (UNAUTHORIZED) unless the connection may read the app's data. */
  async open(
    header: Buffer,
    authorize: (appId: string) => void = () => undefined,
  ): Promise<StreamHandle> {
    const msg = decodeOpenStream(header);
    authorize(msg.appId);
    this.#admission?.admit(msg.appId, 'open');
    const key = {
      appId: msg.appId,
      shuffleId: msg.shuffleId,
      partition: msg.partition,
      epoch: msg.epoch,
    };
    const file = this.#store.committedFile(key);
    if (!file) {
      // Until a commit has finished, a missing file may still appear: NOT_COMMITTED (retry
      // later); after it, the file does not exist on this worker: NOT_FOUND.
      const done = this.#store.isCommitDone(msg.appId, msg.shuffleId);
      throw new WireProtocolError(
        done ? 'NOT_FOUND' : 'NOT_COMMITTED',
        `${msg.appId}/${msg.shuffleId} partition ${msg.partition} epoch ${msg.epoch} ${done ? 'has no file on this worker' : 'is not committed on this worker'}`,
      );
    }
    const lengths = chunkLengths(file.index);
    if (
      msg.startChunk > lengths.length ||
      (lengths.length > 0 && msg.startChunk === lengths.length)
    ) {
      throw new WireProtocolError(
        'NOT_FOUND',
        `start chunk ${msg.startChunk} is past the file's ${lengths.length} chunks`,
      );
    }
    if (this.#streams.size >= MAX_STREAMS_PER_CONNECTION) {
      throw new WireProtocolError(
        'THROTTLED',
        `at most ${MAX_STREAMS_PER_CONNECTION} open streams per connection`,
      );
    }
    this.#budget?.take();
    let handle: ReadableFile;
    try {
      handle = await this.#store.openRead(file).catch(outOfDescriptors);
      if (this.#closed) {
        await handle.close();
        throw new WireProtocolError('NOT_FOUND', 'connection closed');
      }
    } catch (err) {
      this.#budget?.release();
      throw err;
    }
    const streamId = this.#nextId++;
    this.#streams.set(streamId, { file, input: handle, lengths });
    return {
      streamId,
      fileLength: file.index.fileLength,
      fileCrc32: file.index.fileCrc32,
      chunkLengths: lengths,
    };
  }

  /**
   * Reads one chunk and hands it to `deliver`; the read slot is held until `deliver`
   * resolves (the socket took the bytes), so a peer that does not read cannot make the
   * worker read and queue chunk after chunk. `deliver` must call `release` once the socket
   * has written `body` out (the buffer is then reused).
   */
  async fetch(
    header: Buffer,
    deliver: (chunk: {
      streamId: bigint;
      chunkIndex: number;
      body: Buffer;
      release: () => void;
    }) => Promise<void>,
  ): Promise<number> {
    const { streamId, chunkIndex } = decodeFetchChunk(header);
    const stream = this.#streams.get(streamId);
    if (!stream) throw new WireProtocolError('NOT_FOUND', `stream ${streamId} is not open`);
    const length = stream.lengths[chunkIndex];
    if (length === undefined)
      throw new WireProtocolError(
        'NOT_FOUND',
        `chunk ${chunkIndex} of stream ${streamId} does not exist`,
      );
    const appId = stream.file.appId;
    const ticket = this.#admission?.admit(appId, 'chunk');
    try {
      return await this.#read(stream, streamId, chunkIndex, length, deliver);
    } finally {
      ticket?.done();
    }
  }

  async #read(
    stream: Stream,
    streamId: bigint,
    chunkIndex: number,
    length: number,
    deliver: Parameters<ReadHandler['fetch']>[1],
  ): Promise<number> {
    await this.#slots.take();
    try {
      if (this.#delayMs > 0) await sleep(this.#delayMs);
      const position = stream.file.index.chunkStarts[chunkIndex]!;
      const { body, release } = await stream.input.read(position, length);
      try {
        await deliver({ streamId, chunkIndex, body, release });
      } catch (err) {
        release();
        throw err;
      }
      return length;
    } finally {
      this.#slots.release();
    }
  }

  async closeStream(header: Buffer): Promise<void> {
    const { streamId } = decodeCloseStream(header);
    const stream = this.#streams.get(streamId);
    if (!stream) return;
    this.#streams.delete(streamId);
    this.#budget?.release();
    await stream.input.close();
  }

  /** Closes every stream of the connection. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    const streams = [...this.#streams.values()];
    this.#streams.clear();
    for (let i = 0; i < streams.length; i++) this.#budget?.release();
    await Promise.all(streams.map((s) => s.input.close().catch(() => undefined)));
  }
}

/**
 * The process (EMFILE) or the system (ENFILE) is out of file descriptors: not this file's fault
 * nor the storage's, and it passes; the reader backs off and asks again.
 */
function outOfDescriptors(err: unknown): never {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (code === 'EMFILE' || code === 'ENFILE')
    throw new WireProtocolError('THROTTLED', `the worker is out of file descriptors (${code})`);
  throw err;
}
