import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { CONFIG_BY_KEY, CONFIG_ENTRIES } from './registry.js';
import { closestKey, formatValue, parseValue, type ConfigEntry, type ConfigType } from './types.js';

const entry = (type: ConfigType, extra: Partial<ConfigEntry> = {}): ConfigEntry => ({
  key: `test.${type}`,
  type,
  default: undefined,
  doc: '',
  category: 'test',
  ...extra,
});

const KiB = 1024;
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

describe('parseValue: accepted values', () => {
  it.each<{ type: ConfigType; raw: unknown; want: unknown; extra?: Partial<ConfigEntry> }>([
    { type: 'bytes', raw: '64MiB', want: 64 * MiB },
    { type: 'bytes', raw: '1GiB', want: GiB },
    { type: 'bytes', raw: '10KB', want: 10_000 },
    { type: 'bytes', raw: '10KiB', want: 10 * KiB },
    { type: 'bytes', raw: '1mb', want: 1_000_000 },
    { type: 'bytes', raw: '512B', want: 512 },
    { type: 'bytes', raw: '2 MiB', want: 2 * MiB },
    { type: 'bytes', raw: ' 1.5KiB ', want: 1536 },
    { type: 'bytes', raw: 4096, want: 4096 },
    { type: 'bytes', raw: '4096', want: 4096 },
    { type: 'bytes', raw: '0', want: 0 },
    { type: 'duration', raw: '10s', want: 10_000 },
    { type: 'duration', raw: '500ms', want: 500 },
    { type: 'duration', raw: '2m', want: 120_000 },
    { type: 'duration', raw: '1h', want: 3_600_000 },
    { type: 'duration', raw: '1.5s', want: 1_500 },
    { type: 'duration', raw: 250, want: 250 },
    { type: 'duration', raw: '250', want: 250 },
    { type: 'int', raw: '42', want: 42 },
    { type: 'int', raw: ' 7 ', want: 7 },
    { type: 'int', raw: 42, want: 42 },
    { type: 'int', raw: '0', want: 0 },
    { type: 'float', raw: '0.25', want: 0.25 },
    { type: 'float', raw: 3, want: 3 },
    { type: 'bool', raw: true, want: true },
    { type: 'bool', raw: false, want: false },
    { type: 'bool', raw: 'true', want: true },
    { type: 'bool', raw: 'yes', want: true },
    { type: 'bool', raw: '1', want: true },
    { type: 'bool', raw: 'false', want: false },
    { type: 'bool', raw: 'no', want: false },
    { type: 'bool', raw: '0', want: false },
    { type: 'string', raw: 'a value', want: 'a value' },
    { type: 'string', raw: '', want: '' },
    { type: 'enum', raw: 'b', want: 'b', extra: { values: ['a', 'b'] } },
    { type: 'int', raw: '65535', want: 65_535, extra: { min: 0, max: 65_535 } },
    { type: 'duration', raw: '1ms', want: 1, extra: { min: 1 } },
  ])('$type $raw → $want', ({ type, raw, want, extra }) => {
    expect(parseValue(entry(type, extra), raw)).toBe(want);
  });
});

