// A WebHDFS client (docs/architecture.md#storage-tiers): the REST API of HDFS's NameNode, over
// node:http, so a worker writes to HDFS without a JVM or a Hadoop client library. Paths are
// absolute HDFS paths ("/sluice/app/3/0-0.data").
//
// CREATE, APPEND and OPEN are two steps: the NameNode answers with the DataNode to talk to
// (`noredirect=true` asks for it as JSON; a 307 and its Location header work too), then the
// bytes go to or come from that DataNode. Authentication is simple auth only: the user is
// sent as `user.name`. Kerberos (SPNEGO) and delegation tokens are not supported.
//
// Every failure is a SluiceError (mapHdfsError): a RemoteException's FileNotFoundException is
// SLUICE_ERR_NOT_FOUND, FileAlreadyExistsException SLUICE_ERR_ALREADY_EXISTS, a refused
// permission SLUICE_ERR_CONFIG naming the user and the path; a NameNode in safe mode or
// standby, a lease being recovered, a refused or reset connection, a timeout are
// SLUICE_ERR_UNAVAILABLE and retried (common/flow/retry.ts: bounded attempts and time
// budget, then RetriesExceededError with the last failure as its cause); anything else is
// SLUICE_ERR_WORKER_STORAGE with HDFS's exception name and message, the op and the path.
//
// Retrying a write is only safe when it cannot duplicate or lose bytes. CREATE overwrites, so
// it is simply sent again. A failed APPEND may have landed whole, in part or not at all: the
// retry first waits until HDFS has closed the file (a failed append can leave it open under
// the dead writer's lease until the NameNode recovers it: a zero-length APPEND asks for that
// recovery), reads the file's length, and appends only the bytes that are missing. HDFS
// lets another writer recover a lease only after its soft limit (60 s by default), so on a
// stock cluster a retried append may need that long: give writes a budget to match.
import { setMaxListeners } from 'node:events';
import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { SluiceError, type ErrorCode } from '../../../common/errors.js';
import { retry } from '../../../common/flow/retry.js';
import { sliceParts } from '../../../common/wire/parts.js';

export interface WebHdfsClientOptions {
  /** The NameNode's HTTP server, http://host:port (WebHDFS is under /webhdfs/v1). */
  readonly baseUrl: string;
  /** Sent as `user.name`: simple authentication. */
  readonly user: string;
  /** Limit of one HTTP request, body included. Default 60 s. */
  readonly requestTimeoutMs?: number;
  /** Attempts of an operation whose failures are retriable. Default 8. */
  readonly retryAttempts?: number;
  /** Time budget of an operation and its retries. Default 90 s (see the lease note above). */
  readonly retryBudgetMs?: number;
  /** Back-off before the second attempt, doubling. Default 200 ms. */
  readonly retryBaseDelayMs?: number;
  /** Called before each retry (logs). */
  readonly onRetry?: (op: string, path: string, err: unknown, attempt: number) => void;
  /** Called with the DataNode URL the NameNode named, before a CREATE, APPEND or OPEN goes there. */
  readonly onDataNode?: (op: string, path: string, url: URL) => void;
}

/** A FileStatus as WebHDFS reports it (the fields Sluice reads). */
export interface HdfsFileStatus {
  /** The name within its directory ('' for GETFILESTATUS). */
  readonly pathSuffix: string;
  readonly type: 'FILE' | 'DIRECTORY' | 'SYMLINK';
  readonly length: number;
  readonly modificationTime: number;
  readonly owner: string;
  readonly permission: string;
  readonly replication: number;
}

export interface HdfsContentSummary {
  /** Bytes in the files (one replica). */
  readonly length: number;
  readonly fileCount: number;
  readonly directoryCount: number;
  /** Bytes with every replica. */
  readonly spaceConsumed: number;
}

