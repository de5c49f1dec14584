import { describe, expect, it } from 'vitest';
import { ByteBudget, PushWindows, type PushOutcome } from './push-window.js';

/** Lets every queued promise callback run (no timers involved). */
const settle = () => new Promise<void>((r) => setImmediate(r));

function track(p: Promise<void>): { done: boolean } {
  const s = { done: false };
  void p.then(() => (s.done = true));
  return s;
}

describe('PushWindows AIMD', () => {
  it.each<{ name: string; max: number; outcomes: PushOutcome[]; size: number }>([
    { name: 'starts at the ceiling', max: 32, outcomes: [], size: 32 },
    { name: 'congested halves', max: 32, outcomes: ['congested'], size: 16 },
    { name: 'congested twice quarters', max: 32, outcomes: ['congested', 'congested'], size: 8 },
    {
      name: 'congested never goes below 1',
      max: 4,
      outcomes: ['congested', 'congested', 'congested', 'congested'],
      size: 1,
    },
    { name: 'ok at the ceiling stays there', max: 8, outcomes: ['ok', 'ok'], size: 8 },
    {
      name: 'ok from 1 adds 1/1',
      max: 8,
      outcomes: ['congested', 'congested', 'congested', 'ok'],
      size: 2,
    },
    {
      name: 'ok adds 1/window each time',
      max: 8,
      outcomes: ['congested', 'congested', 'congested', 'ok', 'ok'],
      size: 2.5,
    },
    {
      name: 'ok is capped at the ceiling',
      max: 2,
      outcomes: ['congested', 'ok', 'ok', 'ok'],
      size: 2,
    },
    { name: 'failed leaves the window alone', max: 8, outcomes: ['congested', 'failed'], size: 4 },
  ])('$name', async ({ max, outcomes, size }) => {
    const w = new PushWindows(max);
    for (const o of outcomes) {
      await w.acquire(['a']);
      w.release('a', o);
    }
    expect(w.size('a')).toBeCloseTo(size, 10);
    expect(w.inFlight('a')).toBe(0);
  });

  it('a fractional window admits floor(window) pushes', async () => {
    const f = new PushWindows(3);
    for (const o of ['congested', 'congested', 'ok'] as const) {
      await f.acquire(['b']);
      f.release('b', o); // 3 -> 1.5 -> 1 -> 2
    }
    await f.acquire(['b']);
    f.release('b', 'ok'); // 2.5
    expect(f.size('b')).toBe(2.5);
    await f.acquire(['b']);
    await f.acquire(['b']);
    const third = track(f.acquire(['b']));
    await settle();
    expect(third.done).toBe(false); // floor(2.5) = 2 in flight at most
    f.release('b', 'failed');
    await settle();
    expect(third.done).toBe(true);
    expect(f.inFlight('b')).toBe(2);
  });

  it('windows of different workers are independent', async () => {
    const w = new PushWindows(1);
    await w.acquire(['a']);
    const b = track(w.acquire(['b']));
    await settle();
    expect(b.done).toBe(true);
    expect([w.inFlight('a'), w.inFlight('b')]).toEqual([1, 1]);
  });
});

