// Every request of the S3 storage (s3-storage.ts) goes through S3Requests.run(): one place
// that bounds its time, retries what is transient and turns the SDK's errors into SluiceErrors
// (docs/development.md#errors-and-retries):
//
//   NoSuchBucket, AccessDenied, InvalidAccessKeyId, SignatureDoesNotMatch, no credentials
//       -> SLUICE_ERR_CONFIG, naming the bucket, the endpoint and where the credentials came from
//   NoSuchKey, NoSuchUpload, 404              -> SLUICE_ERR_NOT_FOUND
//   5xx, throttling, timeouts, connection errors -> SLUICE_ERR_UNAVAILABLE (retried)
//   anything else                             -> SLUICE_ERR_WORKER_STORAGE with S3's code
//
// The SDK retries a failed request itself (3 attempts); retry() retries the whole operation on
// top of that, and every attempt is aborted when it outlives requestTimeoutMs or the
// operation's budget (retryBudgetMs), so a hung endpoint costs a bounded time. Requests in
// flight are tracked for oldestOperationMs() (the storage's hung check).
import { S3Client } from '@aws-sdk/client-s3';
import { RetriesExceededError, SluiceError } from '../../../common/errors.js';
import { retry } from '../../../common/flow/retry.js';

export interface S3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface S3RequestsOptions {
  readonly bucket: string;
  readonly endpoint?: string;
  readonly region: string;
  readonly forcePathStyle: boolean;
  /** Default: the SDK's chain (environment, ~/.aws files, container and instance roles). */
  readonly credentials?: S3Credentials;
  /** One attempt of one operation, the SDK's own retries included. */
  readonly requestTimeoutMs: number;
  /** Every attempt of one operation. */
  readonly retryBudgetMs: number;
}

/** Codes that mean the configuration is wrong: retrying cannot help. */
const CONFIG_CODES = new Set([
  'NoSuchBucket',
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'InvalidBucketName',
  'AuthorizationHeaderMalformed',
  'PermanentRedirect',
  'CredentialsProviderError',
]);
const NOT_FOUND_CODES = new Set(['NoSuchKey', 'NoSuchUpload', 'NotFound']);
const TRANSIENT_CODES = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'RequestTimeout',
  'RequestTimeoutException',
  'ServiceUnavailable',
  'InternalError',
  'TimeoutError',
  'AbortError',
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

