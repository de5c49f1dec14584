// Data-plane status codes (docs/protocol.md#status-codes, docs/development.md#errors-and-retries):
// the numeric values travel in PUSH_ACK and ERROR frames. APPEND ONLY: never renumber or reuse
// a value, clients of older versions rely on them. Congestion is a success variant
// (OK_CONGESTED), not an error.
//
// This table is the one place that says what a status means to a client: the error code an
// answer with this status becomes (`code`), whether the same request may succeed again
// (`retriable`), what the push client does with it (`push`) and what a reader does with it
// (`read`). The writer (src/client/write/push-decision.ts) and the readers
// (src/client/read/read-decision.ts) decide from these fields only; nothing else keeps a
// private list of statuses.
import type { ErrorCode } from './errors.js';

/**
 * What the push client does with a partition's status in a PUSH_ACK, or with an ERROR frame
 * answering its PUSH:
 * - `accept`: the data is held by the worker;
 * - `accept-slow-down`: held, and the worker is congested: halve the in-flight window;
 * - `accept-rotate-epoch`: held, and the partition's file is full: later pushes of the group
 *   go to a new epoch;
 * - `retry`: not held; send the same push to the same workers after a back-off;
 * - `reallocate`: not held, and this worker cannot take it: move the group to a new worker
 *   pair (this worker excluded) and push again;
 * - `refresh-epoch`: not held because the group already moved: push to its current epoch
 *   (the worker is not to blame);
 * - `stop`: the shuffle is committed: stop pushing, the attempt is discarded;
 * - `fail`: the request itself is refused (every worker would refuse it): fail the writer.
 */
export type PushAction =
  | 'accept'
  | 'accept-slow-down'
  | 'accept-rotate-epoch'
  | 'retry'
  | 'reallocate'
  | 'refresh-epoch'
  | 'stop'
  | 'fail';

/**
 * What a reader does with an ERROR frame answering OPEN_STREAM, FETCH_CHUNK or FETCH_BLOCKS:
 * - `back-off`: the app is over its fetch quota: send the same request again after a back-off,
 *   never fail over or fail for it;
 * - `fail-over`: this copy cannot be read now: read another replica (none left: the fetch
 *   fails, retriable at stage level);
 * - `fail-over-corrupt`: this copy is damaged: read another replica; when every copy is
 *   damaged the read fails as corrupt data, not as a fetch failure;
 * - `fail`: the request itself is refused (every copy would refuse it): fail the read.
 */
export type ReadAction = 'back-off' | 'fail-over' | 'fail-over-corrupt' | 'fail';

export interface WireStatus {
  readonly name: string;
  readonly value: number;
  /** The data was accepted (the caller need not resend it). */
  readonly ok: boolean;
  /** The same request may succeed if sent again (after back-off or reallocation). */
  readonly retriable: boolean;
  /** The error code of a failure answered with this status; null for the accepted ones. */
  readonly code: ErrorCode | null;
  readonly push: PushAction;
  /** Read answers never carry the accepted statuses; a peer that sends one is failed over. */
  readonly read: ReadAction;
  readonly doc: string;
}