export interface HdfsFsStatus {
  readonly capacity: number;
  readonly used: number;
  readonly remaining: number;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
const DEFAULT_RETRY_ATTEMPTS = 8;
const DEFAULT_RETRY_BUDGET_MS = 90_000;
const DEFAULT_RETRY_BASE_DELAY_MS = 200;
const MAX_RETRY_DELAY_MS = 5_000;
/** An error body is read up to this much (a RemoteException is a few hundred bytes). */
const MAX_ERROR_BODY = 64 * 1024;

/** HDFS exceptions that say "not now": the same request may succeed later. */
const RETRIABLE_EXCEPTIONS = new Set([
  'RetriableException',
  'StandbyException',
  'SafeModeException',
  'ObserverRetryOnActiveException',
  'RecoveryInProgressException',
  'AlreadyBeingCreatedException',
  'NotReplicatedYetException',
  'LeaseExpiredException',
  'ConnectException',
  'ConnectTimeoutException',
  'SocketTimeoutException',
  'NoRouteToHostException',
]);
/**
 * What a DataNode answers when its write pipeline or its read of a replica broke (another
 * DataNode stopped, a socket reset): the same request through another DataNode may work. A
 * retried APPEND first checks what landed, so retrying these never duplicates bytes.
 */
const DATANODE_IO_EXCEPTIONS = new Set([
  'IOException',
  'EOFException',
  'ClosedChannelException',
  'InterruptedIOException',
]);
const PERMISSION_EXCEPTIONS = new Set([
  'AccessControlException',
  'AuthorizationException',
  'AuthenticationException',
  'SecurityException',
]);
/** Node socket errors after which the request may be sent again. */
const RETRIABLE_SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
]);

/** A RemoteException as WebHDFS sends it in an error body. */
export interface RemoteException {
  readonly exception: string;
  readonly javaClassName?: string;
  readonly message?: string;
}

/** What failed, for the error's message and context. */
export interface HdfsFailure {
  readonly op: string;
  readonly path: string;
  readonly user: string;
  /** The HTTP status, when an answer came. */
  readonly status?: number;
  readonly remote?: RemoteException;
  /** The socket error or timeout, when no answer came. */
  readonly cause?: unknown;
  /** The request went to a DataNode (the data step of CREATE, APPEND, OPEN). */
  readonly dataNode?: boolean;
}

/** The SluiceError for a failed WebHDFS request (see the header comment). */
export function mapHdfsError(f: HdfsFailure): SluiceError {
  const context = {
    op: f.op,
    path: f.path,
    ...(f.status === undefined ? {} : { httpStatus: f.status }),
    ...(f.remote ? { hdfsException: f.remote.exception } : {}),
  };
  const make = (code: ErrorCode, message: string) =>
    new SluiceError(code, message, { cause: f.cause, context });
  if (f.remote) {
    const { exception, message = '' } = f.remote;
    const detail = `HDFS ${f.op} ${f.path}: ${exception}: ${message}`;
    if (exception === 'FileNotFoundException') return make('SLUICE_ERR_NOT_FOUND', detail);
    if (exception === 'FileAlreadyExistsException')
      return make('SLUICE_ERR_ALREADY_EXISTS', detail);
    if (PERMISSION_EXCEPTIONS.has(exception)) {
      return make(
        'SLUICE_ERR_CONFIG',
        `HDFS refused ${f.op} of ${f.path} to user "${f.user}" (${exception}: ${message}): ` +
          'give that user access to it, or run as another user (storage.hdfs.user)',
      );
    }
    if (
      RETRIABLE_EXCEPTIONS.has(exception) ||
      f.status === 503 ||
      (f.dataNode && DATANODE_IO_EXCEPTIONS.has(exception))
    )
      return make('SLUICE_ERR_UNAVAILABLE', detail);
    return make('SLUICE_ERR_WORKER_STORAGE', detail);
  }
  if (f.status !== undefined) {
    const detail = `HDFS ${f.op} ${f.path}: HTTP ${f.status}`;
    if (f.status === 401 || f.status === 403) {
      return make(
        'SLUICE_ERR_CONFIG',
        `${detail}: HDFS refused user "${f.user}" (Kerberos/SPNEGO is not supported)`,
      );
    }
    if (f.status === 404) return make('SLUICE_ERR_NOT_FOUND', detail);
    if (f.status >= 500) return make('SLUICE_ERR_UNAVAILABLE', detail);
    return make('SLUICE_ERR_WORKER_STORAGE', detail);
  }
  const cause = f.cause as NodeJS.ErrnoException | undefined;
  const reason = cause instanceof Error ? cause.message : String(cause);
  const detail = `HDFS ${f.op} ${f.path}: ${reason}`;
  if (cause instanceof RequestTimeoutError || RETRIABLE_SOCKET_CODES.has(cause?.code ?? '')) {
    return make('SLUICE_ERR_UNAVAILABLE', detail);
  }
  return make('SLUICE_ERR_WORKER_STORAGE', detail);
}

