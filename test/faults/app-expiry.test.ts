// Fast variant of the app-expiry scenario (issue 5); `npm run chaos` repeats it.
import { describe, expect, it } from 'vitest';
import { FAST_SHAPE } from './harness.js';
import { appExpiry } from './scenarios/app-expiry.js';

describe('an app whose driver dies', () => {
  it(`${appExpiry.name} within the expiry time plus one heartbeat`, async () => {
    const r = await appExpiry.run(FAST_SHAPE);
    expect(r.bytesVerified).toBeGreaterThan(0);
  }, 90_000);
});
