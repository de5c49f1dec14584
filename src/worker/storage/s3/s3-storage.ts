// An S3-compatible object store as a storage tier (storage.ts), through the AWS SDK v3: AWS S3,
// Ceph's RADOS Gateway, MinIO. The layout is the local disk's (layout.ts) as object keys:
//
//   <prefix>/<appId>/<shuffleId>/<partition>-<epoch>.data    one object, a multipart upload
//   <prefix>/<appId>/<shuffleId>/<partition>-<epoch>.index   written once the data is complete
//   <prefix>/<appId>/<shuffleId>/ACCEPTED, COMMITTED         empty marker objects
//   <prefix>/.probe/<random>                                  probe(): put, get back, delete
//
// A write is one part (s3-file.ts): writeAlignment and bufferBytes are the part size, at least
// S3's 5 MiB minimum, so a partition holds up to that much in memory before it is written.
// Deleting a shuffle or an app removes every object under its prefix and aborts the multipart
// uploads left unfinished there (a worker that died mid-write leaves them, and S3 keeps their
// parts until aborted). Object stores say nothing about capacity: usage() is zeros. Requests,
// their retries, time bounds and errors: s3-requests.ts.
import { randomBytes } from 'node:crypto';
import { Slots } from '../../../common/flow/slots.js';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { ConfigError, SluiceError } from '../../../common/errors.js';
import type { NativeOps } from '../../../common/native.js';
import type { Logger } from '../../../common/obs/logger.js';
import { ACCEPTED_MARKER, COMMITTED_MARKER, fileBase, type PartitionFileKey } from '../layout.js';
import type {
  ReadableFile,
  Storage,
  StoredFile,
  StoredShuffle,
  StorageUsage,
  WritableFile,
} from '../storage.js';
import { WriteBuffers } from '../write-buffers.js';
import { S3ReadableFile, S3WritableFile, type S3FileHost } from './s3-file.js';
import { listShuffles, type S3Object } from './s3-list.js';
import { S3Requests, type S3Credentials } from './s3-requests.js';

/** S3 refuses a part under 5 MiB unless it is the last. */
export const MIN_PART_BYTES = 5 * 1024 * 1024;
export const DEFAULT_PART_BYTES = 8 * 1024 * 1024;
/** DeleteObjects takes at most this many keys. */
const DELETE_BATCH = 1000;
const PROBE_PREFIX = '.probe';
const PROBE_BYTES = 64;

export interface S3StorageOptions {
  /** s3://bucket/prefix (the prefix may be empty). */
  readonly url: string;
  /** An S3-compatible endpoint (http://rgw:7480); default AWS's for the region. */
  readonly endpoint?: string;
  /** Default AWS_REGION, else us-east-1. */
  readonly region?: string;
  /** Buckets as endpoint/bucket rather than bucket.endpoint; default: when `endpoint` is set. */
  readonly forcePathStyle?: boolean;
  /** Part size (every write but a file's last): default 8 MiB, at least 5 MiB, 4 KiB multiple. */
  readonly partBytes?: number;
  /** Part uploads in flight at once on this storage. Default 4. */
  readonly writesInFlight?: number;
  /** Default: the AWS SDK's chain (environment variables, ~/.aws files, roles). */
  readonly credentials?: S3Credentials;
  /** One attempt of one request, the SDK's own retries included. Default 60 s. */
  readonly requestTimeoutMs?: number;
  /** All attempts of one request. Default 120 s. */
  readonly retryBudgetMs?: number;
  /** Idle full-size buffers kept for reuse (default writesInFlight × 2). */
  readonly poolBuffers?: number;
  readonly native: NativeOps;
  readonly logger: Logger;
}

/** Bucket and key prefix ('' or 'a/b', no slash at either end) of an s3:// URL. */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(
      'storage.remote',
      `is not a URL: ${JSON.stringify(url)} (s3://bucket/prefix)`,
    );
  }
  if (parsed.protocol !== 's3:' || !parsed.hostname)
    throw new ConfigError('storage.remote', `${url} is not an s3://bucket/prefix URL`);
  const prefix = decodeURIComponent(parsed.pathname).replace(/^\/+|\/+$/g, '');
  return { bucket: parsed.hostname, prefix };
}

export class S3Storage implements Storage, S3FileHost {
  readonly kind = 's3' as const;
  readonly name: string;
  readonly writeAlignment: number;
  readonly bufferBytes: number;
  readonly partBytes: number;
  readonly writesInFlight: number;
  readonly requests: S3Requests;
  readonly logger: Logger;
  readonly #bucket: string;
  readonly #prefix: string;
  readonly buffers: WriteBuffers;
  readonly #slots: Slots;
  #queuedBytes = 0;
  #closing: Promise<void> | undefined;

