// Parsing of the configuration value types (docs/development.md#configuration). Every parser names the key in
// its error so a daemon that refuses to start says exactly what to fix.
import { ConfigError } from '../errors.js';

/** The longest duration a key may hold: what one Node timer can wait (2^31 - 1 ms). */
export const MAX_DURATION_MS = 2 ** 31 - 1;

export type ConfigType = 'string' | 'int' | 'float' | 'bool' | 'bytes' | 'duration' | 'enum';

export interface ConfigEntry<T = unknown> {
  readonly key: string;
  readonly type: ConfigType;
  readonly default: T;
  readonly doc: string;
  readonly category: string;
  readonly min?: number;
  readonly max?: number;
  readonly values?: readonly string[];
  /** Internal keys (`test.*`, fault injection) are hidden from the generated docs. */
  readonly internal?: boolean;
}

const BYTE_UNITS: Record<string, number> = {
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1000 ** 4,
  tib: 1024 ** 4,
};

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function numberWithUnit(
  key: string,
  raw: string,
  units: Record<string, number>,
  defaultUnit: string,
  what: string,
): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(raw);
  const unit = (m?.[2] || defaultUnit).toLowerCase();
  const factor = units[unit];
  if (!m || factor === undefined) {
    throw new ConfigError(
      key,
      `${JSON.stringify(raw)} is not a ${what} (examples: ${Object.keys(units).slice(0, 4).join(', ')})`,
    );
  }
  return Math.round(Number(m[1]) * factor);
}

function checkRange(entry: ConfigEntry, value: number): number {
  if (entry.min !== undefined && value < entry.min) {
    throw new ConfigError(entry.key, `must be >= ${entry.min}, got ${value}`);
  }
  if (entry.max !== undefined && value > entry.max) {
    throw new ConfigError(entry.key, `must be <= ${entry.max}, got ${value}`);
  }
  return value;
}

/** Parses a value from a file (any JSON type), the environment or a flag (strings). */
export function parseValue(entry: ConfigEntry, raw: unknown): unknown {
  const { key } = entry;
  const text = typeof raw === 'string' ? raw.trim() : undefined;
  switch (entry.type) {
    case 'string':
      if (typeof raw !== 'string')
        throw new ConfigError(key, `must be a string, got ${JSON.stringify(raw)}`);
      return raw;
    case 'enum': {
      const values = entry.values ?? [];
      if (typeof raw !== 'string' || !values.includes(raw)) {
        throw new ConfigError(
          key,
          `must be one of ${values.join(' | ')}, got ${JSON.stringify(raw)}`,
        );
      }
      return raw;
    }
    case 'bool':
      if (typeof raw === 'boolean') return raw;
      if (text === 'true' || text === '1' || text === 'yes') return true;
      if (text === 'false' || text === '0' || text === 'no') return false;
      throw new ConfigError(key, `must be true or false, got ${JSON.stringify(raw)}`);
    case 'int':
    case 'float': {
      const n =
        typeof raw === 'number' ? raw : text !== undefined && text !== '' ? Number(text) : NaN;
      if (!Number.isFinite(n) || (entry.type === 'int' && !Number.isInteger(n))) {
        throw new ConfigError(
          key,
          `must be ${entry.type === 'int' ? 'an integer' : 'a number'}, got ${JSON.stringify(raw)}`,
        );
      }
      return checkRange(entry, n);
    }
    case 'bytes':
    case 'duration': {
      const isBytes = entry.type === 'bytes';
      let n: number;
      if (typeof raw === 'number' && Number.isInteger(raw)) n = raw;
      else if (text !== undefined) {
        n = isBytes
          ? numberWithUnit(key, text, BYTE_UNITS, 'b', 'byte size')
          : numberWithUnit(key, text, DURATION_UNITS, 'ms', 'duration');
      } else
        throw new ConfigError(
          key,
          `must be a ${isBytes ? 'byte size' : 'duration'}, got ${JSON.stringify(raw)}`,
        );
      // Node's timers cannot wait longer: a longer one fires at once, with a warning.
      if (!isBytes && n > MAX_DURATION_MS)
        throw new ConfigError(
          key,
          `must be at most ${MAX_DURATION_MS} ms (about 24.8 days), got ${n}`,
        );
      return checkRange(entry, n);
    }
  }
}

/** Formats a value the way a user would write it (docs, `sluice config`). */
export function formatValue(entry: ConfigEntry, value: unknown): string {
  if (entry.type === 'bytes' && typeof value === 'number') {
    for (const [unit, factor] of [
      ['GiB', 1024 ** 3],
      ['MiB', 1024 ** 2],
      ['KiB', 1024],
    ] as const) {
      if (value >= factor && value % factor === 0) return `${value / factor}${unit}`;
    }
    return `${value}B`;
  }
  if (entry.type === 'duration' && typeof value === 'number') {
    if (value >= 60_000 && value % 60_000 === 0) return `${value / 60_000}m`;
    if (value >= 1000 && value % 1000 === 0) return `${value / 1000}s`;
    return `${value}ms`;
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The closest known key, for "did you mean" hints. */
export function closestKey(input: string, keys: readonly string[]): string | undefined {
  const lower = input.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const key of keys) {
    const d = levenshtein(lower, key.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = key;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(input.length / 3)) ? best : undefined;
}

function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(
        prev[j]! + 1,
        cur[j - 1]! + 1,
        prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = cur;
  }
  return prev[b.length]!;
}
