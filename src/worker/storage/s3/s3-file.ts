// A partition file on S3 (s3-storage.ts): one object, written as a multipart upload whose
// parts are the file's writes. The storage's write alignment and buffer size are both the
// part size, so every write but the last is exactly one part, at part number
// position / partBytes + 1; parts of one file upload concurrently (up to the storage's
// writesInFlight). The upload is created by the first write: a file that gets none is a plain
// empty object at commit.
//
//   file:   [ part 1 ][ part 2 ][ part 3 ][ last ]      (each part partBytes, last <= partBytes)
//
// commit() completes the upload, checks the object's size with HeadObject (RGW answers
// CompleteMultipartUpload with an empty ETag, so the answer proves nothing), then writes the
// index object: a file is served only when its index exists, and the index is written last.
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { SluiceError } from '../../../common/errors.js';
import type { Logger } from '../../../common/obs/logger.js';
import { WireProtocolError } from '../../../common/wire/index.js';
import { partsLength, sliceParts } from '../../../common/wire/parts.js';
import { encodeIndex, type PartitionIndex } from '../index-file.js';
import type { ChunkBytes, ReadableFile, WritableFile } from '../storage.js';
import type { S3Requests } from './s3-requests.js';

/** S3 numbers parts 1..10000. */
export const MAX_PARTS = 10_000;

/** What a file needs from its storage. */
export interface S3FileHost {
  readonly requests: S3Requests;
  readonly partBytes: number;
  readonly logger: Logger;
  /** Runs `upload` on one of the storage's write slots, `bytes` counted as queued meanwhile. */
  inSlot<T>(bytes: number, upload: () => Promise<T>): Promise<T>;
}

export interface S3FileKeys {
  readonly data: string;
  readonly index: string;
}

const NOTHING = () => undefined;

function contractError(location: string, message: string): SluiceError {
  return new SluiceError('SLUICE_ERR_INTERNAL', `${location}: ${message}`);
}

export class S3WritableFile implements WritableFile {
  readonly location: string;
  readonly #host: S3FileHost;
  readonly #keys: S3FileKeys;
  #uploadId: Promise<string> | undefined;
  /** Where the next write must start. */
  #next = 0;
  /** A write shorter than a part was the file's last. */
  #ended = false;
  /** ETag of part n at [n - 1]. */
  readonly #etags: string[] = [];
  readonly #writes = new Set<Promise<void>>();
  #error: Error | undefined;
  #state: 'open' | 'committing' | 'committed' | 'aborted' = 'open';
  #aborting: Promise<void> | undefined;

  constructor(host: S3FileHost, keys: S3FileKeys, location: string) {
    this.#host = host;
    this.#keys = keys;
    this.location = location;
  }

  write(bufs: readonly Buffer[], length: number, position: number): Promise<void> {
    let part: number;
    try {
      part = this.#checkWrite(bufs, length, position);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    this.#next += length;
    if (length < this.#host.partBytes) this.#ended = true;
    // A full part is one pooled buffer; only a last, short write comes in several (one copy).
    const body =
      bufs.length === 1 ? bufs[0]!.subarray(0, length) : Buffer.concat(sliceParts(bufs, 0, length));
    const write = this.#uploadPart(part, body).catch((err: Error) => {
      this.#error ??= err;
      throw err;
    });
    const forget = () => this.#writes.delete(write);
    this.#writes.add(write);
    write.then(forget, forget);
    return write;
  }

