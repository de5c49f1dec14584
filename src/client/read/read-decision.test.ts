// What a reader does with every wire status a worker or ESS can answer, written out by hand so
// that a change to the status table (src/common/status-codes.ts) or to readActionOfError that
// makes the readers handle a status differently fails here; and what it does with failures
// detected on its own side.
import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../common/errors.js';
import { WIRE_STATUSES, type ReadAction, type WireStatusName } from '../../common/status-codes.js';
import { CorruptBlockError, WireProtocolError } from '../../common/wire/index.js';
import { WorkerRequestError } from '../errors.js';
import { readActionOfError } from './read-decision.js';

/** The readers' behaviour per status of an ERROR frame. Every status must be listed. */
const EXPECTED: Record<WireStatusName, ReadAction> = {
  // Never sent as an ERROR: a peer that does is not trusted for this read.
  OK: 'fail-over',
  OK_CONGESTED: 'fail-over',
  SOFT_SPLIT: 'fail-over',
  HARD_SPLIT: 'fail-over',
  STAGE_ENDED: 'fail-over',
  FAILED: 'fail-over',
  UNKNOWN_SHUFFLE: 'fail-over',
  STALE_EPOCH: 'fail-over',
  CRC_MISMATCH: 'fail-over-corrupt',
  MALFORMED_FRAME: 'fail-over',
  FRAME_TOO_LARGE: 'fail-over',
  THROTTLED: 'back-off',
  NOT_COMMITTED: 'fail-over',
  NOT_FOUND: 'fail-over',
  INTERNAL: 'fail-over',
  UNAVAILABLE: 'fail-over',
  CORRUPT_FILE: 'fail-over-corrupt',
  UNAUTHORIZED: 'fail',
};

/** The error code a reader's caller sees in `cause` for each failing status. */
const CODES: Partial<Record<WireStatusName, string>> = {
  THROTTLED: 'SLUICE_ERR_THROTTLED',
  NOT_FOUND: 'SLUICE_ERR_NOT_FOUND',
  CORRUPT_FILE: 'SLUICE_ERR_CORRUPT_FILE',
  STAGE_ENDED: 'SLUICE_ERR_STAGE_ENDED',
  MALFORMED_FRAME: 'SLUICE_ERR_MALFORMED_FRAME',
  UNAVAILABLE: 'SLUICE_ERR_UNAVAILABLE',
  INTERNAL: 'SLUICE_ERR_WORKER_INTERNAL',
  UNAUTHORIZED: 'SLUICE_ERR_UNAUTHORIZED',
};

describe('readActionOfError: every wire status in an ERROR frame', () => {
  it('lists every status of the table (a new status needs a decision here)', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual(WIRE_STATUSES.map((s) => s.name).sort());
  });

  it.each(WIRE_STATUSES.map((s) => [s.name as WireStatusName, s.value] as const))(
    '%s',
    (name, value) => {
      const err = new WorkerRequestError(value, 'w1', 'answer');
      expect(readActionOfError(err)).toBe(EXPECTED[name]);
      expect(err.status).toBe(name);
      const code = CODES[name];
      if (code) expect(err.code).toBe(code);
    },
  );
});

describe('readActionOfError: failures found by the reader itself', () => {
  it.each<[string, unknown, ReadAction]>([
    [
      'a block with a bad CRC',
      new CorruptBlockError('CRC_MISMATCH', 0, 'crc'),
      'fail-over-corrupt',
    ],
    [
      'a block with a bad magic',
      new CorruptBlockError('BAD_MAGIC', 0, 'magic'),
      'fail-over-corrupt',
    ],
    ['a truncated block', new CorruptBlockError('TRUNCATED', 0, 'short'), 'fail-over-corrupt'],
    [
      'a chunk that is not the one asked for',
      new WireProtocolError('CRC_MISMATCH', 'chunk 3 for 2'),
      'fail-over-corrupt',
    ],
    [
      'a file length that differs from the commit',
      new WireProtocolError('CORRUPT_FILE', 'length'),
      'fail-over-corrupt',
    ],
    [
      'an undecodable answer header',
      new WireProtocolError('MALFORMED_FRAME', 'header'),
      'fail-over',
    ],
    ['a fetch timeout', new SluiceError('SLUICE_ERR_TIMEOUT', 'no answer'), 'fail-over'],
    ['a lost connection', new SluiceError('SLUICE_ERR_UNAVAILABLE', 'reset'), 'fail-over'],
    ['anything else', new Error('boom'), 'fail-over'],
    ['a status this build does not know', new WorkerRequestError(99, 'w1', 'future'), 'fail-over'],
  ])('%s → %s', (_what, err, action) => {
    expect(readActionOfError(err)).toBe(action);
  });

  it('local detections carry the error code of their status', () => {
    expect(new WireProtocolError('CRC_MISMATCH', 'x').code).toBe('SLUICE_ERR_CRC_MISMATCH');
    expect(new CorruptBlockError('BAD_MAGIC', 0, 'x').code).toBe('SLUICE_ERR_MALFORMED_FRAME');
    expect(new WireProtocolError('CORRUPT_FILE', 'x')).toMatchObject({
      code: 'SLUICE_ERR_CORRUPT_FILE',
      retriable: false,
    });
  });
});
