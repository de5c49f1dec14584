// Reads committed chunks of a local disk's files for the read server (docs/architecture.md#worker). Where the filesystem accepts it,
// files are read with O_DIRECT into pooled 4 KiB-aligned buffers: the chunk's aligned
// superset is read (chunks start on block boundaries, not on 4 KiB ones) and the chunk is a
// view of it. That skips the page-cache copy and a fresh multi-MiB allocation per chunk,
// whose page faults and garbage collection were most of the read server's CPU (bench/README,
// scenario 4). A buffer goes back to the pool only when the socket has written it out.
// Elsewhere (tmpfs, worker.directIo=false) reads are buffered, with sequential read-ahead.
import { constants, promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { NativeOps } from '../../common/native.js';
import { WireProtocolError } from '../../common/wire/index.js';
import { ALIGNMENT, AlignedPool } from './aligned-pool.js';
import type { ChunkBytes } from './storage.js';
import { alignDown, alignUp } from './write-buffers.js';

export type { ChunkBytes };

export interface ChunkReaderOptions {
  readonly directIo: boolean;
  /** Idle buffer bytes kept for reuse. */
  readonly poolBytes: number;
  readonly native: NativeOps;
}

export interface ChunkFile {
  readonly path: string;
  readonly handle: FileHandle;
  readonly direct: boolean;
}

export class ChunkReader {
  readonly #opts: ChunkReaderOptions;
  readonly #pool: AlignedPool;
  #directWorks: boolean;

  constructor(opts: ChunkReaderOptions) {
    this.#opts = opts;
    this.#pool = new AlignedPool(opts.native, opts.poolBytes);
    this.#directWorks = opts.directIo;
  }

  async open(path: string): Promise<ChunkFile> {
    if (this.#directWorks) {
      try {
        const handle = await fsp.open(path, constants.O_RDONLY | constants.O_DIRECT);
        return { path, handle, direct: true };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
        this.#directWorks = false; // e.g. tmpfs: buffered reads from now on
      }
    }
    const handle = await fsp.open(path, 'r');
    // Chunks are read front to back: let the kernel read ahead aggressively (docs/architecture.md#worker).
    this.#opts.native.fadvise(handle.fd, 0, 0, 'sequential');
    return { path, handle, direct: false };
  }

  /** Bytes [position, position + length) of the file; CORRUPT_FILE if it is shorter. */
  async read(file: ChunkFile, position: number, length: number): Promise<ChunkBytes> {
    if (!file.direct) {
      const body = Buffer.allocUnsafe(length);
      await readFully(file, body, 0, length, position, length);
      return { body, release: () => undefined };
    }
    const start = alignDown(position);
    const size = alignUp(position + length) - start;
    const buf = this.#pool.take(size);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.#pool.give(buf);
    };
    try {
      // The file's last block is short on disk: a read ending at EOF returns fewer bytes.
      await readFully(file, buf, 0, size, start, position + length - start);
    } catch (err) {
      release();
      throw err;
    }
    return { body: buf.subarray(position - start, position - start + length), release };
  }
}

/** Reads until at least `need` bytes of [position, +length) are in `buf` at `offset`. */
async function readFully(
  file: ChunkFile,
  buf: Buffer,
  offset: number,
  length: number,
  position: number,
  need: number,
): Promise<void> {
  let done = 0;
  while (done < need) {
    const { bytesRead } = await file.handle.read(
      buf,
      offset + done,
      length - done,
      position + done,
    );
    done += bytesRead;
    // EOF, or (O_DIRECT) a short read that leaves the next read unaligned: the file ends here.
    if (done < need && (bytesRead === 0 || (file.direct && done % ALIGNMENT !== 0))) {
      throw new WireProtocolError('CORRUPT_FILE', `${file.path} is shorter than its index`);
    }
  }
}
