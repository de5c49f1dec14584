import { describe, expect, it, vi } from 'vitest';
import {
  InvalidArgumentError,
  NoWorkersError,
  NotFoundError,
  RetriesExceededError,
  SluiceError,
} from '../errors.js';
import { RETRY_DEFAULTS, backoffDelay, retry, type RetryOptions } from './retry.js';

/** Injected timer: records each back-off instead of waiting (no real timers). */
function fakeSleep() {
  const delays: number[] = [];
  const sleep = async (ms: number) => {
    delays.push(ms);
  };
  return { delays, sleep };
}

const transient = (n: number) => new SluiceError('SLUICE_ERR_UNAVAILABLE', `transient #${n}`);

/** An operation that fails retriably `failures` times, then returns `value`. */
function flaky<T>(failures: number, value: T) {
  const attempts: number[] = [];
  const fn = async (attempt: number): Promise<T> => {
    attempts.push(attempt);
    if (attempts.length <= failures) throw transient(attempts.length);
    return value;
  };
  return { fn, attempts };
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('retry', () => {
  it.each([0, 1, 3, 4])('succeeds after %d retriable failures', async (failures) => {
    const { delays, sleep } = fakeSleep();
    const { fn, attempts } = flaky(failures, 'done');
    await expect(retry(fn, { maxAttempts: 5, sleep, random: () => 0 })).resolves.toBe('done');
    expect(attempts).toEqual(Array.from({ length: failures + 1 }, (_, i) => i + 1));
    expect(delays).toHaveLength(failures);
  });

  it.each<{ what: string; err: unknown }>([
    { what: 'a non-retriable SluiceError', err: new NotFoundError('no such app') },
    { what: 'an InvalidArgumentError', err: new InvalidArgumentError('appId', 'bad') },
    { what: 'a plain Error', err: new Error('bug') },
    { what: 'a thrown string', err: 'bare string' },
  ])('stops at once on $what and rethrows the same object', async ({ err }) => {
    const { delays, sleep } = fakeSleep();
    let calls = 0;
    const fn = async () => {
      calls++;
      throw err;
    };
    expect(await rejection(retry(fn, { sleep }))).toBe(err);
    expect(calls).toBe(1);
    expect(delays).toEqual([]);
  });

  it('stops on a non-retriable error after some retriable ones', async () => {
    const { delays, sleep } = fakeSleep();
    const fatal = new NotFoundError('gone');
    let calls = 0;
    const fn = async () => {
      calls++;
      throw calls < 3 ? transient(calls) : fatal;
    };
    expect(await rejection(retry(fn, { sleep, maxAttempts: 10 }))).toBe(fatal);
    expect(calls).toBe(3);
    expect(delays).toHaveLength(2);
  });

  it.each([1, 2, 4])(
    'after maxAttempts=%d throws RetriesExceededError with attempts and the last cause',
    async (maxAttempts) => {
      const { delays, sleep } = fakeSleep();
      const thrown: SluiceError[] = [];
      const fn = async () => {
        const err = transient(thrown.length + 1);
        thrown.push(err);
        throw err;
      };
      const err = await rejection(retry(fn, { maxAttempts, sleep, what: 'RegisterWorker' }));
      expect(err).toBeInstanceOf(RetriesExceededError);
      const exceeded = err as RetriesExceededError;
      expect(exceeded.code).toBe('SLUICE_ERR_RETRIES_EXCEEDED');
      expect(exceeded.attempts).toBe(maxAttempts);
      expect(thrown).toHaveLength(maxAttempts);
      expect(exceeded.cause).toBe(thrown.at(-1));
      expect(exceeded.message).toBe(
        `RegisterWorker failed after ${maxAttempts} attempts: transient #${maxAttempts}`,
      );
      expect(exceeded.retriable).toBe(false);
      expect(delays).toHaveLength(maxAttempts - 1);
    },
  );

  it.each<{ random: number; options: RetryOptions; want: number[] }>([
    // Defaults (docs/protocol.md): 10 attempts, 100 ms base doubling, capped at 5 s.
    { random: 0, options: {}, want: [50, 100, 200, 400, 800, 1600, 2500, 2500, 2500] },
    { random: 1, options: {}, want: [100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000] },
    {
      random: 1,
      options: { maxAttempts: 6, baseDelayMs: 10, maxDelayMs: 70 },
      want: [10, 20, 40, 70, 70],
    },
    {
      random: 0,
      options: { maxAttempts: 6, baseDelayMs: 10, maxDelayMs: 70 },
      want: [5, 10, 20, 35, 35],
    },
    { random: 0.5, options: { maxAttempts: 4 }, want: [75, 150, 300] },
  ])('with random() = $random the back-offs are $want', async ({ random, options, want }) => {
    const { delays, sleep } = fakeSleep();
    const fn = async () => {
      throw transient(0);
    };
    const err = await rejection(retry(fn, { ...options, sleep, random: () => random }));
    expect(err).toBeInstanceOf(RetriesExceededError);
    expect(delays).toEqual(want);
  });

  it('uses 10 attempts and a 5000 ms cap by default (docs/protocol.md)', async () => {
    expect(RETRY_DEFAULTS).toEqual({ maxAttempts: 10, baseDelayMs: 100, maxDelayMs: 5_000 });
    const { delays, sleep } = fakeSleep();
    let calls = 0;
    const fn = async () => {
      calls++;
      throw new NoWorkersError('none');
    };
    const err = (await rejection(retry(fn, { sleep }))) as RetriesExceededError;
    expect(err.attempts).toBe(10);
    expect(calls).toBe(10);
    expect(delays).toHaveLength(9);
    expect(Math.max(...delays)).toBeLessThanOrEqual(5_000);
  });

  it('calls onRetry with the error, the failed attempt number and the delay', async () => {
    const { sleep } = fakeSleep();
    const { fn } = flaky(3, 42);
    const onRetry = vi.fn();
    await expect(retry(fn, { sleep, random: () => 1, onRetry })).resolves.toBe(42);
    expect(onRetry.mock.calls).toEqual([
      [transient(1), 1, 100],
      [transient(2), 2, 200],
      [transient(3), 3, 400],
    ]);
    expect(onRetry.mock.calls.map(([err]) => (err as Error).message)).toEqual([
      'transient #1',
      'transient #2',
      'transient #3',
    ]);
  });

  it('honours a custom retriable predicate', async () => {
    const { delays, sleep } = fakeSleep();
    let calls = 0;
    const fn = async () => {
      calls++;
      if (calls < 3) throw new Error('ECONNRESET');
      return 'ok';
    };
    const result = await retry(fn, {
      sleep,
      retriable: (err) => (err as Error).message === 'ECONNRESET',
    });
    expect(result).toBe('ok');
    expect(calls).toBe(3);
    expect(delays).toHaveLength(2);
  });

  it('passes the signal to sleep and stops without sleeping once it is aborted', async () => {
    const { delays, sleep } = fakeSleep();
    const controller = new AbortController();
    const seen: (AbortSignal | undefined)[] = [];
    const last = transient(2);
    let calls = 0;
    const fn = async () => {
      calls++;
      if (calls === 2) {
        controller.abort();
        throw last;
      }
      throw transient(calls);
    };
    const err = await rejection(
      retry(fn, {
        signal: controller.signal,
        sleep: async (ms, signal) => {
          seen.push(signal);
          await sleep(ms);
        },
      }),
    );
    expect(err).toBe(last);
    expect(calls).toBe(2);
    expect(delays).toHaveLength(1);
    expect(seen).toEqual([controller.signal]);
  });

  it('stops once budgetMs is spent, cuts the last back-off to what is left, and wraps the last failure', async () => {
    let clock = 1_000;
    const delays: number[] = [];
    const sleep = async (ms: number) => {
      delays.push(ms);
      clock += ms;
    };
    let calls = 0;
    let last: unknown;
    const fn = async () => {
      calls++;
      clock += 50; // each attempt takes 50 ms
      last = transient(calls);
      throw last;
    };
    const err = await rejection(
      retry(fn, {
        maxAttempts: Infinity,
        budgetMs: 1_000,
        baseDelayMs: 100,
        random: () => 1,
        now: () => clock,
        sleep,
        what: 'Poll',
      }),
    );
    // 50 + 100 + 50 + 200 + 50 + 400 + 50 = 900 ms; the 4th back-off (800) is cut to the 100 left.
    expect(delays).toEqual([100, 200, 400, 100]);
    expect(calls).toBe(5);
    expect(err).toBeInstanceOf(RetriesExceededError);
    expect((err as RetriesExceededError).cause).toBe(last);
    expect((err as Error).message).toBe('Poll failed after 5 attempts: transient #5');
  });
});

describe('backoffDelay', () => {
  it('never exceeds maxDelayMs and never falls below half the ceiling', () => {
    for (let attempt = 1; attempt <= 30; attempt++) {
      for (const r of [0, 0.25, 0.5, 0.999, 1]) {
        const d = backoffDelay(attempt, 100, 5_000, () => r);
        const ceiling = Math.min(5_000, 100 * 2 ** (attempt - 1));
        expect(d).toBeLessThanOrEqual(5_000);
        expect(d).toBeGreaterThanOrEqual(ceiling / 2);
        expect(d).toBeLessThanOrEqual(ceiling);
      }
    }
  });
});
