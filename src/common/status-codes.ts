// Data-plane status codes (docs/protocol.md, docs/development.md#errors-and-retries): the numeric values travel in PUSH_ACK
// and ERROR frames. APPEND ONLY: never renumber or reuse a value, clients of older versions
// rely on them. Congestion is a success variant (OK_CONGESTED), not an error.

export interface WireStatus {
  readonly name: string;
  readonly value: number;
  /** The data was accepted (the caller need not resend it). */
  readonly ok: boolean;
  /** The same request may succeed if sent again (after back-off or reallocation). */
  readonly retriable: boolean;
  readonly doc: string;
}

const table = [
  {
    name: 'OK',
    value: 0,
    ok: true,
    retriable: false,
    doc: 'Accepted; held in memory on this worker.',
  },
  {
    name: 'OK_CONGESTED',
    value: 1,
    ok: true,
    retriable: false,
    doc: 'Accepted, but the worker is above its pause watermark: halve the in-flight window.',
  },
  {
    name: 'SOFT_SPLIT',
    value: 2,
    ok: true,
    retriable: false,
    doc: 'Accepted; the file passed epochRotateBytes: move later pushes of the group to a new epoch.',
  },
  {
    name: 'HARD_SPLIT',
    value: 3,
    ok: false,
    retriable: true,
    doc: 'Not accepted (worker shutting down or full): reallocate the group and push again.',
  },
  {
    name: 'STAGE_ENDED',
    value: 4,
    ok: false,
    retriable: false,
    doc: 'The shuffle was committed: stop pushing; a losing attempt closes with discarded: true.',
  },
  {
    name: 'FAILED',
    value: 5,
    ok: false,
    retriable: true,
    doc: 'Not accepted (storage error): reallocate the group and push again.',
  },
  {
    name: 'UNKNOWN_SHUFFLE',
    value: 6,
    ok: false,
    retriable: false,
    doc: 'The worker has no allocation for this (app, shuffle, group).',
  },
  {
    name: 'STALE_EPOCH',
    value: 7,
    ok: false,
    retriable: true,
    doc: 'The group moved to a newer epoch: ask the driver for the current one.',
  },
  {
    name: 'CRC_MISMATCH',
    value: 8,
    ok: false,
    retriable: true,
    doc: 'A block failed its CRC check on receipt; resend the batch.',
  },
  {
    name: 'MALFORMED_FRAME',
    value: 9,
    ok: false,
    retriable: false,
    doc: 'The frame could not be parsed; the connection is closed.',
  },
  {
    name: 'FRAME_TOO_LARGE',
    value: 10,
    ok: false,
    retriable: false,
    doc: 'The frame exceeds the configured maximum frame size; the connection is closed.',
  },
  {
    name: 'THROTTLED',
    value: 11,
    ok: false,
    retriable: true,
    doc: 'The app exceeds its fetch quota (docs/architecture.md#ess-mode): back off and retry.',
  },
  {
    name: 'NOT_COMMITTED',
    value: 12,
    ok: false,
    retriable: false,
    doc: 'A read of a partition file that is not committed on this worker.',
  },
  {
    name: 'NOT_FOUND',
    value: 13,
    ok: false,
    retriable: false,
    doc: 'The requested file, stream or chunk does not exist.',
  },
  {
    name: 'INTERNAL',
    value: 14,
    ok: false,
    retriable: true,
    doc: 'Unexpected failure on the worker; it is logged there.',
  },
  {
    name: 'UNAVAILABLE',
    value: 15,
    ok: false,
    retriable: true,
    doc: 'The worker cannot check the push right now (the manager is unreachable): retry after a back-off.',
  },
  {
    name: 'CORRUPT_FILE',
    value: 16,
    ok: false,
    retriable: false,
    doc: 'The partition file is damaged on disk (shorter than its index): read the other replica.',
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
