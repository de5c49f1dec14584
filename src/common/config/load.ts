// Loads configuration: defaults < file (JSON) < environment (SLUICE_*) < flags < overrides.
// Unknown keys are rejected with a "did you mean" hint; the result is frozen.
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { CONFIG_BY_KEY, CONFIG_ENTRIES, type ConfigKey, type ConfigValues } from './registry.js';
import { closestKey, parseValue } from './types.js';

export type Config = ConfigValues;

/** Environment variables with this prefix are configuration keys (SLUICE_MANAGER_GRPC_PORT). */
export const ENV_PREFIX = 'SLUICE_';
/** Environment variables with the prefix that are not keys. */
const ENV_RESERVED = new Set(['SLUICE_CONFIG']);

export interface LoadConfigOptions {
  /** Path of a JSON file: flat dotted keys or nested objects. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Flag values by dotted key (the CLI maps its aliases to keys). */
  flags?: Readonly<Record<string, string>>;
  /** Programmatic values (tests, in-process servers). */
  overrides?: Partial<Record<ConfigKey, unknown>>;
}

/** SLUICE_MANAGER_GRPC_PORT for manager.grpcPort. */
export function envName(key: string): string {
  return (
    ENV_PREFIX +
    key
      .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
      .replace(/\./g, '_')
      .toUpperCase()
  );
}

const ENV_TO_KEY = new Map(CONFIG_ENTRIES.map((e) => [envName(e.key), e.key]));

function unknownKey(key: string, source: string): ConfigError {
  const hint = closestKey(key, [...CONFIG_BY_KEY.keys()]);
  return new ConfigError(
    key,
    `unknown configuration key (from ${source})${hint ? `; did you mean "${hint}"?` : ''}`,
  );
}

function flatten(obj: Record<string, unknown>, prefix = '', out: Record<string, unknown> = {}) {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && !CONFIG_BY_KEY.has(key)) {
      flatten(v as Record<string, unknown>, key, out);
    } else out[key] = v;
  }
  return out;
}

function readFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError('config', `cannot read ${file}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError('config', `${file} is not valid JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError('config', `${file} must hold a JSON object of configuration keys`);
  }
  return flatten(parsed as Record<string, unknown>);
}

export function loadConfig(options: LoadConfigOptions = {}): Config {
  const values: Record<string, unknown> = {};
  for (const entry of CONFIG_ENTRIES) values[entry.key] = entry.default;

  const apply = (source: string, pairs: Record<string, unknown>) => {
    for (const [key, raw] of Object.entries(pairs)) {
      const entry = CONFIG_BY_KEY.get(key);
      if (!entry) throw unknownKey(key, source);
      values[key] = parseValue(entry, raw);
    }
  };

  if (options.file) apply(`file ${options.file}`, readFile(options.file));
  const env = options.env ?? {};
  const fromEnv: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || ENV_RESERVED.has(name) || raw === undefined) continue;
    const key = ENV_TO_KEY.get(name);
    if (!key) {
      const hint = closestKey(name, [...ENV_TO_KEY.keys()]);
      throw new ConfigError(
        name,
        `unknown environment variable${hint ? `; did you mean ${hint}?` : ''}`,
      );
    }
    fromEnv[key] = raw;
  }
  apply('environment', fromEnv);
  apply('flags', { ...options.flags });
  // An explicit `undefined` override means "not set", as an unset environment variable does.
  apply(
    'overrides',
    Object.fromEntries(Object.entries({ ...options.overrides }).filter(([, v]) => v !== undefined)),
  );
  return Object.freeze(values) as Config;
}
