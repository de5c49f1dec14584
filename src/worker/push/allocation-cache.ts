// Which (app, shuffle, group, epoch) this worker may accept pushes for (docs/architecture.md#worker). The
// manager is asked once per shuffle (and again when a push names a newer epoch than the one
// cached); every epoch seen is remembered, so pushes still in flight for an epoch this worker
// served before a reallocation keep being accepted. Concurrent first pushes share one
// lookup; "not allocated" answers are cached briefly so a dead app cannot hammer the manager.
import type { SluiceError } from '../../common/errors.js';

export interface GroupView {
  readonly groupId: number;
  readonly startPartition: number;
  readonly endPartition: number;
  readonly epoch: number;
  readonly workerIds: readonly string[];
}

/** Returns the shuffle's current groups, or undefined when the manager says NOT_FOUND. */
export type ShuffleLookup = (
  appId: string,
  shuffleId: number,
) => Promise<readonly GroupView[] | undefined>;

export type AllocationVerdict = 'OK' | 'UNKNOWN_SHUFFLE' | 'STALE_EPOCH' | 'UNAVAILABLE';

interface Entry {
  /** groupId -> epoch -> whether this worker serves it. */
  readonly epochs: Map<number, Map<number, boolean>>;
  readonly ranges: Map<number, [number, number]>;
  readonly current: Map<number, number>;
}

const NEGATIVE_TTL_MS = 1_000;
/** Shuffles remembered at most (oldest forgotten first; a forgotten one is asked again). */
const MAX_ENTRIES = 10_000;

export class AllocationCache {
  readonly #workerId: string;
  readonly #lookup: ShuffleLookup;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();
  readonly #inflight = new Map<string, Promise<Entry | undefined>>();
  readonly #missing = new Map<string, number>();
  readonly #unreachable = new Set<string>();

  constructor(workerId: string, lookup: ShuffleLookup, now: () => number = Date.now) {
    this.#workerId = workerId;
    this.#lookup = lookup;
    this.#now = now;
  }

  /** Checks a push; partitions must lie inside the group's range. */
  async check(
    appId: string,
    shuffleId: number,
    groupId: number,
    epoch: number,
    partitions: readonly number[],
  ): Promise<AllocationVerdict> {
    const key = `${appId}/${shuffleId}`;
    let entry = this.#entries.get(key) ?? (await this.#fetch(key, appId, shuffleId));
    // Groups never change in number; only a newer epoch of a known group needs a refresh.
    const current = entry?.current.get(groupId);
    if (current !== undefined && current < epoch)
      entry = await this.#fetch(key, appId, shuffleId, true);
    // An unreachable manager is a reason to retry, not a verdict on the push.
    const unsure = this.#unreachable.has(key) ? 'UNAVAILABLE' : 'UNKNOWN_SHUFFLE';
    if (!entry) return unsure;
    const range = entry.ranges.get(groupId);
    const serves = entry.epochs.get(groupId)?.get(epoch);
    if (!range || partitions.some((p) => p < range[0] || p >= range[1])) return 'UNKNOWN_SHUFFLE';
    if (serves === true) return 'OK';
    return epoch < (entry.current.get(groupId) ?? 0) ? 'STALE_EPOCH' : unsure;
  }

  /** Forgets a shuffle or a whole app (after deletion). */
  forget(appId: string, shuffleId?: number): void {
    for (const map of [this.#entries, this.#missing]) {
      for (const k of [...map.keys()])
        if (shuffleId === undefined ? k.startsWith(`${appId}/`) : k === `${appId}/${shuffleId}`)
          map.delete(k);
    }
  }

  #fetch(
    key: string,
    appId: string,
    shuffleId: number,
    refresh = false,
  ): Promise<Entry | undefined> {
    const missingAt = this.#missing.get(key);
    if (!refresh && missingAt !== undefined && this.#now() - missingAt < NEGATIVE_TTL_MS)
      return Promise.resolve(undefined);
    let p = this.#inflight.get(key);
    if (!p) {
      p = this.#load(key, appId, shuffleId).finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, p);
    }
    return p;
  }

  async #load(key: string, appId: string, shuffleId: number): Promise<Entry | undefined> {
    let groups: readonly GroupView[] | undefined;
    try {
      groups = await this.#lookup(appId, shuffleId);
    } catch (err) {
      // The manager is unreachable: keep what we knew; the push gets a retriable answer.
      if ((err as SluiceError).retriable) {
        this.#unreachable.add(key);
        return this.#entries.get(key);
      }
      throw err;
    }
    this.#unreachable.delete(key);
    if (!groups) {
      this.#missing.set(key, this.#now());
      return this.#entries.get(key);
    }
    const entry = this.#entries.get(key) ?? {
      epochs: new Map(),
      ranges: new Map(),
      current: new Map(),
    };
    for (const g of groups) {
      const seen = entry.epochs.get(g.groupId) ?? new Map<number, boolean>();
      seen.set(g.epoch, g.workerIds.includes(this.#workerId));
      entry.epochs.set(g.groupId, seen);
      entry.ranges.set(g.groupId, [g.startPartition, g.endPartition]);
      entry.current.set(g.groupId, Math.max(entry.current.get(g.groupId) ?? 0, g.epoch));
    }
    this.#missing.delete(key);
    this.#unreachable.delete(key);
    this.#entries.delete(key); // re-insert: the map's order is least recently loaded first
    this.#entries.set(key, entry);
    for (const map of [this.#entries, this.#missing]) {
      while (map.size > MAX_ENTRIES) map.delete(map.keys().next().value!);
    }
    return entry;
  }
}
