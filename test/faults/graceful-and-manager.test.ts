// Fast variant of the graceful-stop and manager-restart scenarios (issue 5).
import { describe, expect, it } from 'vitest';
import { FAST_SHAPE } from './harness.js';
import { gracefulWorkerStop, managerRestart } from './scenarios/graceful-and-manager.js';

describe('restarts in the middle of a shuffle', () => {
  for (const s of [gracefulWorkerStop, managerRestart]) {
    it(`${s.name}: no failed task, every record of the winners reads back exactly`, async () => {
      const r = await s.run(FAST_SHAPE);
      expect(r.bytesVerified).toBeGreaterThan(0);
      expect(r.failedTasks).toBe(0);
    }, 90_000);
  }
});
