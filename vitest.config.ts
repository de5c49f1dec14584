import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Pooled receive slabs are overwritten when given back (src/common/net/receive-buffers.ts),
    // here and in every daemon the tests start: frame bytes kept too long fail loudly.
    env: { TEST_POISON_RECEIVE_BUFFERS: '1' },
  },
});
