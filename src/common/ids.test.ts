import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from './errors.js';
import {
  parseAppId,
  parseInteger,
  parseShuffleId,
  parseWorkerId,
  shuffleKey,
  type AppId,
  type ShuffleId,
} from './ids.js';

/** Runs `fn`, which must throw an InvalidArgumentError, and returns it. */
function invalid(fn: () => unknown): InvalidArgumentError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidArgumentError);
    return err as InvalidArgumentError;
  }
  throw new Error('expected an InvalidArgumentError, nothing was thrown');
}

const PARSERS = [
  { name: 'parseAppId', parse: parseAppId, defaultField: 'appId' },
  { name: 'parseWorkerId', parse: parseWorkerId, defaultField: 'workerId' },
] as const;

const ACCEPTED = [
  'app-1',
  'application_1700000000000_0001',
  'A.b_c-9',
  'worker-10.0.0.1-9099',
  '...',
  '.hidden',
  'a..b',
  'x',
  'a'.repeat(128),
];

const REFUSED: { what: string; value: unknown }[] = [
  { what: 'empty', value: '' },
  { what: 'slash', value: '/' },
  { what: 'dot', value: '.' },
  { what: 'dot-dot', value: '..' },
  { what: 'traversal', value: '../../etc' },
  { what: 'two segments', value: 'a/b' },
  { what: 'absolute path', value: '/etc/passwd' },
  { what: 'backslash', value: 'a\\b' },
  { what: 'inner space', value: 'a b' },
  { what: 'leading space', value: ' a' },
  { what: 'trailing newline', value: 'a\n' },
  { what: 'unicode letter', value: 'café' },
  { what: 'unicode look-alike dot', value: 'a\u2024b' },
  { what: 'emoji', value: 'app-🚀' },
  { what: 'NUL byte', value: 'app\u0000' },
  { what: '129 chars', value: 'a'.repeat(129) },
  { what: 'number', value: 5 },
  { what: 'null', value: null },
  { what: 'undefined', value: undefined },
  { what: 'object', value: { id: 'a' } },
  { what: 'array', value: ['a'] },
];

describe.each(PARSERS)('$name', ({ parse, defaultField }) => {
  it.each(ACCEPTED)('accepts %j', (value) => {
    expect(parse(value)).toBe(value);
  });

  it.each(REFUSED)('refuses $what', ({ value }) => {
    const err = invalid(() => parse(value, 'request.someId'));
    expect(err.code).toBe('SLUICE_ERR_INVALID_ARGUMENT');
    expect(err.field).toBe('request.someId');
    expect(err.context).toMatchObject({ field: 'request.someId' });
    expect(err.message.startsWith('request.someId: ')).toBe(true);
    expect(err.retriable).toBe(false);
  });

  it(`names the field ${defaultField} by default`, () => {
    expect(invalid(() => parse('..')).field).toBe(defaultField);
  });

  it('shortens a long id in the message', () => {
    const err = invalid(() => parse(`${'b'.repeat(200)}/`, 'id'));
    expect(err.message).toContain(`"${'b'.repeat(40)}..."`);
    expect(err.message).not.toContain('b'.repeat(41));
  });
});

describe('parseInteger', () => {
  it.each([
    { value: 0, min: 0, max: 10 },
    { value: 10, min: 0, max: 10 },
    { value: 5, min: 5, max: 5 },
    { value: 0xffff_ffff, min: 0, max: 0xffff_ffff },
  ])('accepts $value in [$min, $max]', ({ value, min, max }) => {
    expect(parseInteger(value, 'partition', min, max)).toBe(value);
  });

  it.each<{ what: string; value: unknown; want: string }>([
    { what: 'below min', value: -1, want: 'must be between 0 and 10, got -1' },
    { what: 'above max', value: 11, want: 'must be between 0 and 10, got 11' },
    { what: 'fraction', value: 1.5, want: 'must be an integer, got 1.5' },
    { what: 'NaN', value: Number.NaN, want: 'must be an integer' },
    { what: 'Infinity', value: Number.POSITIVE_INFINITY, want: 'must be an integer' },
    { what: 'numeric string', value: '5', want: 'must be an integer, got "5"' },
    { what: 'null', value: null, want: 'must be an integer, got null' },
    { what: 'undefined', value: undefined, want: 'must be an integer' },
    { what: 'boolean', value: true, want: 'must be an integer, got true' },
    // A bigint (e.g. from a 64-bit field) must be refused like any other non-number, naming
    // the field; JSON.stringify cannot format a bigint.
    { what: 'bigint', value: 5n, want: 'must be an integer' },
  ])('refuses $what naming the field', ({ value, want }) => {
    const err = invalid(() => parseInteger(value, 'partition', 0, 10));
    expect(err.code).toBe('SLUICE_ERR_INVALID_ARGUMENT');
    expect(err.field).toBe('partition');
    expect(err.message).toContain(`partition: ${want}`);
  });
});

describe('parseShuffleId', () => {
  it.each([0, 1, 2 ** 31 - 1])('accepts %d', (value) => {
    expect(parseShuffleId(value)).toBe(value);
  });

  it.each<{ what: string; value: unknown }>([
    { what: '-1', value: -1 },
    { what: '2^31', value: 2 ** 31 },
    { what: '2^32', value: 2 ** 32 },
    { what: 'fraction', value: 0.5 },
    { what: 'NaN', value: Number.NaN },
    { what: 'string', value: '1' },
    { what: 'null', value: null },
  ])('refuses $what', ({ value }) => {
    const err = invalid(() => parseShuffleId(value));
    expect(err.field).toBe('shuffleId');
    expect(err.code).toBe('SLUICE_ERR_INVALID_ARGUMENT');
  });

  it('uses the field name it is given', () => {
    expect(invalid(() => parseShuffleId(-1, 'ref.shuffleId')).field).toBe('ref.shuffleId');
  });
});

describe('shuffleKey', () => {
  it('joins app and shuffle with a slash', () => {
    expect(shuffleKey('app-1' as AppId, 3 as ShuffleId)).toBe('app-1/3');
  });
});
