// The package's public surface is deliberate (src/client/index.ts, docs/client.md): what an
// engine constructs or catches, and nothing it cannot use. Adding or removing a runtime export
// is an API change and must be made here on purpose.
import { describe, expect, it } from 'vitest';
import * as api from '../src/client/index.js';

describe('public API', () => {
  it('exports exactly the classes, helpers and errors an engine uses', () => {
    expect(Object.keys(api).sort()).toEqual(
      [
        'ShuffleDriver',
        'ShuffleClient',
        'HashPartitioner',
        'RangePartitioner',
        'encodeRecords',
        'decodeRecords',
        'RECORD_PREFIX_BYTES',
        'FetchFailedError',
        'ShuffleDataLostError',
        'CorruptShuffleDataError',
        'WorkerRequestError',
        'SluiceError',
        'InvalidArgumentError',
        'ERROR_CODES',
      ].sort(),
    );
  });

  it('its errors are SluiceErrors with stable codes', () => {
    for (const E of [
      api.FetchFailedError,
      api.ShuffleDataLostError,
      api.CorruptShuffleDataError,
      api.WorkerRequestError,
      api.InvalidArgumentError,
    ])
      expect(E.prototype).toBeInstanceOf(api.SluiceError);
    expect(api.ERROR_CODES.SLUICE_ERR_FETCH_FAILED.retriable).toBe(true);
  });

  it('the package.json exports only the client entry point', async () => {
    const { readFile } = await import('node:fs/promises');
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
    expect(Object.keys(pkg.exports)).toEqual(['.', './package.json']);
    expect(pkg.exports['.'].default).toBe('./dist/client/index.js');
  });
});
