// Fast variant of the stalled-worker scenarios (issue 5); `npm run chaos` repeats them.
import { describe, expect, it } from 'vitest';
import { FAST_SHAPE } from './harness.js';
import { networkCut, pausePastPushTimeout } from './scenarios/worker-stall.js';

describe('a worker that stops answering for a while', () => {
  for (const s of [pausePastPushTimeout, networkCut]) {
    it(`${s.name}: no failed task, every record of the winners reads back exactly`, async () => {
      const r = await s.run(FAST_SHAPE);
      expect(r.bytesVerified).toBeGreaterThan(0);
      expect(r.failedTasks).toBe(0);
    }, 90_000);
  }
});
