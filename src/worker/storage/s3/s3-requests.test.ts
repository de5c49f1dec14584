import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../../common/errors.js';
import { credentialSource, s3Error, S3Requests } from './s3-requests.js';

const CTX = {
  bucket: 'shuffles',
  endpoint: 'http://127.0.0.1:7480',
  credentialSource: 'AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY from the environment',
  what: 'UploadPart s3://shuffles/a/1/0-0.data part 2',
};

/** What the SDK throws: a named error with the HTTP status in $metadata. */
function sdkError(name: string, status?: number, extra: Record<string, unknown> = {}) {
  return Object.assign(new Error(name === 'Unknown' ? 'UnknownError' : `${name} message`), {
    name,
    $metadata: { httpStatusCode: status },
    ...extra,
  });
}

describe('s3Error', () => {
  it.each([
    ['NoSuchBucket', 404],
    ['AccessDenied', 403],
    ['InvalidAccessKeyId', 403],
    ['SignatureDoesNotMatch', 403],
    // HeadObject's 403 has no body: the SDK calls it "Unknown".
    ['Unknown', 403],
    ['CredentialsProviderError', undefined],
  ])(
    '%s (HTTP %s) is a configuration error naming bucket, endpoint and credentials',
    (name, status) => {
      const err = s3Error(sdkError(name, status), CTX);
      expect(err.code).toBe('SLUICE_ERR_CONFIG');
      expect(err.retriable).toBe(false);
      expect(err.message).toContain('bucket shuffles at http://127.0.0.1:7480');
      expect(err.message).toContain('credentials from AWS_ACCESS_KEY_ID');
      expect(err.message).toContain(CTX.what);
    },
  );

  it.each([
    ['NoSuchKey', 404],
    ['NoSuchUpload', 404],
    ['NotFound', 404],
  ])('%s is SLUICE_ERR_NOT_FOUND', (name, status) => {
    expect(s3Error(sdkError(name, status), CTX).code).toBe('SLUICE_ERR_NOT_FOUND');
  });

  it.each([
    ['InternalError', 500],
    ['ServiceUnavailable', 503],
    ['SlowDown', 503],
    ['Unknown', 502],
    ['TooManyRequests', 429],
    ['TimeoutError', undefined],
    ['AbortError', undefined],
  ])('%s (HTTP %s) is retriable SLUICE_ERR_UNAVAILABLE', (name, status) => {
    const err = s3Error(sdkError(name, status), CTX);
    expect(err.code).toBe('SLUICE_ERR_UNAVAILABLE');
    expect(err.retriable).toBe(true);
  });

  it('a connection error (no HTTP answer) is retriable SLUICE_ERR_UNAVAILABLE', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {
      code: 'ECONNREFUSED',
      $metadata: { attempts: 3 },
    });
    const err = s3Error(refused, CTX);
    expect(err.code).toBe('SLUICE_ERR_UNAVAILABLE');
    expect(err.message).toContain('ECONNREFUSED');
  });

  it('anything else is SLUICE_ERR_WORKER_STORAGE with the S3 code and message', () => {
    const err = s3Error(sdkError('InvalidPart', 400), CTX);
    expect(err.code).toBe('SLUICE_ERR_WORKER_STORAGE');
    expect(err.message).toBe(`${CTX.what}: S3 error InvalidPart (HTTP 400): InvalidPart message`);
    expect(err.context).toMatchObject({ s3Code: 'InvalidPart', status: 400, bucket: 'shuffles' });
  });

  it('keeps a SluiceError as it is', () => {
    const own = new SluiceError('SLUICE_ERR_INTERNAL', 'bug');
    expect(s3Error(own, CTX)).toBe(own);
  });
});

describe('credentialSource', () => {
  it('names where the credentials come from, never the credentials', () => {
    const given = { accessKeyId: 'AKIA', secretAccessKey: 'secret' };
    expect(credentialSource(given, {})).toBe('the credentials given to the S3 storage');
    expect(credentialSource(undefined, { AWS_ACCESS_KEY_ID: 'AKIA' })).toContain('environment');
    expect(credentialSource(undefined, { AWS_PROFILE: 'ci' })).toContain('AWS profile ci');
    expect(credentialSource(undefined, {})).toContain('default credential chain');
  });
});

describe('S3Requests.run', () => {
  const requests = (retryBudgetMs = 5_000, requestTimeoutMs = 1_000) =>
    new S3Requests({
      bucket: 'shuffles',
      endpoint: 'http://127.0.0.1:1',
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
      requestTimeoutMs,
      retryBudgetMs,
    });

  it('retries an unavailable S3 and returns the answer', async () => {
    const s3 = requests();
    let attempts = 0;
    const answer = await s3.run('GetObject x', async () => {
      if (++attempts < 3) throw sdkError('ServiceUnavailable', 503);
      return 'ok';
    });
    expect(answer).toBe('ok');
    expect(attempts).toBe(3);
    s3.destroy();
  });

  it('does not retry a failure that will not go away', async () => {
    const s3 = requests();
    let attempts = 0;
    const err = await s3
      .run('GetObject x', async () => {
        attempts++;
        throw sdkError('AccessDenied', 403);
      })
      .catch((e: SluiceError) => e);
    expect(err.code).toBe('SLUICE_ERR_CONFIG');
    expect(attempts).toBe(1);
    s3.destroy();
  });

  it('aborts a hung attempt and gives up within the budget, still UNAVAILABLE', async () => {
    const s3 = requests(400, 100);
    const started = Date.now();
    let seen = 0;
    const err = await s3
      .run('UploadPart x', (signal) => {
        seen++;
        return new Promise<never>((_, reject) =>
          signal.addEventListener('abort', () =>
            reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' })),
          ),
        );
      })
      .catch((e: SluiceError) => e);
    expect(err.code).toBe('SLUICE_ERR_UNAVAILABLE');
    expect(err.retriable).toBe(true);
    expect(err.message).toContain('UploadPart x failed after');
    expect(seen).toBeGreaterThan(1);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(s3.oldestMs()).toBe(0);
    s3.destroy();
  });

  it('reports the age of the oldest request in flight', async () => {
    const s3 = requests();
    let finish!: () => void;
    const running = s3.run('PutObject x', () => new Promise<void>((r) => (finish = r)));
    await new Promise((r) => setTimeout(r, 30));
    expect(s3.oldestMs()).toBeGreaterThanOrEqual(25);
    finish();
    await running;
    expect(s3.oldestMs()).toBe(0);
    s3.destroy();
  });
});