  constructor(opts: S3StorageOptions) {
    const partBytes = opts.partBytes ?? DEFAULT_PART_BYTES;
    if (!Number.isSafeInteger(partBytes) || partBytes < MIN_PART_BYTES || partBytes % 4096 !== 0) {
      throw new ConfigError(
        'storage.s3.partBytes',
        `${partBytes}: S3 parts must be at least ${MIN_PART_BYTES} bytes (5 MiB), a multiple of 4096`,
      );
    }
    const { bucket, prefix } = parseS3Url(opts.url);
    this.#bucket = bucket;
    this.#prefix = prefix;
    this.name = `s3://${bucket}/${prefix}`;
    this.partBytes = partBytes;
    this.writeAlignment = partBytes;
    this.bufferBytes = partBytes;
    this.writesInFlight = opts.writesInFlight ?? 4;
    this.#slots = new Slots(this.writesInFlight);
    this.logger = opts.logger;
    this.buffers = new WriteBuffers({
      bufferBytes: partBytes,
      keep: opts.poolBuffers ?? this.writesInFlight * 2,
      native: opts.native,
    });
    this.requests = new S3Requests({
      bucket,
      endpoint: opts.endpoint,
      region: opts.region ?? (process.env.AWS_REGION || 'us-east-1'),
      forcePathStyle: opts.forcePathStyle ?? opts.endpoint !== undefined,
      credentials: opts.credentials,
      requestTimeoutMs: opts.requestTimeoutMs ?? 60_000,
      retryBudgetMs: opts.retryBudgetMs ?? 120_000,
    });
  }

  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  oldestOperationMs(): number {
    return this.requests.oldestMs();
  }

  markAccepted(appId: string, shuffleId: number): Promise<void> {
    return this.#putEmpty(this.#key(appId, String(shuffleId), ACCEPTED_MARKER));
  }

  markCommitted(appId: string, shuffleId: number): Promise<void> {
    return this.#putEmpty(this.#key(appId, String(shuffleId), COMMITTED_MARKER));
  }

  async create(key: PartitionFileKey): Promise<WritableFile> {
    const data = this.dataKey(key);
    return new S3WritableFile(this, { data, index: this.indexKey(key) }, this.#url(data));
  }

  async openRead(file: StoredFile): Promise<ReadableFile> {
    const key = this.dataKey(file);
    return new S3ReadableFile(this.requests, key, this.#url(key));
  }

  deleteShuffle(appId: string, shuffleId: number): Promise<number> {
    return this.#deleteUnder(`${this.#key(appId, String(shuffleId))}/`);
  }

  deleteApp(appId: string): Promise<number> {
    return this.#deleteUnder(`${this.#key(appId)}/`);
  }

  /** Every shuffle under the prefix, its files checked against their indexes (s3-list.ts). */
  async list(): Promise<StoredShuffle[]> {
    const root = this.#prefix === '' ? '' : `${this.#prefix}/`;
    return listShuffles(await this.#listObjects(root), {
      root,
      location: (key) => this.#url(key),
      readIndex: (key) => this.#get(key),
      logger: this.logger,
      name: this.name,
    });
  }

  async usage(): Promise<StorageUsage> {
    return { capacityBytes: 0, freeBytes: 0 };
  }

  /** Puts a small random object, reads it back, deletes it. */
  async probe(): Promise<void> {
    const key = this.#key(PROBE_PREFIX, randomBytes(8).toString('hex'));
    const bytes = randomBytes(PROBE_BYTES);
    const { client } = this.requests;
    try {
      await this.requests.run(`PutObject ${this.#url(key)}`, (abortSignal) =>
        client.send(new PutObjectCommand({ Bucket: this.#bucket, Key: key, Body: bytes }), {
          abortSignal,
        }),
      );
      if (!(await this.#get(key)).equals(bytes))
        throw new SluiceError(
          'SLUICE_ERR_WORKER_STORAGE',
          `probe of ${this.name} read back other bytes`,
        );
    } finally {
      await this.requests
        .run(`DeleteObject ${this.#url(key)}`, (abortSignal) =>
          client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: key }), { abortSignal }),
        )
        .catch(() => undefined);
    }
  }

  close(): Promise<void> {
    this.buffers.close();
    this.#closing ??= (async () => this.requests.destroy())();
    return this.#closing;
  }

  async inSlot<T>(bytes: number, upload: () => Promise<T>): Promise<T> {
    this.#queuedBytes += bytes;
    try {
      await this.#slots.take();
      try {
        return await upload();
      } finally {
        this.#slots.release();
      }
    } finally {
      this.#queuedBytes -= bytes;
    }
  }

  dataKey(k: PartitionFileKey): string {
    return this.#key(k.appId, String(k.shuffleId), `${fileBase(k)}.data`);
  }

  indexKey(k: PartitionFileKey): string {
    return this.#key(k.appId, String(k.shuffleId), `${fileBase(k)}.index`);
  }

  #key(...parts: string[]): string {
    return (this.#prefix === '' ? parts : [this.#prefix, ...parts]).join('/');
  }

  #url(key: string): string {
    return `s3://${this.#bucket}/${key}`;
  }

