// What both stores check about a tombstone before writing it, so the memory and SQLite stores
// refuse the same calls. Only the key is checked: a deleteApp or deleteShuffle whose tombstone
// names another app or shuffle is a caller bug that would otherwise delete one thing and
// remember another as dead. The rest of the record is trusted like every other record (the
// SQLite schema still refuses an unknown reason or a fractional time).
import { InvalidArgumentError } from '../../common/errors.js';
import type { AppId, ShuffleId } from '../../common/ids.js';
import type { TombstoneRecord } from './store.js';

/**
 * Throws InvalidArgumentError unless `tombstone` is keyed (appId, shuffleId); a null
 * shuffleId means the whole app. Called before anything is written.
 */
export function checkTombstoneKey(
  appId: AppId,
  shuffleId: ShuffleId | null,
  tombstone: TombstoneRecord,
): void {
  const context = {
    appId,
    shuffleId,
    tombstoneAppId: tombstone.appId,
    tombstoneShuffleId: tombstone.shuffleId,
  };
  if (tombstone.appId !== appId) {
    throw new InvalidArgumentError(
      'tombstone.appId',
      `is "${tombstone.appId}" but the deleted app is "${appId}"`,
      { context },
    );
  }
  if (tombstone.shuffleId !== shuffleId) {
    const expected = shuffleId === null ? 'null (the whole app)' : String(shuffleId);
    throw new InvalidArgumentError(
      'tombstone.shuffleId',
      `is ${String(tombstone.shuffleId)} but must be ${expected}`,
      { context },
    );
  }
}

/** load() order: by appId (code units, as SQLite's BINARY), then shuffleId with null first. */
export function compareTombstones(a: TombstoneRecord, b: TombstoneRecord): number {
  if (a.appId !== b.appId) return a.appId < b.appId ? -1 : 1;
  return (a.shuffleId ?? -1) - (b.shuffleId ?? -1);
}
