// The worker's budget of open read streams, shared by every data connection
// (docs/architecture.md#reads-and-failover). Each stream holds its file open until CLOSE_STREAM or
// the connection's end: on a local disk one file descriptor, on a remote tier a reader. Without a
// total bound, clients could open streams until the process ran out of descriptors, and then
// every open() fails: new partition files, index writes and accepted connections too, not
// only reads. Past the budget OPEN_STREAM is answered THROTTLED, which readers back off from
// and retry (src/common/status-codes.ts), and counted.
import { WireProtocolError } from '../../common/wire/index.js';

export class OpenStreams {
  /** worker.maxOpenStreams. */
  readonly limit: number;
  readonly #onRefused: () => void;
  #open = 0;

  constructor(limit: number, onRefused: () => void = () => undefined) {
    if (!(Number.isInteger(limit) && limit > 0))
      throw new RangeError(`open stream limit must be a positive integer, got ${limit}`);
    this.limit = limit;
    this.#onRefused = onRefused;
  }

  /** Streams open now, every connection together. */
  get open(): number {
    return this.#open;
  }

  /** Takes one stream of the budget, or throws THROTTLED when it is spent; give it back with release(). */
  take(): void {
    if (this.#open >= this.limit) {
      this.#onRefused();
      throw new WireProtocolError(
        'THROTTLED',
        `the worker has ${this.#open} read streams open, at most ${this.limit} (worker.maxOpenStreams): retry after a back-off`,
      );
    }
    this.#open++;
  }

  release(): void {
    if (this.#open === 0) throw new RangeError('an open stream released twice');
    this.#open--;
  }
}