  #putEmpty(key: string): Promise<void> {
    return this.requests.run(`PutObject ${this.#url(key)}`, async (abortSignal) => {
      await this.requests.client.send(
        new PutObjectCommand({ Bucket: this.#bucket, Key: key, Body: Buffer.alloc(0) }),
        { abortSignal },
      );
    });
  }

  #get(key: string): Promise<Buffer> {
    return this.requests.run(`GetObject ${this.#url(key)}`, async (abortSignal) => {
      const out = await this.requests.client.send(
        new GetObjectCommand({ Bucket: this.#bucket, Key: key }),
        { abortSignal },
      );
      const bytes = (await out.Body?.transformToByteArray()) ?? new Uint8Array(0);
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    });
  }

  /** Every object whose key starts with `prefix`. */
  async #listObjects(prefix: string): Promise<S3Object[]> {
    const objects: S3Object[] = [];
    let token: string | undefined;
    do {
      const page = await this.requests.run(`ListObjectsV2 ${this.#url(prefix)}`, (abortSignal) =>
        this.requests.client.send(
          new ListObjectsV2Command({
            Bucket: this.#bucket,
            Prefix: prefix,
            ContinuationToken: token,
          }),
          { abortSignal },
        ),
      );
      for (const o of page.Contents ?? [])
        if (o.Key) objects.push({ key: o.Key, size: o.Size ?? 0 });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return objects;
  }

  /**
   * Deletes every object under `prefix` and aborts its unfinished uploads; returns the bytes of
   * the objects (an unfinished upload's parts are not counted: sizing them is a request each).
   */
  async #deleteUnder(prefix: string): Promise<number> {
    const objects = await this.#listObjects(prefix);
    for (let i = 0; i < objects.length; i += DELETE_BATCH) {
      const batch = objects.slice(i, i + DELETE_BATCH);
      const out = await this.requests.run(`DeleteObjects ${this.#url(prefix)}`, (abortSignal) =>
        this.requests.client.send(
          new DeleteObjectsCommand({
            Bucket: this.#bucket,
            Delete: { Objects: batch.map((o) => ({ Key: o.key })), Quiet: true },
          }),
          { abortSignal },
        ),
      );
      const failed = (out.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
      if (failed.length > 0) {
        const first = failed[0]!;
        throw new SluiceError(
          'SLUICE_ERR_WORKER_STORAGE',
          `DeleteObjects ${this.#url(prefix)}: ${failed.length} objects not deleted, e.g. ` +
            `${first.Key}: ${first.Code} ${first.Message ?? ''}`.trim(),
        );
      }
    }
    await this.#abortUploadsUnder(prefix);
    return objects.reduce((sum, o) => sum + o.size, 0);
  }

  async #abortUploadsUnder(prefix: string): Promise<void> {
    const { client } = this.requests;
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    do {
      const page = await this.requests.run(
        `ListMultipartUploads ${this.#url(prefix)}`,
        (abortSignal) =>
          client.send(
            new ListMultipartUploadsCommand({
              Bucket: this.#bucket,
              Prefix: prefix,
              KeyMarker: keyMarker,
              UploadIdMarker: uploadIdMarker,
            }),
            { abortSignal },
          ),
      );
      for (const upload of page.Uploads ?? []) {
        const { Key, UploadId } = upload;
        if (!Key || !UploadId) continue;
        await this.requests
          .run(`AbortMultipartUpload ${this.#url(Key)}`, (abortSignal) =>
            client.send(new AbortMultipartUploadCommand({ Bucket: this.#bucket, Key, UploadId }), {
              abortSignal,
            }),
          )
          .catch((err: unknown) => {
            if ((err as SluiceError).code !== 'SLUICE_ERR_NOT_FOUND') throw err;
          });
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
    } while (keyMarker !== undefined);
  }
}
