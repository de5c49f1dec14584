// Fast variant of the worker-kill scenarios (issue 5); `npm run chaos` repeats them.
import { describe, expect, it } from 'vitest';
import { FAST_SHAPE } from './harness.js';
import { killDuringCommit, killDuringMaps, killDuringReduce } from './scenarios/worker-kill.js';

describe('worker killed with SIGKILL', () => {
  for (const s of [killDuringMaps, killDuringCommit, killDuringReduce]) {
    it(`${s.name}: every record of the winners reads back exactly`, async () => {
      const r = await s.run(FAST_SHAPE);
      expect(r.bytesVerified).toBeGreaterThan(0);
      expect(r.failedTasks).toBe(0);
    }, 90_000);
  }
});