describe('parseValue: refused values name the key', () => {
  it.each<{ type: ConfigType; raw: unknown; want: string; extra?: Partial<ConfigEntry> }>([
    { type: 'bytes', raw: '12XB', want: 'byte size' },
    { type: 'bytes', raw: 'MiB', want: 'byte size' },
    { type: 'bytes', raw: '-5', want: 'byte size' },
    { type: 'bytes', raw: '', want: 'byte size' },
    { type: 'bytes', raw: 1.5, want: 'byte size' },
    { type: 'bytes', raw: true, want: 'byte size' },
    { type: 'bytes', raw: null, want: 'byte size' },
    { type: 'duration', raw: '5 parsecs', want: 'duration' },
    { type: 'duration', raw: '10d', want: 'duration' },
    { type: 'duration', raw: '1s2ms', want: 'duration' },
    { type: 'duration', raw: 'soon', want: 'duration' },
    // Longer than one Node timer can wait (it would fire at once).
    { type: 'duration', raw: '600h', want: 'at most 2147483647 ms' },
    { type: 'duration', raw: 2 ** 31, want: 'at most 2147483647 ms' },
    { type: 'int', raw: '1.5', want: 'integer' },
    { type: 'int', raw: 1.5, want: 'integer' },
    { type: 'int', raw: 'abc', want: 'integer' },
    { type: 'int', raw: '', want: 'integer' },
    { type: 'int', raw: Number.NaN, want: 'integer' },
    { type: 'int', raw: Number.POSITIVE_INFINITY, want: 'integer' },
    { type: 'int', raw: false, want: 'integer' },
    { type: 'int', raw: 70_000, want: '<= 65535', extra: { min: 0, max: 65_535 } },
    { type: 'int', raw: -1, want: '>= 0', extra: { min: 0, max: 65_535 } },
    { type: 'float', raw: 'half', want: 'number' },
    { type: 'bool', raw: 'maybe', want: 'true or false' },
    { type: 'bool', raw: 2, want: 'true or false' },
    { type: 'bool', raw: '', want: 'true or false' },
    { type: 'enum', raw: 'c', want: 'a | b', extra: { values: ['a', 'b'] } },
    { type: 'enum', raw: 1, want: 'a | b', extra: { values: ['a', 'b'] } },
    { type: 'string', raw: 5, want: 'string' },
    { type: 'string', raw: ['a'], want: 'string' },
  ])('$type $raw → refused ($want)', ({ type, raw, want, extra }) => {
    const e = entry(type, extra);
    let caught: unknown;
    try {
      parseValue(e, raw);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const err = caught as ConfigError;
    expect(err.code).toBe('SLUICE_ERR_CONFIG');
    expect(err.key).toBe(e.key);
    expect(err.message.startsWith(`${e.key}: `)).toBe(true);
    expect(err.message).toContain(want);
  });
});

describe('formatValue', () => {
  it.each<{ type: ConfigType; value: unknown; want: string }>([
    { type: 'bytes', value: GiB, want: '1GiB' },
    { type: 'bytes', value: 3 * GiB, want: '3GiB' },
    { type: 'bytes', value: 64 * MiB, want: '64MiB' },
    { type: 'bytes', value: 1536 * MiB, want: '1536MiB' },
    { type: 'bytes', value: 4 * KiB, want: '4KiB' },
    { type: 'bytes', value: 1500, want: '1500B' },
    { type: 'bytes', value: 0, want: '0B' },
    { type: 'duration', value: 120_000, want: '2m' },
    { type: 'duration', value: 10_000, want: '10s' },
    { type: 'duration', value: 1_500, want: '1500ms' },
    { type: 'duration', value: 0, want: '0ms' },
    { type: 'int', value: 9097, want: '9097' },
    { type: 'bool', value: true, want: 'true' },
    { type: 'string', value: '127.0.0.1', want: '127.0.0.1' },
  ])('$type $value → $want', ({ type, value, want }) => {
    expect(formatValue(entry(type), value)).toBe(want);
  });

  it('round-trips every registry default through parseValue', () => {
    for (const e of CONFIG_ENTRIES) {
      expect(parseValue(e, formatValue(e, e.default)), e.key).toEqual(e.default);
    }
  });

  it.each([0, 1, 999, 1024, 1536, 4096, 10_000, 64 * MiB, GiB, 5 * GiB + 1, 2 ** 40])(
    'round-trips bytes %d',
    (value) => {
      const e = entry('bytes');
      expect(parseValue(e, formatValue(e, value))).toBe(value);
    },
  );

  it.each([0, 1, 250, 1_000, 1_500, 59_000, 60_000, 90_000, 3_600_000, 86_400_000])(
    'round-trips duration %d ms',
    (value) => {
      const e = entry('duration');
      expect(parseValue(e, formatValue(e, value))).toBe(value);
    },
  );

  it('formats the bytes and duration defaults the way a user would write them', () => {
    expect(formatValue(CONFIG_BY_KEY.get('manager.minFreeDiskBytes')!, GiB)).toBe('1GiB');
    expect(formatValue(CONFIG_BY_KEY.get('grpc.deadlineMs')!, 10_000)).toBe('10s');
    expect(formatValue(CONFIG_BY_KEY.get('manager.appExpiryMs')!, 120_000)).toBe('2m');
  });
});

describe('closestKey', () => {
  const keys = [...CONFIG_BY_KEY.keys()];

  it.each([
    { input: 'manager.grpcport', want: 'manager.grpcPort' },
    { input: 'MANAGER.GRPCPORT', want: 'manager.grpcPort' },
    { input: 'manager.grpcPrt', want: 'manager.grpcPort' },
    { input: 'manger.host', want: 'manager.host' },
    { input: 'log.levle', want: 'log.level' },
    { input: 'zzzzzz', want: undefined },
  ])('$input → $want', ({ input, want }) => {
    expect(closestKey(input, keys)).toBe(want);
  });

  it('returns undefined for an empty key list', () => {
    expect(closestKey('manager.host', [])).toBeUndefined();
  });
});

describe('registry', () => {
  it('has unique keys, each default valid for its own entry', () => {
    expect(CONFIG_BY_KEY.size).toBe(CONFIG_ENTRIES.length);
    for (const e of CONFIG_ENTRIES) {
      expect(parseValue(e, e.default), e.key).toEqual(e.default);
      expect(e.doc.length, e.key).toBeGreaterThan(0);
      if (e.type === 'enum') expect(e.values, e.key).toContain(e.default);
    }
  });

  it('is frozen', () => {
    expect(Object.isFrozen(CONFIG_ENTRIES)).toBe(true);
    for (const e of CONFIG_ENTRIES) expect(Object.isFrozen(e), e.key).toBe(true);
  });
});
