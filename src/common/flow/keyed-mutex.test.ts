import { describe, expect, it } from 'vitest';
import { KeyedMutex } from './keyed-mutex.js';

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every pending promise callback run (one macrotask turn; not a timed sleep). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('KeyedMutex', () => {
  it('never overlaps sections of the same key and runs them in call order', async () => {
    const mutex = new KeyedMutex();
    const gates = Array.from({ length: 5 }, () => deferred());
    const log: string[] = [];
    let active = 0;
    let maxActive = 0;
    const results = gates.map((gate, i) =>
      mutex.run('shuffle-1', async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        log.push(`start ${i}`);
        await gate.promise;
        await Promise.resolve();
        log.push(`end ${i}`);
        active--;
        return i;
      }),
    );
    await settle();
    expect(log).toEqual(['start 0']);
    // Open the gates last-first: order must still follow the calls.
    for (const gate of [...gates].reverse()) gate.resolve();
    expect(await Promise.all(results)).toEqual([0, 1, 2, 3, 4]);
    expect(maxActive).toBe(1);
    expect(log).toEqual([0, 1, 2, 3, 4].flatMap((i) => [`start ${i}`, `end ${i}`]));
  });

  it('runs sections of different keys concurrently', async () => {
    const mutex = new KeyedMutex();
    const gateA = deferred();
    let active = 0;
    let maxActive = 0;
    let aDone = false;
    const section = async (gate: Promise<void>) => {
      active++;
      maxActive = Math.max(maxActive, active);
      await gate;
      active--;
    };
    const a = mutex
      .run('a', () => section(gateA.promise))
      .then(() => {
        aDone = true;
      });
    const b = mutex.run('b', () => section(Promise.resolve()).then(() => 'b'));
    await expect(b).resolves.toBe('b');
    expect(aDone).toBe(false);
    expect(maxActive).toBe(2);
    gateA.resolve();
    await a;
    expect(aDone).toBe(true);
  });

  it('a rejecting section does not block the next one, and its error reaches its caller', async () => {
    const mutex = new KeyedMutex();
    const boom = new Error('boom');
    const order: string[] = [];
    const first = mutex.run('k', async () => {
      order.push('first');
      throw boom;
    });
    const second = mutex.run('k', () => {
      order.push('second');
      return 'next';
    });
    await expect(first).rejects.toBe(boom);
    await expect(second).resolves.toBe('next');
    expect(order).toEqual(['first', 'second']);
  });

  it('a section that throws synchronously rejects its own promise only', async () => {
    const mutex = new KeyedMutex();
    const boom = new TypeError('sync');
    const first = mutex.run('k', () => {
      throw boom;
    });
    const second = mutex.run('k', async () => 7);
    await expect(first).rejects.toBe(boom);
    await expect(second).resolves.toBe(7);
  });

  it('forgets keys once their last section has settled', async () => {
    const mutex = new KeyedMutex();
    const gate = deferred();
    const runs = [
      mutex.run('a', () => gate.promise),
      mutex.run('a', async () => {
        throw new Error('fails');
      }),
      mutex.run('b', async () => 1),
    ];
    expect(mutex.size).toBe(2);
    gate.resolve();
    const outcomes = await Promise.allSettled(runs);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    await settle();
    expect(mutex.size).toBe(0);
  });

  it('works again for a key after it was forgotten', async () => {
    const mutex = new KeyedMutex();
    await mutex.run('k', async () => 1);
    await settle();
    expect(mutex.size).toBe(0);
    await expect(mutex.run('k', async () => 2)).resolves.toBe(2);
    await settle();
    expect(mutex.size).toBe(0);
  });
});