describe('PushWindows dual acquire', () => {
  // Two dual pushes that need the same two workers in opposite order. Taking one slot and
  // waiting for the other would leave each holding the worker the other waits for; the
  // windows take both slots at once or neither, so both pushes complete.
  it('acquiring two workers is atomic: crossed dual pushes do not deadlock', async () => {
    const w = new PushWindows(1);
    await w.acquire(['A']); // single pushes hold both workers
    await w.acquire(['B']);
    const p1 = track(w.acquire(['A', 'B']));
    const p2 = track(w.acquire(['B', 'A']));
    await settle();
    expect([p1.done, p2.done]).toEqual([false, false]);

    w.release('A', 'ok');
    await settle();
    // Nobody may sit on A while B is busy: that is the half-acquired state that deadlocks.
    expect(w.inFlight('A')).toBe(0);
    expect([p1.done, p2.done]).toEqual([false, false]);

    w.release('B', 'ok');
    await settle();
    expect(p1.done).toBe(true); // first in line takes both
    expect(p2.done).toBe(false);
    expect([w.inFlight('A'), w.inFlight('B')]).toEqual([1, 1]);

    w.release('A', 'ok');
    w.release('B', 'ok');
    await settle();
    expect(p2.done).toBe(true);
    expect([w.inFlight('A'), w.inFlight('B')]).toEqual([1, 1]);
    w.release('A', 'ok');
    w.release('B', 'ok');
    expect([w.inFlight('A'), w.inFlight('B')]).toEqual([0, 0]);
  });

  it('a waiter on one worker does not take a slot a dual waiter needs from a second worker', async () => {
    const w = new PushWindows(1);
    await w.acquire(['A', 'B']);
    const dual = track(w.acquire(['B', 'C']));
    const single = track(w.acquire(['C']));
    await settle();
    expect(dual.done).toBe(false);
    expect(single.done).toBe(true); // C was free
    w.release('A', 'ok');
    w.release('B', 'ok');
    await settle();
    expect(dual.done).toBe(false); // C is still held by the single push
    expect(w.inFlight('B')).toBe(0);
    w.release('C', 'ok');
    await settle();
    expect(dual.done).toBe(true);
  });
});

describe('PushWindows waiters', () => {
  it('a release wakes the oldest waiter whose workers all have a slot', async () => {
    const w = new PushWindows(1);
    for (const id of ['A', 'B', 'C']) await w.acquire([id]);
    const ab = track(w.acquire(['A', 'B']));
    const ac = track(w.acquire(['A', 'C']));
    const ab2 = track(w.acquire(['A', 'B']));
    w.release('C', 'ok');
    await settle();
    expect([ab.done, ac.done, ab2.done]).toEqual([false, false, false]); // A is held
    w.release('A', 'ok');
    await settle();
    // The older A+B waiter still needs B: the A+C one goes first rather than leave A idle.
    expect([ab.done, ac.done, ab2.done]).toEqual([false, true, false]);
    w.release('B', 'ok');
    w.release('A', 'ok');
    w.release('C', 'ok');
    await settle();
    expect([ab.done, ab2.done]).toEqual([true, false]); // arrival order within one pair
    w.release('A', 'ok');
    w.release('B', 'ok');
    await settle();
    expect(ab2.done).toBe(true);
    expect(['A', 'B', 'C'].map((id) => w.inFlight(id))).toEqual([1, 1, 0]);
  });

  it('thousands of waiting dual pushes all go through, never past a window', async () => {
    // A writer of 10^6 partitions seals its 10^4 groups at close: they all wait here at once.
    const w = new PushWindows(4);
    const ids = ['A', 'B', 'C'];
    let over = 0;
    const pushes = Array.from({ length: 10_000 }, async (_, i) => {
      const pair = [ids[i % 3]!, ids[(i + 1 + (i % 2)) % 3]!];
      await w.acquire(pair);
      if (pair.some((id) => w.inFlight(id) > 4)) over++;
      await settle();
      for (const id of pair) w.release(id, i % 97 === 0 ? 'congested' : 'ok');
    });
    await Promise.all(pushes);
    expect(over).toBe(0);
    expect(ids.map((id) => w.inFlight(id))).toEqual([0, 0, 0]);
  });
});

describe('ByteBudget', () => {
  it('waitBelow resolves at once under the limit and after release above it', async () => {
    const b = new ByteBudget(100);
    b.add(100);
    expect(track(b.waitBelow()).done).toBe(false);
    await settle();
    const atLimit = track(b.waitBelow());
    await settle();
    expect(atLimit.done).toBe(true); // "at most" the limit
    b.add(50);
    const full = track(b.waitBelow());
    const low = track(b.waitBelow(20));
    await settle();
    expect([full.done, low.done]).toEqual([false, false]);
    b.release(60);
    await settle();
    expect([full.done, low.done]).toEqual([true, false]);
    b.release(70);
    await settle();
    expect(low.done).toBe(true);
    expect(b.used).toBe(20);
  });
});
