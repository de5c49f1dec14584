// The one retry helper (docs/development.md#errors-and-retries, docs/protocol.md): exponential back-off with jitter,
// honours `retriable`, and wraps the last failure in RetriesExceededError.
import { setTimeout as sleepMs } from 'node:timers/promises';
import { RetriesExceededError, isRetriable } from '../errors.js';

export interface RetryOptions {
  /** Total attempts including the first (default 10). */
  maxAttempts?: number;
  /** Back-off before the 2nd attempt; doubles each time (default 100 ms). */
  baseDelayMs?: number;
  /** Cap of one back-off (default 5 s). */
  maxDelayMs?: number;
  /**
   * Time budget from the first attempt (default none): no attempt starts after it is spent,
   * a back-off is cut to what is left, and the last failure is wrapped as after maxAttempts.
   */
  budgetMs?: number;
  /** Which failures to retry (default: SluiceError.retriable). */
  retriable?: (err: unknown) => boolean;
  /** Names the operation in the final error. */
  what?: string;
  signal?: AbortSignal;
  /** Injected for tests; defaults to Math.random. */
  random?: () => number;
  /** Injected for tests; defaults to Date.now. */
  now?: () => number;
  /** Injected for tests; defaults to a real timer. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

export const RETRY_DEFAULTS = Object.freeze({
  maxAttempts: 10,
  baseDelayMs: 100,
  maxDelayMs: 5_000,
});

/**
 * The back-off before attempt `attempt + 1` (attempt counts from 1): "equal jitter", a delay
 * between half and all of min(max, base × 2^(attempt-1)), so retries spread out without ever
 * collapsing to an immediate retry.
 */
export function backoffDelay(
  attempt: number,
  baseDelayMs: number,
  maxDelayMs: number,
  random: () => number,
): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export async function retry<T>(
  fn: (attempt: number) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const maxAttempts = options.maxAttempts ?? RETRY_DEFAULTS.maxAttempts;
  const baseDelayMs = options.baseDelayMs ?? RETRY_DEFAULTS.baseDelayMs;
  const maxDelayMs = options.maxDelayMs ?? RETRY_DEFAULTS.maxDelayMs;
  const retriable = options.retriable ?? isRetriable;
  const random = options.random ?? Math.random;
  const sleep =
    options.sleep ?? ((ms: number, signal?: AbortSignal) => sleepMs(ms, undefined, { signal }));
  const now = options.now ?? Date.now;
  const endMs = options.budgetMs === undefined ? Infinity : now() + options.budgetMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (!retriable(err)) throw err;
      const leftMs = endMs - now();
      if (attempt >= maxAttempts || leftMs <= 0)
        throw new RetriesExceededError(attempt, err, options.what);
      if (options.signal?.aborted) throw err;
      const delay = Math.min(leftMs, backoffDelay(attempt, baseDelayMs, maxDelayMs, random));
      options.onRetry?.(err, attempt, delay);
      await sleep(delay, options.signal);
    }
  }
}
