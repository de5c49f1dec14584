// Error classes with stable codes (docs/development.md#errors-and-retries). Callers match on `code`, never on message
// text. docs/errors.md lists every code in ERROR_CODES; a test fails when they drift apart.

export interface ErrorCodeInfo {
  readonly code: string;
  readonly retriable: boolean;
  /** gRPC status name used when this error crosses a gRPC boundary. */
  readonly grpc: GrpcStatusName;
  readonly doc: string;
}

export type GrpcStatusName =
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'FAILED_PRECONDITION'
  | 'RESOURCE_EXHAUSTED'
  | 'UNAVAILABLE'
  | 'DEADLINE_EXCEEDED'
  | 'DATA_LOSS'
  | 'ABORTED'
  | 'UNIMPLEMENTED'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'INTERNAL';

const defineCodes = <T extends Record<string, Omit<ErrorCodeInfo, 'code'>>>(
  table: T,
): { readonly [K in keyof T]: ErrorCodeInfo } => {
  const out: Record<string, ErrorCodeInfo> = {};
  for (const [code, info] of Object.entries(table)) out[code] = Object.freeze({ code, ...info });
  return Object.freeze(out) as { readonly [K in keyof T]: ErrorCodeInfo };
};

/** Every error code Sluice can produce. Append only: codes are a public contract. */
export const ERROR_CODES = defineCodes({
  SLUICE_ERR_INVALID_ARGUMENT: {
    retriable: false,
    grpc: 'INVALID_ARGUMENT',
    doc: 'A request field is missing, malformed or out of range; the message names the field.',
  },
  SLUICE_ERR_CONFIG: {
    retriable: false,
    grpc: 'INVALID_ARGUMENT',
    doc: 'A configuration file, environment variable or flag is unknown or invalid; the message names the key.',
  },
  SLUICE_ERR_NOT_FOUND: {
    retriable: false,
    grpc: 'NOT_FOUND',
    doc: 'The app, shuffle, group or worker named in the request is not known (never registered, expired or released).',
  },
  SLUICE_ERR_ALREADY_EXISTS: {
    retriable: false,
    grpc: 'ALREADY_EXISTS',
    doc: 'The shuffle was already allocated with different parameters, the app or shuffle id belongs to one that ended (ids are not reused), or a live worker holds the worker id at another address.',
  },
  SLUICE_ERR_STALE_EPOCH: {
    retriable: false,
    grpc: 'FAILED_PRECONDITION',
    doc: 'The request names an epoch newer than the group has; the caller is confused about the group state.',
  },
  SLUICE_ERR_NO_WORKERS: {
    retriable: true,
    grpc: 'UNAVAILABLE',
    doc: 'Not enough healthy workers with free disk to place the request (e.g. replication needs two).',
  },
  SLUICE_ERR_UNAVAILABLE: {
    retriable: true,
    grpc: 'UNAVAILABLE',
    doc: 'The peer cannot be reached or is shutting down; retry later.',
  },
  SLUICE_ERR_TIMEOUT: {
    retriable: true,
    grpc: 'DEADLINE_EXCEEDED',
    doc: 'The call did not complete within its deadline.',
  },
  SLUICE_ERR_RETRIES_EXCEEDED: {
    retriable: false,
    grpc: 'UNAVAILABLE',
    doc: 'A retriable operation failed on every attempt; `cause` holds the last failure.',
  },
  SLUICE_ERR_STATE_STORE: {
    retriable: false,
    grpc: 'INTERNAL',
    doc: 'The manager state store (its SQLite file or ZooKeeper data) failed to read or write, or holds data this version cannot read.',
  },
  SLUICE_ERR_INTERNAL: {
    retriable: false,
    grpc: 'INTERNAL',
    doc: 'An unexpected failure inside Sluice (a bug): the message and logs say where.',
  },
  SLUICE_ERR_FETCH_FAILED: {
    retriable: true,
    grpc: 'UNAVAILABLE',
    doc: 'A reader could not read a partition epoch from any replica; retriable at stage level.',
  },
  SLUICE_ERR_SHUFFLE_DATA_LOST: {
    retriable: false,
    grpc: 'DATA_LOSS',
    doc: 'A (partition, epoch) written by a winning attempt has no committed replica; re-run the map stage.',
  },
  SLUICE_ERR_CORRUPT_DATA: {
    retriable: false,
    grpc: 'DATA_LOSS',
    doc: 'Every replica of a block failed its CRC check; no wrong data was returned.',
  },
  SLUICE_ERR_UNSUPPORTED: {
    retriable: false,
    grpc: 'UNIMPLEMENTED',
    doc: 'The method is not supported here (e.g. POST on a read-only HTTP path); the message lists what is.',
  },
  SLUICE_ERR_PUSH_TIMEOUT: {
    retriable: true,
    grpc: 'DEADLINE_EXCEEDED',
    doc: 'A push was not acknowledged within the push timeout.',
  },
  SLUICE_ERR_STAGE_ENDED: {
    retriable: false,
    grpc: 'FAILED_PRECONDITION',
    doc: 'The shuffle was already committed: a late map attempt stops pushing and its writer closes with discarded: true.',
  },
  SLUICE_ERR_PUSH_FAILED: {
    retriable: true,
    grpc: 'UNAVAILABLE',
    doc: 'A batch could not be pushed to any worker pair after every reallocation attempt; the map task should be retried.',
  },
  SLUICE_ERR_NOT_LEADER: {
    retriable: true,
    grpc: 'UNAVAILABLE',
    doc: 'This manager is not the leader (a follower, or a leader that lost its ZooKeeper session); the `sluice-leader` trailer names the leader when one is known, and clients retry there.',
  },
  SLUICE_ERR_STATE_UNAVAILABLE: {
    retriable: true,
    grpc: 'UNAVAILABLE',
    doc: 'The state store cannot be reached right now (ZooKeeper connection lost or no quorum). A write that was already sent may or may not have been applied, whole; retry after a back-off (every write is an idempotent upsert).',
  },
  SLUICE_ERR_QUOTA_EXCEEDED: {
    retriable: false,
    grpc: 'RESOURCE_EXHAUSTED',
    doc: 'The app would exceed one of its quotas in the manager (live shuffles, partitions or partition groups per app; the message names the `manager.*` key): release shuffles, or raise the limit.',
  },
  // The codes below are those of data-plane answers: each wire status that is not a success
  // has exactly one (src/common/status-codes.ts), with the same `retriable` flag.
  SLUICE_ERR_HARD_SPLIT: {
    retriable: true,
    grpc: 'UNAVAILABLE',
    doc: 'A worker refused a push because it is shutting down or lost the shuffle in a restart (wire status HARD_SPLIT); the client moves the group to another worker pair.',
  },
  SLUICE_ERR_WORKER_STORAGE: {
    retriable: true,
    grpc: 'UNAVAILABLE',
    doc: "A worker's storage failed to accept a push (wire status FAILED: disk full, I/O error); the client moves the group to another worker pair.",
  },
  SLUICE_ERR_UNKNOWN_SHUFFLE: {
    retriable: false,
    grpc: 'NOT_FOUND',
    doc: 'The worker has no allocation for the (app, shuffle, group) of a push (wire status UNKNOWN_SHUFFLE): the shuffle was released, or the group was never placed there.',
  },
  SLUICE_ERR_EPOCH_MOVED: {
    retriable: true,
    grpc: 'ABORTED',
    doc: 'A push named an epoch older than the group has on that worker (wire status STALE_EPOCH); the client pushes to the current epoch.',
  },
  SLUICE_ERR_CRC_MISMATCH: {
    retriable: true,
    grpc: 'DATA_LOSS',
    doc: 'A block failed its CRC check, or a chunk was not the one asked for (wire status CRC_MISMATCH); a push is sent again, a read goes to another replica.',
  },
  SLUICE_ERR_MALFORMED_FRAME: {
    retriable: false,
    grpc: 'INVALID_ARGUMENT',
    doc: 'A data-plane frame or message could not be parsed (wire status MALFORMED_FRAME); the peer is buggy or not speaking the Sluice protocol. Where the framing itself is lost the connection is closed.',
  },
  SLUICE_ERR_FRAME_TOO_LARGE: {
    retriable: false,
    grpc: 'RESOURCE_EXHAUSTED',
    doc: 'A frame exceeds the maximum frame size of the receiver (wire status FRAME_TOO_LARGE); the connection is closed. From a Sluice client (pushes are capped at 16 MiB) it means one record larger than the workers accept: raise worker.maxFrameBytes.',
  },
  SLUICE_ERR_THROTTLED: {
    retriable: true,
    grpc: 'RESOURCE_EXHAUSTED',
    doc: 'A worker or ESS is over a limit (wire status THROTTLED): the app over its fetch quota, or the server at worker.maxConnections, worker.maxOpenStreams or its share of memory for frames in progress; readers back off and send the same request again, pushes are sent again.',
  },
  SLUICE_ERR_NOT_COMMITTED: {
    retriable: false,
    grpc: 'FAILED_PRECONDITION',
    doc: 'A read named a partition file that is not committed on that worker (wire status NOT_COMMITTED); the reader tries another replica.',
  },
  SLUICE_ERR_WORKER_INTERNAL: {
    retriable: true,
    grpc: 'INTERNAL',
    doc: 'An unexpected failure inside a worker or ESS daemon (wire status INTERNAL), logged there; a push moves to another worker pair, a read to another replica.',
  },
  SLUICE_ERR_CORRUPT_FILE: {
    retriable: false,
    grpc: 'DATA_LOSS',
    doc: "A committed file is damaged on disk (wire status CORRUPT_FILE: shorter than its index, or its length differs from the commit's); the reader tries another replica.",
  },
  SLUICE_ERR_UNAUTHENTICATED: {
    retriable: false,
    grpc: 'UNAUTHENTICATED',
    doc: 'The cluster runs with a cluster secret and the call carried no credential, or one that does not verify (wrong secret, another cluster, a clock more than 5 minutes off). Check the secret file and the clocks (docs/operations.md#security).',
  },
  SLUICE_ERR_UNAUTHORIZED: {
    retriable: false,
    grpc: 'PERMISSION_DENIED',
    doc: "The credential is valid but does not allow this request: another app's data, a call only daemons may make, or a data connection that did not authenticate (wire status UNAUTHORIZED). Counted on the refusing side (docs/operations.md#security).",
  },
});

