// What a reader does with a failed request to one copy of the data
// (docs/architecture.md#reads-and-failover): back off and ask the same copy again, read another
// copy, or read another copy and count this one as damaged. A worker's or ESS's answer is looked
// up in the one status table (its `read` action, src/common/status-codes.ts); no list of
// statuses lives here.
import { readActionOf, type ReadAction } from '../../common/status-codes.js';
import { CorruptBlockError, WireProtocolError } from '../../common/wire/index.js';
import { WorkerRequestError } from '../errors.js';

/**
 * - an ERROR frame from the peer: its status's `read` action;
 * - a block that failed its structural or CRC check here: the copy is damaged;
 * - another check of an answer made here (a wrong chunk, a file length that differs from the
 *   commit, an undecodable header): the action of the status it was raised with;
 * - anything else (connection lost, timeout): this copy cannot be read now.
 */
export function readActionOfError(err: unknown): ReadAction {
  if (err instanceof WorkerRequestError) return readActionOf(err.statusValue);
  if (err instanceof CorruptBlockError) return 'fail-over-corrupt';
  if (err instanceof WireProtocolError) return readActionOf(err.statusCode);
  return 'fail-over';
}
