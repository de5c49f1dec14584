// Per-app quotas (docs/operations.md#limits-against-hostile-or-buggy-clients): live shuffles,
// and partitions and partition groups summed over them. One app, buggy or hostile, must not
// fill the manager's memory, its state store or the workers' placement for every other app.
// Groups never grow after AllocateShuffle (ReallocateGroup and soft splits move a group to a
// new epoch and add none), so the quota is checked there only. Usage is kept per app as
// shuffles come and go, so a check costs O(1) however many shuffles there are.
import { QuotaExceededError } from '../../common/errors.js';
import type { ManagerQuotas } from '../types.js';

/** What one shuffle adds to its app's usage. */
export interface ShuffleSize {
  readonly appId: string;
  readonly numPartitions: number;
  readonly groups: number;
}

interface Usage {
  shuffles: number;
  partitions: number;
  groups: number;
}

export class AppQuotas {
  readonly #limits: ManagerQuotas;
  readonly #byApp = new Map<string, Usage>();

  constructor(limits: ManagerQuotas) {
    this.#limits = limits;
  }

  /**
   * Throws QuotaExceededError (naming the config key) when `next` would take its app past a
   * limit; checks in the order shuffles, partitions, groups.
   */
  check(next: ShuffleSize): void {
    const u = this.usage(next.appId);
    const l = this.#limits;
    const over: [string, number, number, string][] = [
      ['manager.maxShufflesPerApp', u.shuffles + 1, l.maxShufflesPerApp, 'live shuffles'],
      [
        'manager.maxPartitionsPerApp',
        u.partitions + next.numPartitions,
        l.maxPartitionsPerApp,
        'partitions',
      ],
      ['manager.maxGroupsPerApp', u.groups + next.groups, l.maxGroupsPerApp, 'partition groups'],
    ];
    for (const [key, would, limit, what] of over) {
      if (would <= limit) continue;
      throw new QuotaExceededError(
        key,
        `app ${next.appId} would hold ${would} ${what} in live shuffles, more than ${key} (${limit}); release shuffles it no longer needs`,
        { context: { appId: next.appId, max: limit, would } },
      );
    }
  }

  add(s: ShuffleSize): void {
    const u = this.usage(s.appId);
    this.#byApp.set(s.appId, {
      shuffles: u.shuffles + 1,
      partitions: u.partitions + s.numPartitions,
      groups: u.groups + s.groups,
    });
  }

  remove(s: ShuffleSize): void {
    const u = this.usage(s.appId);
    if (u.shuffles <= 1) {
      this.#byApp.delete(s.appId);
      return;
    }
    this.#byApp.set(s.appId, {
      shuffles: u.shuffles - 1,
      partitions: u.partitions - s.numPartitions,
      groups: u.groups - s.groups,
    });
  }

  dropApp(appId: string): void {
    this.#byApp.delete(appId);
  }

  usage(appId: string): Readonly<Usage> {
    return this.#byApp.get(appId) ?? { shuffles: 0, partitions: 0, groups: 0 };
  }
}