export type ErrorCode = keyof typeof ERROR_CODES;

export interface SluiceErrorOptions {
  cause?: unknown;
  /** Context fields (workerId, partition, field, ...) for logs and callers. */
  context?: Record<string, unknown>;
  /** Override the code's default retriable flag (e.g. a wrapped transient cause). */
  retriable?: boolean;
}

export class SluiceError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly context: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, options: SluiceErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = options.retriable ?? ERROR_CODES[code].retriable;
    this.context = Object.freeze({ ...options.context });
  }
}

export class InvalidArgumentError extends SluiceError {
  /** The request field (dotted path) that is wrong. */
  readonly field: string;
  constructor(field: string, message: string, options: SluiceErrorOptions = {}) {
    super('SLUICE_ERR_INVALID_ARGUMENT', `${field}: ${message}`, {
      ...options,
      context: { ...options.context, field },
    });
    this.field = field;
  }
}

export class ConfigError extends SluiceError {
  readonly key: string;
  constructor(key: string, message: string, options: SluiceErrorOptions = {}) {
    super('SLUICE_ERR_CONFIG', `${key}: ${message}`, {
      ...options,
      context: { ...options.context, key },
    });
    this.key = key;
  }
}

export class NotFoundError extends SluiceError {
  constructor(message: string, options: SluiceErrorOptions = {}) {
    super('SLUICE_ERR_NOT_FOUND', message, options);
  }
}