/** Where the credentials come from, for error messages (never the credentials themselves). */
export function credentialSource(
  credentials: S3Credentials | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string {
  if (credentials) return 'the credentials given to the S3 storage';
  if (env.AWS_ACCESS_KEY_ID) return 'AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY from the environment';
  if (env.AWS_PROFILE)
    return `the AWS profile ${env.AWS_PROFILE} (~/.aws/credentials, ~/.aws/config)`;
  return "the AWS SDK's default credential chain (environment, ~/.aws/credentials, container or instance role)";
}

export interface S3ErrorContext {
  readonly bucket: string;
  readonly endpoint: string;
  readonly credentialSource: string;
  /** The operation, e.g. "UploadPart s3://bucket/key part 3". */
  readonly what: string;
}

/** The SluiceError an SDK failure stands for (see the table at the top of this file). */
export function s3Error(err: unknown, ctx: S3ErrorContext): SluiceError {
  if (err instanceof SluiceError) return err;
  const e = (err ?? {}) as SdkError;
  const status = e.$metadata?.httpStatusCode;
  // A HEAD answer has no body: the SDK names its error after the status ("NotFound", "403").
  const code =
    e.name && e.name !== 'Error' && e.name !== 'Unknown' && e.name !== 'S3ServiceException'
      ? e.name
      : (e.code ?? (status === 403 ? 'AccessDenied' : status === 404 ? 'NotFound' : 'Unknown'));
  const detail = e.message && e.message !== 'UnknownError' ? `: ${e.message}` : '';
  const context = { bucket: ctx.bucket, endpoint: ctx.endpoint, s3Code: code, status };
  const options = { cause: err, context };
  if (CONFIG_CODES.has(code) || status === 403) {
    return new SluiceError(
      'SLUICE_ERR_CONFIG',
      `${ctx.what}: S3 refused with ${code}${detail} (bucket ${ctx.bucket} at ${ctx.endpoint}, ` +
        `credentials from ${ctx.credentialSource}): check the bucket exists and the credentials may use it`,
      options,
    );
  }
  if (NOT_FOUND_CODES.has(code) || status === 404)
    return new SluiceError('SLUICE_ERR_NOT_FOUND', `${ctx.what}: ${code}${detail}`, options);
  if (
    TRANSIENT_CODES.has(code) ||
    (e.code !== undefined && TRANSIENT_CODES.has(e.code)) ||
    (status !== undefined && (status >= 500 || status === 429)) ||
    (status === undefined && e.$retryable !== undefined)
  ) {
    return new SluiceError(
      'SLUICE_ERR_UNAVAILABLE',
      `${ctx.what}: S3 at ${ctx.endpoint} is unavailable: ${code}${detail}`,
      { ...options, retriable: true },
    );
  }
  return new SluiceError(
    'SLUICE_ERR_WORKER_STORAGE',
    `${ctx.what}: S3 error ${code}${status === undefined ? '' : ` (HTTP ${status})`}${detail}`,
    options,
  );
}

const isUnavailable = (err: unknown) =>
  err instanceof SluiceError && err.code === 'SLUICE_ERR_UNAVAILABLE';

export class S3Requests {
  readonly client: S3Client;
  readonly bucket: string;
  readonly #opts: S3RequestsOptions;
  readonly #context: Omit<S3ErrorContext, 'what'>;
  /** Start times of the requests in flight. */
  readonly #inFlight = new Set<{ readonly startedMs: number }>();
  /** Aborted by destroy(): requests in flight stop, none is retried. */
  readonly #destroyed = new AbortController();

  constructor(opts: S3RequestsOptions) {
    this.#opts = opts;
    this.bucket = opts.bucket;
    this.client = new S3Client({
      ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
      region: opts.region,
      forcePathStyle: opts.forcePathStyle,
      ...(opts.credentials ? { credentials: opts.credentials } : {}),
      // Third-party stores (Ceph RGW, MinIO, ...) do not all know the SDK's newer checksums.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 3,
      requestHandler: { connectionTimeout: 10_000, requestTimeout: opts.requestTimeoutMs },
    });
    this.#context = {
      bucket: opts.bucket,
      endpoint: opts.endpoint ?? `AWS S3 (${opts.region})`,
      credentialSource: credentialSource(opts.credentials),
    };
  }

  /** Milliseconds the oldest request in flight has been running (0 when none). */
  oldestMs(): number {
    let oldest = Infinity;
    for (const op of this.#inFlight) oldest = Math.min(oldest, op.startedMs);
    return oldest === Infinity ? 0 : Date.now() - oldest;
  }

  /**
   * Runs `attempt` (which sends with the signal it is given, and reads any body it needs)
   * until it succeeds, fails for good or the budget is spent. Rejects with a SluiceError.
   */
  async run<T>(what: string, attempt: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
    const op = { startedMs: Date.now() };
    const deadline = op.startedMs + this.#opts.retryBudgetMs;
    this.#inFlight.add(op);
    try {
      return await retry(
        async () => {
          const ms = Math.max(1, Math.min(this.#opts.requestTimeoutMs, deadline - Date.now()));
          try {
            return await attempt(
              AbortSignal.any([AbortSignal.timeout(ms), this.#destroyed.signal]),
            );
          } catch (err) {
            throw s3Error(err, { ...this.#context, what });
          }
        },
        {
          maxAttempts: 5,
          baseDelayMs: 200,
          maxDelayMs: 5_000,
          budgetMs: this.#opts.retryBudgetMs,
          retriable: isUnavailable,
          signal: this.#destroyed.signal,
          what,
        },
      );
    } catch (err) {
      // Still "unavailable" for the caller, with how long it was tried.
      if (err instanceof RetriesExceededError)
        throw new SluiceError('SLUICE_ERR_UNAVAILABLE', err.message, {
          cause: err,
          context: { ...this.#context, attempts: err.attempts },
        });
      throw err;
    } finally {
      this.#inFlight.delete(op);
    }
  }

  destroy(): void {
    this.#destroyed.abort();
    this.client.destroy();
  }
}
