// The in-memory StateStore (docs/architecture.md#cluster-manager: "memory (tests)"). Nothing survives the process; it
// exists so manager tests run without files and so the contract suite has a reference
// behaviour to hold the durable stores to. Everything is deep-copied on the way in and out:
// callers (the registry, the allocator) keep and mutate their own objects, and a store that
// aliased them would report state that was never written.
import { NotFoundError, StateStoreError } from '../../common/errors.js';
import { shuffleKey } from '../../common/ids.js';
import type { AppId, ShuffleId } from '../../common/ids.js';
import type {
  AppRecord,
  GroupRecord,
  ShuffleRecord,
  StateSnapshot,
  StateStore,
  TombstoneRecord,
} from './store.js';
import { checkTombstoneKey, compareTombstones } from './tombstone-check.js';

/** Orders by UTF-16 code units, which for the ASCII-only ids (ids.ts) equals SQLite's BINARY. */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareShuffles(a: ShuffleRecord, b: ShuffleRecord): number {
  return compareStrings(a.appId, b.appId) || a.shuffleId - b.shuffleId;
}

/** "<appId>/*" for the whole app; "*" cannot occur in an id (ids.ts), so keys never collide. */
function tombstoneKey(appId: AppId, shuffleId: ShuffleId | null): string {
  return shuffleId === null ? `${appId}/*` : shuffleKey(appId, shuffleId);
}

export class MemoryStateStore implements StateStore {
  readonly kind = 'memory';
  #apps = new Map<AppId, AppRecord>();
  /** Keyed by shuffleKey(appId, shuffleId). */
  #shuffles = new Map<string, ShuffleRecord>();
  /** Keyed by tombstoneKey(appId, shuffleId). */
  #tombstones = new Map<string, TombstoneRecord>();
  #closed = false;

  async load(): Promise<StateSnapshot> {
    this.#checkOpen();
    const apps = [...this.#apps.values()].sort((a, b) => compareStrings(a.appId, b.appId));
    const shuffles = [...this.#shuffles.values()].sort(compareShuffles);
    const tombstones = [...this.#tombstones.values()].sort(compareTombstones);
    return structuredClone({ apps, shuffles, tombstones });
  }

  async putApp(app: AppRecord): Promise<void> {
    this.#checkOpen();
    this.#apps.set(app.appId, structuredClone(app));
  }

  async deleteApp(appId: AppId, tombstone: TombstoneRecord): Promise<void> {
    this.#checkOpen();
    checkTombstoneKey(appId, null, tombstone);
    // Copied before anything changes, so nothing below can fail halfway (as a transaction).
    const copy = structuredClone(tombstone);
    this.#apps.delete(appId);
    for (const [key, shuffle] of this.#shuffles) {
      if (shuffle.appId === appId) this.#shuffles.delete(key);
    }
    // The app's shuffle tombstones and any earlier app tombstone; the new one replaces them.
    for (const [key, t] of this.#tombstones) {
      if (t.appId === appId) this.#tombstones.delete(key);
    }
    this.#tombstones.set(tombstoneKey(appId, null), copy);
  }

  async putShuffle(shuffle: ShuffleRecord): Promise<void> {
    this.#checkOpen();
    const copy = structuredClone(shuffle);
    // Same order as the SQLite store reads back (groupId), whatever order the caller built.
    const groups = [...copy.groups].sort((a, b) => a.groupId - b.groupId);
    this.#shuffles.set(shuffleKey(shuffle.appId, shuffle.shuffleId), { ...copy, groups });
  }

  async putGroup(appId: AppId, shuffleId: ShuffleId, group: GroupRecord): Promise<void> {
    this.#checkOpen();
    const key = shuffleKey(appId, shuffleId);
    const shuffle = this.#shuffles.get(key);
    if (shuffle === undefined) {
      throw new NotFoundError(`shuffle ${key} is not in the state store`, {
        context: { appId, shuffleId },
      });
    }
    const index = shuffle.groups.findIndex((g) => g.groupId === group.groupId);
    if (index < 0) {
      throw new NotFoundError(
        `group ${group.groupId} of shuffle ${key} is not in the state store`,
        {
          context: { appId, shuffleId, groupId: group.groupId },
        },
      );
    }
    const groups = shuffle.groups.slice();
    groups[index] = structuredClone(group);
    this.#shuffles.set(key, { ...shuffle, groups });
  }

  async deleteShuffle(
    appId: AppId,
    shuffleId: ShuffleId,
    tombstone: TombstoneRecord,
  ): Promise<void> {
    this.#checkOpen();
    checkTombstoneKey(appId, shuffleId, tombstone);
    const copy = structuredClone(tombstone);
    this.#shuffles.delete(shuffleKey(appId, shuffleId));
    this.#tombstones.set(tombstoneKey(appId, shuffleId), copy);
  }

  async pruneTombstones(beforeMs: number): Promise<number> {
    this.#checkOpen();
    let pruned = 0;
    for (const [key, t] of this.#tombstones) {
      if (t.deletedAtMs < beforeMs) {
        this.#tombstones.delete(key);
        pruned++;
      }
    }
    return pruned;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#apps.clear();
    this.#shuffles.clear();
    this.#tombstones.clear();
  }

  /** Same contract as the durable stores: a closed store refuses every call. */
  #checkOpen(): void {
    if (this.#closed) throw new StateStoreError('state store is closed');
  }
}
