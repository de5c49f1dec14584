// Held-shuffle entries of a heartbeat (validate.ts): ids are checked, and sizes that do not
// add up are dropped while the entry is kept (its deletion orders still matter).
import { describe, expect, it } from 'vitest';
import { heldShuffles } from './validate.js';

const entry = (over: object = {}) => ({
  appId: 'app-1',
  shuffleId: 2,
  bytesPushed: 300,
  committed: true,
  bytesCommitted: 300,
  partitionFiles: 3,
  largestPartitionBytes: 150,
  ...over,
});

describe('heldShuffles', () => {
  it('keeps consistent sizes and skips invalid ids', () => {
    const { held, skipped } = heldShuffles([entry(), entry({ appId: '../x' })]);
    expect(skipped).toBe(1);
    expect(held).toEqual([
      {
        appId: 'app-1',
        shuffleId: 2,
        sizes: {
          bytesPushed: 300,
          committed: true,
          bytesCommitted: 300,
          partitionFiles: 3,
          largestPartitionBytes: 150,
        },
      },
    ]);
  });

  it.each([
    ['a largest file above the total', { largestPartitionBytes: 301 }],
    ['committed bytes in no file', { partitionFiles: 0 }],
    ['committed figures without a commit', { committed: false }],
  ])('drops sizes with %s, keeping the entry', (_, over) => {
    const { held, skipped } = heldShuffles([entry(over)]);
    expect(skipped).toBe(0);
    expect(held).toEqual([{ appId: 'app-1', shuffleId: 2, sizes: undefined }]);
  });
});