  async commit(index: PartitionIndex, _fsync: boolean): Promise<void> {
    if (this.#state !== 'open')
      throw contractError(this.location, `commit of a file that is ${this.#state}`);
    this.#state = 'committing';
    await Promise.allSettled(this.#writes);
    if (this.#error) throw this.#error;
    if (index.fileLength !== this.#next) {
      throw contractError(
        this.location,
        `commit of ${index.fileLength} bytes, but ${this.#next} were written`,
      );
    }
    const { requests } = this.#host;
    const [Bucket, Key] = [requests.bucket, this.#keys.data];
    if (this.#next === 0) {
      await requests.run(`PutObject ${this.location}`, (abortSignal) =>
        requests.client.send(new PutObjectCommand({ Bucket, Key, Body: Buffer.alloc(0) }), {
          abortSignal,
        }),
      );
    } else {
      const UploadId = await this.#upload();
      const Parts = this.#etags.map((ETag, i) => ({ PartNumber: i + 1, ETag }));
      await requests.run(`CompleteMultipartUpload ${this.location}`, (abortSignal) =>
        requests.client.send(
          new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts } }),
          { abortSignal },
        ),
      );
    }
    const head = await requests.run(`HeadObject ${this.location}`, (abortSignal) =>
      requests.client.send(new HeadObjectCommand({ Bucket, Key }), { abortSignal }),
    );
    if (head.ContentLength !== index.fileLength) {
      throw new SluiceError(
        'SLUICE_ERR_WORKER_STORAGE',
        `${this.location} is ${head.ContentLength} bytes after its upload, not ${index.fileLength}`,
      );
    }
    await requests.run(`PutObject ${this.location} index`, (abortSignal) =>
      requests.client.send(
        new PutObjectCommand({ Bucket, Key: this.#keys.index, Body: encodeIndex(index) }),
        { abortSignal },
      ),
    );
    this.#state = 'committed';
  }

  /** Aborts the upload and deletes what a commit may have made; never rejects. */
  abort(): Promise<void> {
    this.#aborting ??= this.#abort();
    return this.#aborting;
  }

  async #abort(): Promise<void> {
    const was = this.#state;
    this.#state = 'aborted';
    const { requests } = this.#host;
    const Bucket = requests.bucket;
    try {
      const UploadId = await this.#uploadId?.catch(NOTHING);
      if (UploadId !== undefined) {
        await requests
          .run(`AbortMultipartUpload ${this.location}`, (abortSignal) =>
            requests.client.send(
              new AbortMultipartUploadCommand({ Bucket, Key: this.#keys.data, UploadId }),
              { abortSignal },
            ),
          )
          .catch((err: unknown) => {
            if ((err as SluiceError).code !== 'SLUICE_ERR_NOT_FOUND') throw err;
          });
      }
      if (was === 'committing' || was === 'committed') {
        for (const Key of [this.#keys.index, this.#keys.data]) {
          await requests.run(`DeleteObject s3://${Bucket}/${Key}`, (abortSignal) =>
            requests.client.send(new DeleteObjectCommand({ Bucket, Key }), { abortSignal }),
          );
        }
      }
    } catch (err) {
      this.#host.logger.warn(
        { err, location: this.location },
        'could not remove an abandoned file from S3; deleting its shuffle removes it',
      );
    }
  }

  /** The part number of a write that keeps the contract (storage.ts), else throws. */
  #checkWrite(bufs: readonly Buffer[], length: number, position: number): number {
    const partBytes = this.#host.partBytes;
    if (this.#state !== 'open')
      throw contractError(this.location, `write to a file that is ${this.#state}`);
    if (this.#error) throw this.#error;
    if (!Number.isSafeInteger(length) || length <= 0 || length > partBytes)
      throw contractError(this.location, `write of ${length} bytes (1..${partBytes} allowed)`);
    if (position !== this.#next)
      throw contractError(
        this.location,
        `write at ${position}, but the file ends at ${this.#next}`,
      );
    if (this.#ended)
      throw contractError(this.location, `write after a short one (${position} is not a part end)`);
    if (partsLength(bufs) < length)
      throw contractError(this.location, `write of ${length} bytes from ${partsLength(bufs)}`);
    const part = position / partBytes + 1;
    if (part > MAX_PARTS) {
      throw new SluiceError(
        'SLUICE_ERR_WORKER_STORAGE',
        `${this.location}: more than ${MAX_PARTS} parts of ${partBytes} bytes ` +
          '(S3 allows no more); raise storage.s3.partBytes',
      );
    }
    return part;
  }

  async #uploadPart(PartNumber: number, Body: Buffer): Promise<void> {
    const { requests } = this.#host;
    const etag = await this.#host.inSlot(Body.length, async () => {
      const UploadId = await this.#upload();
      if (this.#state === 'aborted') throw contractError(this.location, 'write after abort');
      return requests.run(`UploadPart ${this.location} part ${PartNumber}`, async (abortSignal) => {
        const out = await requests.client.send(
          new UploadPartCommand({
            Bucket: requests.bucket,
            Key: this.#keys.data,
            UploadId,
            PartNumber,
            Body,
            ContentLength: Body.length,
          }),
          { abortSignal },
        );
        return out.ETag;
      });
    });
    if (!etag) {
      throw new SluiceError(
        'SLUICE_ERR_WORKER_STORAGE',
        `${this.location}: S3 answered part ${PartNumber} without an ETag`,
      );
    }
    this.#etags[PartNumber - 1] = etag;
  }

  /** The multipart upload, created once (by the first write). */
  #upload(): Promise<string> {
    const { requests } = this.#host;
    this.#uploadId ??= requests.run(
      `CreateMultipartUpload ${this.location}`,
      async (abortSignal) => {
        const out = await requests.client.send(
          new CreateMultipartUploadCommand({ Bucket: requests.bucket, Key: this.#keys.data }),
          { abortSignal },
        );
        if (!out.UploadId) {
          throw new SluiceError(
            'SLUICE_ERR_WORKER_STORAGE',
            `${this.location}: S3 created a multipart upload without an UploadId`,
          );
        }
        return out.UploadId;
      },
    );
    return this.#uploadId;
  }
}

/** Ranged reads of a committed file: one GetObject per read. */
export class S3ReadableFile implements ReadableFile {
  readonly #requests: S3Requests;
  readonly #key: string;
  readonly #location: string;

  constructor(requests: S3Requests, key: string, location: string) {
    this.#requests = requests;
    this.#key = key;
    this.#location = location;
  }

  async read(position: number, length: number): Promise<ChunkBytes> {
    if (length === 0) return { body: Buffer.alloc(0), release: NOTHING };
    const last = position + length - 1;
    const requests = this.#requests;
    const body = await requests
      .run(`GetObject ${this.#location} bytes ${position}-${last}`, async (abortSignal) => {
        const out = await requests.client.send(
          new GetObjectCommand({
            Bucket: requests.bucket,
            Key: this.#key,
            Range: `bytes=${position}-${last}`,
          }),
          { abortSignal },
        );
        const bytes = (await out.Body?.transformToByteArray()) ?? new Uint8Array(0);
        return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      })
      .catch((err: unknown) => {
        // The range starts at or past the end of the object.
        if ((err as SluiceError).context?.s3Code === 'InvalidRange')
          throw this.#short(position, length, 0);
        throw err;
      });
    if (body.length < length) throw this.#short(position, length, body.length);
    if (body.length > length) {
      throw new SluiceError(
        'SLUICE_ERR_WORKER_STORAGE',
        `${this.#location}: S3 answered ${body.length} bytes to a range of ${length}`,
      );
    }
    return { body, release: NOTHING };
  }

  async close(): Promise<void> {}

  #short(position: number, length: number, got: number): WireProtocolError {
    return new WireProtocolError(
      'CORRUPT_FILE',
      `${this.#location} has ${got} of the ${length} bytes at ${position}: shorter than its index`,
      { context: { location: this.#location, position, length, got } },
    );
  }
}
