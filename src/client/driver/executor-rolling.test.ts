import { describe, expect, it } from 'vitest';
import { ExecutorRolling } from './executor-rolling.js';

const GIB = 1024 ** 3;

describe('ExecutorRolling', () => {
  it.each([
    { threshold: 20 * GIB, writes: [5, 10, 4.9], drainAfter: undefined },
    { threshold: 20 * GIB, writes: [5, 10, 5], drainAfter: 2 },
    { threshold: 20 * GIB, writes: [25], drainAfter: 0 },
    { threshold: 0, writes: [100, 100], drainAfter: undefined },
  ])(
    'threshold $threshold, writes $writes GiB: drain after write $drainAfter',
    ({ threshold, writes, drainAfter }) => {
      const r = new ExecutorRolling(threshold);
      writes.forEach((gib, i) => {
        const d = r.record('e1', gib * GIB);
        expect(d).toEqual(
          i === drainAfter
            ? [
                {
                  kind: 'drain',
                  executorId: 'e1',
                  shuffleBytes: writes.slice(0, i + 1).reduce((a, b) => a + b, 0) * GIB,
                },
              ]
            : [],
        );
      });
      expect(r.bytesByExecutor().get('e1')).toBe(writes.reduce((a, b) => a + b, 0) * GIB);
    },
  );

  it('drains once, releases and replaces only when idle with no unacked pushes', () => {
    const r = new ExecutorRolling(100);
    expect(r.activity('e1', { runningTasks: 0, unackedPushes: 0 })).toEqual([]); // not draining
    expect(r.record('e1', 150)).toHaveLength(1);
    expect(r.record('e1', 50)).toEqual([]); // already draining: no second drain
    expect(r.activity('e1', { runningTasks: 1, unackedPushes: 0 })).toEqual([]);
    expect(r.activity('e1', { runningTasks: 0, unackedPushes: 3 })).toEqual([]);
    expect(r.activity('e1', { runningTasks: 0, unackedPushes: 0 })).toEqual([
      { kind: 'release', executorId: 'e1', shuffleBytes: 200 },
      { kind: 'replace', executorId: 'e1' },
    ]);
    expect(r.activity('e1', { runningTasks: 0, unackedPushes: 0 })).toEqual([]); // once
    expect(r.state('e1')).toBe('released');
    expect(r.rolledExecutors).toBe(1);
    expect(r.record('e2', 99)).toEqual([]);
    expect(r.state('e2')).toBe('active');
  });
});
