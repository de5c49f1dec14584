// Fast variant of the damaged-storage scenarios (issue 5): files damaged after the commit,
// a disk that starts failing, a full disk. `npm run chaos` repeats them.
import { describe, expect, it } from 'vitest';
import { FAST_SHAPE } from './harness.js';
import { damagedFiles } from './scenarios/corruption.js';
import { diskFailing } from './scenarios/disk-failing.js';
import { diskFull } from './scenarios/disk-full.js';

describe('damaged storage', () => {
  it(`${damagedFiles.name}: the other replica serves it exactly; both damaged fails, never wrong data`, async () => {
    const r = await damagedFiles.run(FAST_SHAPE);
    expect(r.bytesVerified).toBeGreaterThan(0);
  }, 90_000);

  it(`${diskFailing.name}: isolated, pushes fail over, the manager allocates around it, nothing is lost`, async () => {
    const r = await diskFailing.run(FAST_SHAPE);
    expect(r.bytesVerified).toBeGreaterThan(0);
    expect(r.failedTasks).toBe(0);
  }, 90_000);

  const skip = diskFull.skipReason?.();
  it.skipIf(skip !== undefined)(
    `${diskFull.name}: pushes fail over, nothing is lost${skip ? ` (skipped: ${skip})` : ''}`,
    async () => {
      const r = await diskFull.run(FAST_SHAPE);
      expect(r.bytesVerified).toBeGreaterThan(0);
      expect(r.failedTasks).toBe(0);
    },
    90_000,
  );
});
