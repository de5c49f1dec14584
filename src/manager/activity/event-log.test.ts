import { describe, expect, it } from 'vitest';
import { EventLog } from './event-log.js';

const add = (log: EventLog, n: number) => {
  for (let i = 0; i < n; i++)
    log.add({ kind: 'worker-lost', workerId: `w${i}`, message: `lost w${i}` }, 1_000 + i);
};

describe('EventLog', () => {
  it('pages newest first and continues before the last seq returned', () => {
    const log = new EventLog(10);
    add(log, 5);
    const first = log.page(2);
    expect(first.events.map((e) => e.seq)).toEqual([5, 4]);
    expect(first.more).toBe(true);
    const second = log.page(2, 4);
    expect(second.events.map((e) => e.workerId)).toEqual(['w2', 'w1']);
    const last = log.page(2, 2);
    expect(last.events.map((e) => e.seq)).toEqual([1]);
    expect(last.more).toBe(false);
    expect(last.events[0]).toMatchObject({ atMs: 1_000, kind: 'worker-lost', message: 'lost w0' });
  });

  it('keeps only the newest `capacity` events, however many are added', () => {
    const log = new EventLog(100);
    add(log, 1_050);
    expect(log.size).toBe(100);
    const all = log.page(1_000);
    expect(all.events).toHaveLength(100);
    expect(all.events[0]!.seq).toBe(1_050);
    expect(all.events[99]!.seq).toBe(951);
    expect(all.more).toBe(false);
    // A token older than what is kept: nothing older remains.
    expect(log.page(10, 900)).toEqual({ events: [], more: false });
  });

  it('answers an empty page when empty, and refuses a capacity that is not positive', () => {
    expect(new EventLog(3).page(5)).toEqual({ events: [], more: false });
    expect(() => new EventLog(0)).toThrow(/capacity/);
  });
});