const table = [
  {
    name: 'OK',
    value: 0,
    ok: true,
    retriable: false,
    code: null,
    push: 'accept',
    read: 'fail-over',
    doc: 'Accepted; held in memory on this worker.',
  },
  {
    name: 'OK_CONGESTED',
    value: 1,
    ok: true,
    retriable: false,
    code: null,
    push: 'accept-slow-down',
    read: 'fail-over',
    doc: 'Accepted, but the worker is above its pause watermark: halve the in-flight window.',
  },
  {
    name: 'SOFT_SPLIT',
    value: 2,
    ok: true,
    retriable: false,
    code: null,
    push: 'accept-rotate-epoch',
    read: 'fail-over',
    doc: 'Accepted; the file passed epochRotateBytes: move later pushes of the group to a new epoch.',
  },
  {
    name: 'HARD_SPLIT',
    value: 3,
    ok: false,
    retriable: true,
    code: 'SLUICE_ERR_HARD_SPLIT',
    push: 'reallocate',
    read: 'fail-over',
    doc: 'Not accepted (the worker is shutting down, or lost this shuffle in a restart): reallocate the group and push again.',
  },
  {
    name: 'STAGE_ENDED',
    value: 4,
    ok: false,
    retriable: false,
    code: 'SLUICE_ERR_STAGE_ENDED',
    push: 'stop',
    read: 'fail-over',
    doc: 'The shuffle was committed: stop pushing; a losing attempt closes with discarded: true.',
  },
  {
    name: 'FAILED',
    value: 5,
    ok: false,
    retriable: true,
    code: 'SLUICE_ERR_WORKER_STORAGE',
    push: 'reallocate',
    read: 'fail-over',
    doc: 'Not accepted (storage error): reallocate the group and push again.',
  },
  {
    name: 'UNKNOWN_SHUFFLE',
    value: 6,
    ok: false,
    retriable: false,
    code: 'SLUICE_ERR_UNKNOWN_SHUFFLE',
    push: 'reallocate',
    read: 'fail-over',
    doc: 'The worker has no allocation for this (app, shuffle, group).',
  },
  {
    name: 'STALE_EPOCH',
    value: 7,
    ok: false,
    retriable: true,
    code: 'SLUICE_ERR_EPOCH_MOVED',
    push: 'refresh-epoch',
    read: 'fail-over',
    doc: 'The group moved to a newer epoch: ask the driver for the current one.',
  },
  {
    name: 'CRC_MISMATCH',
    value: 8,
    ok: false,
    retriable: true,
    code: 'SLUICE_ERR_CRC_MISMATCH',
    push: 'retry',
    read: 'fail-over-corrupt',
    doc: 'A block failed its CRC check on receipt; resend the batch.',
  },
  {
    name: 'MALFORMED_FRAME',
    value: 9,
    ok: false,
    retriable: false,
    code: 'SLUICE_ERR_MALFORMED_FRAME',
    push: 'fail',
    read: 'fail-over',
    doc: 'The frame or message could not be parsed; where the framing itself is lost the connection is closed, otherwise only that request fails.',
  },
  {
    name: 'FRAME_TOO_LARGE',
    value: 10,
    ok: false,
    retriable: false,
    code: 'SLUICE_ERR_FRAME_TOO_LARGE',
    push: 'fail',
    read: 'fail-over',
    doc: 'The frame exceeds the configured maximum frame size; the connection is closed.',
  },
  {
    name: 'THROTTLED',
    value: 11,
    ok: false,
    retriable: true,
    code: 'SLUICE_ERR_THROTTLED',
    push: 'retry',
    read: 'back-off',
    doc: 'The server is over a limit: the app over its fetch quota (docs/architecture.md#request-throttling), too many connections, frames in progress or open streams: back off and retry.',
  },
  {
    name: 'NOT_COMMITTED',
    value: 12,
    ok: false,
    retriable: false,
    code: 'SLUICE_ERR_NOT_COMMITTED',
    push: 'reallocate',
    read: 'fail-over',
    doc: 'A read of a partition file that is not committed on this worker.',
  },
  {
    name: 'NOT_FOUND',
    value: 13,
    ok: false,
    retriable: false,
    code: 'SLUICE_ERR_NOT_FOUND',
    push: 'reallocate',
    read: 'fail-over',
    doc: 'The requested file, stream or chunk does not exist.',
  },
  {
    name: 'INTERNAL',
    value: 14,
    ok: false,
    retriable: true,
    code: 'SLUICE_ERR_WORKER_INTERNAL',
    push: 'reallocate',
    read: 'fail-over',
    doc: 'Unexpected failure on the worker or ESS; it is logged there.',
  },
  {
    name: 'UNAVAILABLE',
    value: 15,
    ok: false,
    retriable: true,
    code: 'SLUICE_ERR_UNAVAILABLE',
    push: 'retry',
    read: 'fail-over',
    doc: 'The worker cannot check the push right now (the manager is unreachable): retry after a back-off.',
  },
  {
    name: 'CORRUPT_FILE',
    value: 16,
    ok: false,
    retriable: false,
    code: 'SLUICE_ERR_CORRUPT_FILE',
    push: 'reallocate',
    read: 'fail-over-corrupt',
    doc: 'The partition file is damaged on disk (shorter than its index): read the other replica.',
  },
  {
    name: 'UNAUTHORIZED',
    value: 17,
    ok: false,
    retriable: false,
    code: 'SLUICE_ERR_UNAUTHORIZED',
    push: 'fail',
    read: 'fail',
    doc: 'The connection did not authenticate (AUTH_HELLO, AUTH_PROOF), or the request is for another app than the one it authenticated as (docs/operations.md#security).',
  },
] as const satisfies readonly WireStatus[];

export type WireStatusName = (typeof table)[number]['name'];

export const WIRE_STATUSES: readonly WireStatus[] = Object.freeze(
  table.map((s) => Object.freeze({ ...s })),
);

export const WireStatusCode = Object.freeze(
  Object.fromEntries(table.map((s) => [s.name, s.value])) as { [K in WireStatusName]: number },
);

const byValue = new Map<number, WireStatus>(WIRE_STATUSES.map((s) => [s.value, s]));

/** Looks up a numeric status; unknown values (from a newer peer) are reported, not guessed. */
export function wireStatus(value: number): WireStatus | undefined {
  return byValue.get(value);
}

/**
 * The error code of a failure answered with `value`. A value this build does not know (from a
 * newer peer) is reported as UNAVAILABLE: the peer could not serve the request.
 */
export function errorCodeOf(value: number): ErrorCode {
  return wireStatus(value)?.code ?? 'SLUICE_ERR_UNAVAILABLE';
}

/** The push client's action for `value`; an unknown status counts against that worker. */
export function pushActionOf(value: number): PushAction {
  return wireStatus(value)?.push ?? 'reallocate';
}

/** A reader's action for `value`; an unknown status fails over to another copy. */
export function readActionOf(value: number): ReadAction {
  return wireStatus(value)?.read ?? 'fail-over';
}
