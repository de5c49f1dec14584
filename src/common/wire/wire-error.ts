// Errors of the data-plane codec (docs/protocol.md). A received frame or block that cannot be
// trusted raises a WireProtocolError carrying a wire status: a server answers it in its ERROR
// frame (and closes the connection where framing is lost), a client that detected it treats it
// as the status says. Its `code` and `retriable` flag are the status's own
// (src/common/status-codes.ts): CRC_MISMATCH is SLUICE_ERR_CRC_MISMATCH and may be resent,
// MALFORMED_FRAME is SLUICE_ERR_MALFORMED_FRAME and may not. Encoders do not raise these: a
// bad value handed to an encoder is the caller's bug and raises InvalidArgumentError.
import { SluiceError } from '../errors.js';
import { type WireStatusName, WireStatusCode, errorCodeOf, wireStatus } from '../status-codes.js';

export interface WireProtocolErrorOptions {
  /** The message field that is wrong, as "MESSAGE.field" (e.g. "PUSH.sliceCount"). */
  field?: string;
  cause?: unknown;
  context?: Record<string, unknown>;
}

export class WireProtocolError extends SluiceError {
  /** Wire status name for the ERROR frame answering this failure. */
  readonly status: WireStatusName;
  /** Numeric value of `status` (status-codes.ts), ready for the ERROR frame header. */
  readonly statusCode: number;
  readonly field: string | undefined;

  constructor(status: WireStatusName, message: string, options: WireProtocolErrorOptions = {}) {
    const statusCode = WireStatusCode[status];
    super(errorCodeOf(statusCode), message, {
      cause: options.cause,
      context: { ...options.context, status, ...(options.field ? { field: options.field } : {}) },
      retriable: wireStatus(statusCode)?.retriable ?? false,
    });
    this.status = status;
    this.statusCode = statusCode;
    this.field = options.field;
  }
}

/** Why a block was refused; every reason but CRC_MISMATCH is MALFORMED_FRAME on the wire. */
export type CorruptBlockReason =
  'BAD_MAGIC' | 'TRUNCATED' | 'BAD_CODEC' | 'BAD_LENGTH' | 'CRC_MISMATCH';

/**
 * A block (docs/protocol.md#block-format) that failed a structural or CRC check. `offset` is where
 * the block starts, relative to the base the caller gave (e.g. its position in the file).
 */
export class CorruptBlockError extends WireProtocolError {
  readonly offset: number;
  readonly reason: CorruptBlockReason;

  constructor(reason: CorruptBlockReason, offset: number, message: string) {
    super(reason === 'CRC_MISMATCH' ? 'CRC_MISMATCH' : 'MALFORMED_FRAME', message, {
      field: 'block',
      context: { offset, reason },
    });
    this.offset = offset;
    this.reason = reason;
  }
}