export class AlreadyExistsError extends SluiceError {
  constructor(message: string, options: SluiceErrorOptions = {}) {
    super('SLUICE_ERR_ALREADY_EXISTS', message, options);
  }
}

export class NoWorkersError extends SluiceError {
  constructor(message: string, options: SluiceErrorOptions = {}) {
    super('SLUICE_ERR_NO_WORKERS', message, options);
  }
}

/** An app would exceed a per-app quota of the manager; `limit` names the quota's config key. */
export class QuotaExceededError extends SluiceError {
  readonly limit: string;
  constructor(limit: string, message: string, options: SluiceErrorOptions = {}) {
    super('SLUICE_ERR_QUOTA_EXCEEDED', message, {
      ...options,
      context: { ...options.context, limit },
    });
    this.limit = limit;
  }
}

export class StateStoreError extends SluiceError {
  constructor(message: string, options: SluiceErrorOptions = {}) {
    super('SLUICE_ERR_STATE_STORE', message, options);
  }
}

/**
 * A manager that is not the leader refused a ManagerService call. `leader` is the leader's
 * gRPC address (host:port) when this manager knows it; it travels in the `sluice-leader`
 * trailer (src/common/proto/rpc.ts) and ManagerClient retries there.
 */
export class NotLeaderError extends SluiceError {
  readonly leader: string | undefined;
  constructor(leader: string | undefined, message?: string) {
    super(
      'SLUICE_ERR_NOT_LEADER',
      message ?? `this manager is not the leader${leader ? `; the leader is ${leader}` : ''}`,
      { context: leader ? { leader } : {} },
    );
    this.leader = leader;
  }
}

export class RetriesExceededError extends SluiceError {
  readonly attempts: number;
  constructor(attempts: number, cause: unknown, what = 'operation') {
    const detail = cause instanceof Error ? cause.message : String(cause);
    super('SLUICE_ERR_RETRIES_EXCEEDED', `${what} failed after ${attempts} attempts: ${detail}`, {
      cause,
      context: { attempts },
    });
    this.attempts = attempts;
  }
}

/** No credential, or one that does not verify (gRPC UNAUTHENTICATED). */
export class UnauthenticatedError extends SluiceError {
  constructor(message: string, options: SluiceErrorOptions = {}) {
    super('SLUICE_ERR_UNAUTHENTICATED', message, options);
  }
}

/** A valid credential that does not allow the request (gRPC PERMISSION_DENIED). */
export class UnauthorizedError extends SluiceError {
  constructor(message: string, options: SluiceErrorOptions = {}) {
    super('SLUICE_ERR_UNAUTHORIZED', message, options);
  }
}

/** Normalises anything thrown into a SluiceError (unknown failures become INTERNAL). */
export function asSluiceError(err: unknown): SluiceError {
  if (err instanceof SluiceError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new SluiceError('SLUICE_ERR_INTERNAL', message, { cause: err });
}

/** True for errors a caller may retry: SluiceErrors say so; anything else is not retried. */
export function isRetriable(err: unknown): boolean {
  return err instanceof SluiceError && err.retriable;
}
