// The watermark state machine of docs/architecture.md#worker, replayed as tables of (acquire/release, expected
// state) steps.
import { describe, expect, it } from 'vitest';
import { MemoryManager, type MemoryState } from './memory-manager.js';

type Step = [op: '+' | '-', bytes: number, state: MemoryState];

describe('MemoryManager', () => {
  it.each<[string, Step[]]>([
    [
      'stays NORMAL below the pause watermark',
      [
        ['+', 84, 'NORMAL'],
        ['-', 84, 'NORMAL'],
      ],
    ],
    [
      'pauses at 0.85 and resumes only below 0.70',
      [
        ['+', 85, 'PUSH_PAUSED'],
        ['-', 10, 'PUSH_PAUSED'],
        ['-', 5, 'PUSH_PAUSED'],
        ['-', 1, 'NORMAL'],
      ],
    ],
    [
      'goes FULL at 0.95 and steps down through PUSH_PAUSED',
      [
        ['+', 95, 'FULL'],
        ['-', 1, 'FULL'],
        ['-', 10, 'PUSH_PAUSED'],
        ['-', 15, 'NORMAL'],
      ],
    ],
    [
      'jumps straight to FULL from NORMAL',
      [
        ['+', 50, 'NORMAL'],
        ['+', 60, 'FULL'],
      ],
    ],
    [
      'drops from FULL straight to NORMAL',
      [
        ['+', 99, 'FULL'],
        ['-', 40, 'NORMAL'],
      ],
    ],
    [
      'does not pause again between 0.70 and 0.85 after resuming',
      [
        ['+', 90, 'PUSH_PAUSED'],
        ['-', 21, 'NORMAL'],
        ['+', 10, 'NORMAL'],
        ['+', 6, 'PUSH_PAUSED'],
      ],
    ],
  ])('%s', (_name, steps) => {
    const m = new MemoryManager(100);
    const seen: string[] = [];
    m.onTransition((from, to) => seen.push(`${from}->${to}`));
    let expectedTransitions = 0;
    let last: MemoryState = 'NORMAL';
    for (const [op, bytes, state] of steps) {
      if (op === '+') m.acquire(bytes);
      else m.release(bytes);
      expect(m.state).toBe(state);
      expect(m.paused).toBe(state !== 'NORMAL');
      if (state !== last) expectedTransitions++;
      last = state;
    }
    expect(seen).toHaveLength(expectedTransitions);
  });

  it('tracks the peak and the bytes to free before pushes resume', () => {
    const m = new MemoryManager(1000);
    m.acquire(900);
    m.release(300);
    expect(m.peakBytes).toBe(900);
    expect(m.excessBytes).toBe(0);
    m.acquire(250);
    expect(m.excessBytes).toBe(150);
  });

  it('refuses a release without an acquire and invalid configurations', () => {
    const m = new MemoryManager(10);
    expect(() => m.release(1)).toThrow(/negative/);
    expect(() => new MemoryManager(0)).toThrow(RangeError);
    expect(
      () => new MemoryManager(10, { pauseRatio: 0.5, fullRatio: 0.9, resumeRatio: 0.6 }),
    ).toThrow(RangeError);
  });
});
