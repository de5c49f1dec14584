// Branded identifiers (docs/development.md#code-style). App, shuffle and worker ids become file paths on
// workers (<dir>/<appId>/<shuffleId>/...), so anything but [A-Za-z0-9._-]{1,128} is refused,
// and so are the path components "." and "..".
import { InvalidArgumentError } from './errors.js';

declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

export type AppId = Brand<string, 'AppId'>;
export type WorkerId = Brand<string, 'WorkerId'>;
export type ShuffleId = Brand<number, 'ShuffleId'>;

const SAFE_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** Largest shuffle id, partition index or map id accepted on any interface (u32 range). */
export const MAX_U32 = 0xffff_ffff;

function safeName(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidArgumentError(field, 'must be a non-empty string');
  }
  if (!SAFE_ID.test(value)) {
    const shown = JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
    throw new InvalidArgumentError(
      field,
      `${shown} is not a valid id: use 1-128 characters of [A-Za-z0-9._-]`,
    );
  }
  if (value === '.' || value === '..') {
    throw new InvalidArgumentError(field, `"${value}" is not a valid id: it is a path component`);
  }
  return value;
}

export function parseAppId(value: unknown, field = 'appId'): AppId {
  return safeName(value, field) as AppId;
}

/** Whether `value` is a valid app id (a name a listing may skip rather than fail on). */
export function isAppId(value: string): boolean {
  try {
    parseAppId(value);
    return true;
  } catch {
    return false;
  }
}

export function parseWorkerId(value: unknown, field = 'workerId'): WorkerId {
  return safeName(value, field) as WorkerId;
}

/** Validates a non-negative integer within [min, max]; the error names the field. */
export function parseInteger(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    const shown = typeof value === 'bigint' ? `${value}n` : JSON.stringify(value);
    throw new InvalidArgumentError(field, `must be an integer, got ${shown}`);
  }
  if (value < min || value > max) {
    throw new InvalidArgumentError(field, `must be between ${min} and ${max}, got ${value}`);
  }
  return value;
}

export function parseShuffleId(value: unknown, field = 'shuffleId'): ShuffleId {
  return parseInteger(value, field, 0, 0x7fff_ffff) as ShuffleId;
}

/**
 * The key of one shuffle in maps, logs and on the wire: "<appId>/<shuffleId>". Plain ids are
 * accepted too: the worker's files and messages carry ids already validated, unbranded.
 */
export function shuffleKey(appId: AppId | string, shuffleId: ShuffleId | number): string {
  return `${appId}/${shuffleId}`;
}
