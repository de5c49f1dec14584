// Ended apps and shuffles (docs/architecture.md#apps-expiry-and-tombstones): the manager tells workers to delete data only
// when it knows the data is dead, and never hands an ended id out again while it remembers
// it. That is what makes a late or repeated deletion order harmless: it cannot reach a new
// incarnation under the same id.
import type { AppId, ShuffleId } from '../../common/ids.js';
import type { TombstoneRecord } from '../state/store.js';

const key = (appId: string, shuffleId: number | null) => `${appId}/${shuffleId ?? '*'}`;

export class Tombstones {
  readonly #byKey = new Map<string, TombstoneRecord>();

  load(records: readonly TombstoneRecord[]): void {
    for (const t of records) this.#byKey.set(key(t.appId, t.shuffleId), t);
  }

  add(t: TombstoneRecord): void {
    if (t.shuffleId === null) {
      for (const [k, other] of this.#byKey) if (other.appId === t.appId) this.#byKey.delete(k);
    }
    this.#byKey.set(key(t.appId, t.shuffleId), t);
  }

  /** The app ended (expired or unregistered). */
  app(appId: string): TombstoneRecord | undefined {
    return this.#byKey.get(key(appId, null));
  }

  /** The shuffle was released, or its whole app ended. */
  shuffle(appId: string, shuffleId: number): TombstoneRecord | undefined {
    return this.#byKey.get(key(appId, shuffleId)) ?? this.app(appId);
  }

  prune(beforeMs: number): void {
    for (const [k, t] of this.#byKey) if (t.deletedAtMs < beforeMs) this.#byKey.delete(k);
  }

  list(): TombstoneRecord[] {
    return [...this.#byKey.values()];
  }

  static app(appId: AppId, reason: 'expired' | 'unregistered', atMs: number): TombstoneRecord {
    return { appId, shuffleId: null, reason, deletedAtMs: atMs };
  }

  static shuffle(appId: AppId, shuffleId: ShuffleId, atMs: number): TombstoneRecord {
    return { appId, shuffleId, reason: 'released', deletedAtMs: atMs };
  }
}
