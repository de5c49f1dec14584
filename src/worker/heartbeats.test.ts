// Held-shuffle lists in heartbeats are paged (src/worker/heartbeats.ts): a worker holding more
// shuffles than one beat lists sends them a page per beat, in turn, so every one is listed
// within ceil(n / page) beats and no heartbeat grows with n.
import { describe, expect, it } from 'vitest';
import { heldPage } from './heartbeats.js';

describe('heldPage', () => {
  it('lists everything at once when it fits', () => {
    expect(heldPage([1, 2, 3], 7, 5)).toEqual({ page: [1, 2, 3], next: 0 });
  });

  it('covers every entry in turn, pages of at most max, wrapping around', () => {
    const all = Array.from({ length: 12 }, (_, i) => i);
    let cursor = 0;
    const seen = new Set<number>();
    for (let beat = 0; beat < 3; beat++) {
      const { page, next } = heldPage(all, cursor, 5);
      expect(page.length).toBe(5);
      for (const x of page) seen.add(x);
      cursor = next;
    }
    expect([...seen].sort((a, b) => a - b)).toEqual(all);
    expect(heldPage(all, 10, 5).page).toEqual([10, 11, 0, 1, 2]);
  });

  it('keeps going when the list shrank below the cursor', () => {
    expect(heldPage([0, 1, 2, 3, 4, 5, 6], 40, 3)).toEqual({ page: [5, 6, 0], next: 1 });
  });
});
