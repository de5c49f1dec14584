import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from './errors.js';
import {
  WIRE_STATUSES,
  WireStatusCode,
  errorCodeOf,
  pushActionOf,
  readActionOf,
  wireStatus,
} from './status-codes.js';

describe('wire status table', () => {
  it('has unique names', () => {
    const names = WIRE_STATUSES.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it('has unique values', () => {
    const values = WIRE_STATUSES.map((s) => s.value);
    expect(new Set(values).size).toBe(values.length);
  });

  it('is append-only: values are 0..n-1, contiguous and in table order', () => {
    expect(WIRE_STATUSES.map((s) => s.value)).toEqual(WIRE_STATUSES.map((_, i) => i));
  });

  // Golden pairs: these numbers are on the wire in PUSH_ACK and ERROR frames (docs/protocol.md).
  // Renumbering breaks every older client; add new statuses at the end instead.
  it('pins every name to its value', () => {
    expect({ ...WireStatusCode }).toEqual({
      OK: 0,
      OK_CONGESTED: 1,
      SOFT_SPLIT: 2,
      HARD_SPLIT: 3,
      STAGE_ENDED: 4,
      FAILED: 5,
      UNKNOWN_SHUFFLE: 6,
      STALE_EPOCH: 7,
      CRC_MISMATCH: 8,
      MALFORMED_FRAME: 9,
      FRAME_TOO_LARGE: 10,
      THROTTLED: 11,
      NOT_COMMITTED: 12,
      NOT_FOUND: 13,
      INTERNAL: 14,
      UNAVAILABLE: 15,
      CORRUPT_FILE: 16,
      UNAUTHORIZED: 17,
    });
  });

  it('pins which statuses mean the data was accepted', () => {
    // Congestion is a success variant, not an error (docs/development.md#errors-and-retries).
    expect(WIRE_STATUSES.filter((s) => s.ok).map((s) => s.name)).toEqual([
      'OK',
      'OK_CONGESTED',
      'SOFT_SPLIT',
    ]);
    expect(WIRE_STATUSES.filter((s) => s.ok && s.retriable)).toEqual([]);
  });

  it('gives every failing status its own error code, with the same retriable flag', () => {
    const failing = WIRE_STATUSES.filter((s) => !s.ok);
    for (const s of failing) {
      expect(s.code, s.name).not.toBeNull();
      expect(ERROR_CODES[s.code!].retriable, `${s.name} → ${s.code}`).toBe(s.retriable);
    }
    const codes = failing.map((s) => s.code);
    expect(new Set(codes).size, 'two statuses share an error code').toBe(codes.length);
    for (const s of WIRE_STATUSES.filter((x) => x.ok)) expect(s.code, s.name).toBeNull();
  });

  it('accepted statuses, and only they, are accepted by the push client', () => {
    for (const s of WIRE_STATUSES)
      expect(s.push.startsWith('accept'), `${s.name}: ${s.push}`).toBe(s.ok);
  });

  it('reports a value it does not know instead of guessing', () => {
    expect(errorCodeOf(99)).toBe('SLUICE_ERR_UNAVAILABLE');
    expect(pushActionOf(99)).toBe('reallocate');
    expect(readActionOf(99)).toBe('fail-over');
    expect(errorCodeOf(WireStatusCode.THROTTLED)).toBe('SLUICE_ERR_THROTTLED');
  });

  it('documents every status', () => {
    for (const s of WIRE_STATUSES) expect(s.doc.length, s.name).toBeGreaterThan(0);
  });

  it('is frozen', () => {
    expect(Object.isFrozen(WIRE_STATUSES)).toBe(true);
    expect(Object.isFrozen(WireStatusCode)).toBe(true);
    for (const s of WIRE_STATUSES) expect(Object.isFrozen(s), s.name).toBe(true);
  });
});

describe('wireStatus', () => {
  it.each(WIRE_STATUSES.map((s) => [s.value, s.name] as const))('%d → %s', (value, name) => {
    expect(wireStatus(value)?.name).toBe(name);
  });

  it.each([999, 18, -1, 1.5, Number.NaN])('%d → undefined (unknown, not guessed)', (value) => {
    expect(wireStatus(value)).toBeUndefined();
  });
});