class RequestTimeoutError extends Error {
  override readonly name = 'RequestTimeoutError';
}

/** The caller's signal or the client's close() ended the request: not retried. */
class AbortedError extends SluiceError {
  constructor(op: string, path: string) {
    super('SLUICE_ERR_UNAVAILABLE', `HDFS ${op} ${path}: aborted (file aborted or client closed)`, {
      retriable: false,
      context: { op, path },
    });
  }
}

/** Options of one operation. */
export interface CallOptions {
  /** Aborts the operation: its request in flight and its retries. */
  readonly signal?: AbortSignal;
}

interface Answer {
  readonly status: number;
  readonly location: string | undefined;
  readonly body: Buffer;
}

interface RequestSpec {
  readonly op: string;
  readonly path: string;
  readonly method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  readonly url: URL;
  /** Bytes sent: the first `length` bytes of `bufs`. */
  readonly bufs?: readonly Buffer[];
  readonly length?: number;
  /** Bytes read from a successful answer at most (OPEN); the rest is discarded. */
  readonly maxBody?: number;
  readonly signal: AbortSignal;
}

const isUnavailable = (err: unknown) =>
  err instanceof SluiceError && err.code === 'SLUICE_ERR_UNAVAILABLE' && err.retriable;

export class WebHdfsClient {
  readonly baseUrl: string;
  readonly user: string;
  readonly #timeoutMs: number;
  readonly #attempts: number;
  readonly #budgetMs: number;
  readonly #baseDelayMs: number;
  readonly #onRetry: WebHdfsClientOptions['onRetry'];
  readonly #onDataNode: WebHdfsClientOptions['onDataNode'];
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 64 });
  readonly #closed = new AbortController();
  /** Start time of every request in flight, oldest first (a Map keeps insertion order). */
  readonly #inFlight = new Map<number, number>();
  #nextId = 0;

  constructor(opts: WebHdfsClientOptions) {
    const base = new URL(opts.baseUrl);
    if (base.protocol !== 'http:')
      throw new RangeError(`WebHDFS URL must be http://host:port, not ${opts.baseUrl}`);
    this.baseUrl = `${base.protocol}//${base.host}`;
    this.user = opts.user;
    this.#timeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.#attempts = opts.retryAttempts ?? DEFAULT_RETRY_ATTEMPTS;
    this.#budgetMs = opts.retryBudgetMs ?? DEFAULT_RETRY_BUDGET_MS;
    this.#baseDelayMs = opts.retryBaseDelayMs ?? DEFAULT_RETRY_BASE_DELAY_MS;
    this.#onRetry = opts.onRetry;
    this.#onDataNode = opts.onDataNode;
    // Every request in flight listens on this signal until it ends: more than Node's default
    // of 10 at once is normal (16 index reads at a reload), not a leak to warn about.
    setMaxListeners(0, this.#closed.signal);
  }

  /** Milliseconds the oldest request in flight has been running (0 when none). */
  oldestRequestMs(): number {
    for (const started of this.#inFlight.values()) return Date.now() - started;
    return 0;
  }

  /** Requests in flight. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /**
   * Creates `path` (and its parents) holding the first `length` bytes of `bufs`. With
   * `overwrite` an existing file is replaced and a failed attempt is simply sent again;
   * without, an existing file is SLUICE_ERR_ALREADY_EXISTS.
   */
  async create(
    path: string,
    bufs: readonly Buffer[],
    length: number,
    { overwrite, signal }: { overwrite: boolean } & CallOptions,
  ): Promise<void> {
    let failed = false;
    await this.#retry('CREATE', path, signal, async (s) => {
      try {
        await this.#write('CREATE', 'PUT', path, { overwrite: String(overwrite) }, bufs, length, s);
      } catch (err) {
        // Without overwrite, a retried CREATE finds what the failed one created, if it did.
        if (
          failed &&
          !overwrite &&
          err instanceof SluiceError &&
          err.code === 'SLUICE_ERR_ALREADY_EXISTS' &&
          (await this.#settledLength(path, s)) === length
        )
          return;
        failed = true;
        throw err;
      }
    });
  }

  /**
   * Appends the first `length` bytes of `bufs` to `path`, which holds `offset` bytes. A
   * failed attempt is retried with exactly the bytes that did not land (see the header).
   */
  async append(
    path: string,
    bufs: readonly Buffer[],
    length: number,
    offset: number,
    { signal }: CallOptions = {},
  ): Promise<void> {
    let failed = false;
    await this.#retry('APPEND', path, signal, async (s) => {
      let from = 0;
      if (failed) {
        const landed = (await this.#settledLength(path, s)) - offset;
        if (landed < 0 || landed > length) {
          throw new SluiceError(
            'SLUICE_ERR_WORKER_STORAGE',
            `HDFS APPEND ${path}: after a failed append the file holds ${offset + landed} ` +
              `bytes, expected ${offset} to ${offset + length}: another writer changed it`,
            { retriable: false, context: { op: 'APPEND', path } },
          );
        }
        if (landed === length) return;
        from = landed;
      }
      try {
        const rest = sliceParts(bufs, from, length);
        await this.#write('APPEND', 'POST', path, {}, rest, length - from, s);
      } catch (err) {
        failed = true;
        throw err;
      }
    });
  }

  /** Bytes [offset, offset + length) of `path`; fewer when the file ends before. */
  async open(
    path: string,
    offset: number,
    length: number,
    { signal }: CallOptions = {},
  ): Promise<Buffer> {
    return this.#retry('OPEN', path, signal, async (s) => {
      const params = { offset: String(offset), length: String(length) };
      const url = await this.#redirect('OPEN', 'GET', path, params, s);
      const answer = await this.#send({
        op: 'OPEN',
        path,
        method: 'GET',
        url,
        maxBody: length,
        signal: s,
      });
      return this.#expect(answer, 'OPEN', path, true).body;
    });
  }

  /** Deletes `path`; false when it did not exist. */
  async delete(path: string, { recursive }: { recursive: boolean }): Promise<boolean> {
    const json = await this.#call('DELETE', 'DELETE', path, { recursive: String(recursive) });
    return (json as { boolean: boolean }).boolean;
  }

  async getFileStatus(path: string): Promise<HdfsFileStatus> {
    const json = await this.#call('GETFILESTATUS', 'GET', path);
    return (json as { FileStatus: HdfsFileStatus }).FileStatus;
  }

  /** The file's status, undefined when there is no such file. */
  async stat(path: string): Promise<HdfsFileStatus | undefined> {
    try {
      return await this.getFileStatus(path);
    } catch (err) {
      if (err instanceof SluiceError && err.code === 'SLUICE_ERR_NOT_FOUND') return undefined;
      throw err;
    }
  }

  /**
   * The entries of a directory, in pages (LISTSTATUS_BATCH: one huge JSON answer for a
   * shuffle of 100 000 partitions otherwise), or all at once from servers without batches.
   */
  async listStatus(path: string): Promise<HdfsFileStatus[]> {
    const all: HdfsFileStatus[] = [];
    let startAfter: string | undefined;
    for (;;) {
      let json: unknown;
      try {
        const params: Record<string, string> = startAfter === undefined ? {} : { startAfter };
        json = await this.#call('LISTSTATUS_BATCH', 'GET', path, params);
      } catch (err) {
        if (startAfter === undefined && isUnsupportedOp(err)) {
          const whole = await this.#call('LISTSTATUS', 'GET', path);
          return (whole as { FileStatuses: { FileStatus: HdfsFileStatus[] } }).FileStatuses
            .FileStatus;
        }
        throw err;
      }
      const listing = (json as { DirectoryListing: DirectoryListing }).DirectoryListing;
      const page = listing.partialListing.FileStatuses.FileStatus;
      for (const status of page) all.push(status);
      if (listing.remainingEntries === 0 || page.length === 0) return all;
      startAfter = page[page.length - 1]!.pathSuffix;
    }
  }

  async mkdirs(path: string): Promise<void> {
    const json = await this.#call('MKDIRS', 'PUT', path);
    if (!(json as { boolean: boolean }).boolean) {
      throw mapHdfsError({
        op: 'MKDIRS',
        path,
        user: this.user,
        remote: { exception: 'IOException', message: 'MKDIRS answered false' },
      });
    }
  }

  /**
   * Renames `from` to `to`, replacing a file there (atomic on the NameNode). A missing
   * source is SLUICE_ERR_NOT_FOUND.
   */
  async rename(from: string, to: string): Promise<void> {
    await this.#call('RENAME', 'PUT', from, { destination: to, renameoptions: 'OVERWRITE' });
  }

  async getContentSummary(path: string): Promise<HdfsContentSummary> {
    const json = await this.#call('GETCONTENTSUMMARY', 'GET', path);
    return (json as { ContentSummary: HdfsContentSummary }).ContentSummary;
  }

  /** The filesystem's capacity (op=GETSTATUS); undefined when the server does not say. */
  async getStatus(): Promise<HdfsFsStatus | undefined> {
    try {
      const json = await this.#call('GETSTATUS', 'GET', '/');
      return (json as { FsStatus?: HdfsFsStatus }).FsStatus;
    } catch (err) {
      if (isUnsupportedOp(err)) return undefined;
      throw err;
    }
  }

  /** Aborts every request in flight; later requests fail at once. */
  close(): void {
    this.#closed.abort();
    this.#agent.destroy();
  }

  /**
   * The file's length once no writer holds it open. A failed append can leave the file open
   * under the dead writer's lease; a zero-length APPEND asks the NameNode to recover it
   * (refused with a retriable RecoveryInProgressException or AlreadyBeingCreatedException
   * until it is done).
   */
  async #settledLength(path: string, signal: AbortSignal): Promise<number> {
    const located = await this.#blockLocations(path, signal);
    if (!located.underConstruction) return located.fileLength;
    await this.#write('APPEND', 'POST', path, {}, [], 0, signal);
    const after = await this.#blockLocations(path, signal);
    if (!after.underConstruction) return after.fileLength;
    throw new SluiceError(
      'SLUICE_ERR_UNAVAILABLE',
      `HDFS APPEND ${path}: the file is still open after a failed write (lease recovery)`,
      { context: { op: 'APPEND', path } },
    );
  }

  /**
   * The file's length and whether a writer holds it open (GET_BLOCK_LOCATIONS). Servers
   * without the op (HttpFS) say only the length (GETFILESTATUS), taken as final.
   */
  async #blockLocations(
    path: string,
    signal: AbortSignal,
  ): Promise<{ fileLength: number; underConstruction: boolean }> {
    let json: unknown;
    try {
      const params = { offset: '0', length: '1' };
      json = await this.#callOnce('GET_BLOCK_LOCATIONS', 'GET', path, params, signal);
    } catch (err) {
      if (!isUnsupportedOp(err)) throw err;
    }
    const blocks = (json as { LocatedBlocks?: LocatedBlocks } | undefined)?.LocatedBlocks;
    if (blocks) {
      return { fileLength: blocks.fileLength, underConstruction: blocks.isUnderConstruction };
    }
    const status = await this.#callOnce('GETFILESTATUS', 'GET', path, {}, signal);
    return {
      fileLength: (status as { FileStatus: HdfsFileStatus }).FileStatus.length,
      underConstruction: false,
    };
  }

  /** One attempt of CREATE or APPEND: ask the NameNode, send the bytes to the DataNode. */
  async #write(
    op: 'CREATE' | 'APPEND',
    method: 'PUT' | 'POST',
    path: string,
    params: Record<string, string>,
    bufs: readonly Buffer[],
    length: number,
    signal: AbortSignal,
  ): Promise<void> {
    const url = await this.#redirect(op, method, path, params, signal);
    this.#expect(await this.#send({ op, path, method, url, bufs, length, signal }), op, path, true);
  }

  /** Asks the NameNode which DataNode serves a CREATE, APPEND or OPEN. */
  async #redirect(
    op: string,
    method: RequestSpec['method'],
    path: string,
    params: Record<string, string>,
    signal: AbortSignal,
  ): Promise<URL> {
    const url = this.#url(op, path, { ...params, noredirect: 'true' });
    const answer = await this.#send({ op, path, method, url, signal });
    let location = answer.status === 307 ? answer.location : undefined;
    if (location === undefined) {
      const json = this.#json(this.#expect(answer, op, path), op, path) as { Location?: unknown };
      if (typeof json.Location !== 'string') {
        throw mapHdfsError({
          op,
          path,
          user: this.user,
          remote: { exception: 'IOException', message: 'the NameNode named no DataNode' },
        });
      }
      location = json.Location;
    }
    const dataNode = new URL(location);
    this.#onDataNode?.(op, path, dataNode);
    return dataNode;
  }

  /** A NameNode-only operation with a JSON answer, retried. */
  #call(
    op: string,
    method: RequestSpec['method'],
    path: string,
    params: Record<string, string> = {},
  ): Promise<unknown> {
    return this.#retry(op, path, undefined, (s) => this.#callOnce(op, method, path, params, s));
  }

  async #callOnce(
    op: string,
    method: RequestSpec['method'],
    path: string,
    params: Record<string, string>,
    signal: AbortSignal,
  ): Promise<unknown> {
    const url = this.#url(op, path, params);
    const answer = this.#expect(await this.#send({ op, path, method, url, signal }), op, path);
    return answer.body.length === 0 ? {} : this.#json(answer, op, path);
  }

  /**
   * Runs `fn` until it succeeds or fails for good: retriable failures (SLUICE_ERR_UNAVAILABLE)
   * again, with back-off, within the attempts and the budget. `fn` gets the signal that ends
   * it: the caller's, or the client's close().
   */
  #retry<T>(
    op: string,
    path: string,
    signal: AbortSignal | undefined,
    fn: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const s = signal ? AbortSignal.any([signal, this.#closed.signal]) : this.#closed.signal;
    const attempts = retry(() => fn(s), {
      maxAttempts: this.#attempts,
      budgetMs: this.#budgetMs,
      baseDelayMs: this.#baseDelayMs,
      maxDelayMs: MAX_RETRY_DELAY_MS,
      retriable: isUnavailable,
      what: `HDFS ${op} ${path}`,
      signal: s,
      onRetry: (err, attempt) => this.#onRetry?.(op, path, err, attempt),
    });
    // Aborted during a back-off: the timer's AbortError, as the SluiceError it stands for.
    return attempts.catch((err: unknown) => {
      throw s.aborted && !(err instanceof SluiceError) ? new AbortedError(op, path) : err;
    });
  }

  #url(op: string, path: string, params: Record<string, string>): URL {
    const encoded = path
      .split('/')
      .filter((s) => s !== '')
      .map(encodeURIComponent)
      .join('/');
    const url = new URL(`${this.baseUrl}/webhdfs/v1/${encoded}`);
    url.searchParams.set('op', op);
    url.searchParams.set('user.name', this.user);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    return url;
  }

  /** The answer when its status is a success (2xx); the mapped error otherwise. */
  #expect(answer: Answer, op: string, path: string, dataNode = false): Answer {
    if (answer.status >= 200 && answer.status < 300) return answer;
    let remote: RemoteException | undefined;
    try {
      remote = (JSON.parse(answer.body.toString('utf8')) as { RemoteException?: RemoteException })
        .RemoteException;
    } catch {
      // Not JSON: a proxy's error page, a truncated body.
    }
    throw mapHdfsError({ op, path, user: this.user, status: answer.status, remote, dataNode });
  }

  #json(answer: Answer, op: string, path: string): unknown {
    try {
      return JSON.parse(answer.body.toString('utf8'));
    } catch (err) {
      throw mapHdfsError({
        op,
        path,
        user: this.user,
        status: answer.status,
        remote: { exception: 'MalformedAnswer', message: `not JSON: ${String(err)}` },
      });
    }
  }

  /** One HTTP request; a socket error or timeout becomes the mapped SluiceError. */
  #send(spec: RequestSpec): Promise<Answer> {
    const { op, path, signal } = spec;
    if (signal.aborted) return Promise.reject(new AbortedError(op, path));
    const id = this.#nextId++;
    this.#inFlight.set(id, Date.now());
    return new Promise<Answer>((resolve, reject) => {
      const length = spec.length ?? 0;
      const req = httpRequest(spec.url, {
        method: spec.method,
        agent: this.#agent,
        headers: {
          'content-length': String(length),
          ...(spec.bufs ? { 'content-type': 'application/octet-stream' } : {}),
        },
      });
      let settled = false;
      const onAbort = () => fail(new Error('aborted'));
      const timer = setTimeout(
        () => fail(new RequestTimeoutError(`no answer within ${this.#timeoutMs} ms`)),
        this.#timeoutMs,
      );
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.#inFlight.delete(id);
      };
      const fail = (err: unknown) => {
        done();
        if (settled) return;
        settled = true;
        req.destroy();
        reject(
          signal.aborted
            ? new AbortedError(op, path)
            : mapHdfsError({ op, path, user: this.user, cause: err }),
        );
      };
      signal.addEventListener('abort', onAbort, { once: true });
      req.on('error', fail);
      req.on('response', (res: IncomingMessage) => {
        const ok = res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300;
        const max = ok ? (spec.maxBody ?? Infinity) : MAX_ERROR_BODY;
        const chunks: Buffer[] = [];
        let received = 0;
        res.on('data', (chunk: Buffer) => {
          if (received >= max) return;
          const take = Math.min(chunk.length, max - received);
          chunks.push(take === chunk.length ? chunk : chunk.subarray(0, take));
          received += take;
        });
        res.on('error', fail);
        res.on('end', () => {
          const declared = Number(res.headers['content-length'] ?? NaN);
          if (received < Math.min(declared, max)) {
            fail(Object.assign(new Error('the answer ended early'), { code: 'ECONNRESET' }));
            return;
          }
          done();
          if (settled) return;
          settled = true;
          resolve({
            status: res.statusCode ?? 0,
            location: res.headers.location,
            body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received),
          });
        });
      });
      if (spec.bufs) {
        for (const buf of sliceParts(spec.bufs, 0, length)) req.write(buf);
      }
      req.end();
    });
  }
}

interface DirectoryListing {
  readonly partialListing: { readonly FileStatuses: { readonly FileStatus: HdfsFileStatus[] } };
  readonly remainingEntries: number;
}

interface LocatedBlocks {
  readonly fileLength: number;
  readonly isUnderConstruction: boolean;
}

/** The server does not know the op (an older HDFS, HttpFS): IllegalArgumentException. */
function isUnsupportedOp(err: unknown): boolean {
  return (
    err instanceof SluiceError &&
    err.code === 'SLUICE_ERR_WORKER_STORAGE' &&
    /^(IllegalArgument|UnsupportedOperation)Exception$/.test(String(err.context.hdfsException))
  );
}
