// Which of a worker's data is dead (docs/architecture.md#cluster-manager: "tells workers which data to delete"), as a
// pure function of what the manager knows. Only data known dead is listed: a tombstoned app
// or shuffle, or an app never heard of once the manager has been up long enough that a live
// app would have re-registered (so a lost state file does not wipe the cluster at once).
import type { HeartbeatReply, ShuffleRefView } from '../types.js';
import type { Tombstones } from './tombstones.js';

export interface DeadDataInput {
  readonly held: readonly ShuffleRefView[];
  readonly isLiveApp: (appId: string) => boolean;
  readonly tombstones: Tombstones;
  /** The manager has been up for at least orphanGraceMs. */
  readonly orphansExpire: boolean;
}

export type DeadData = Pick<HeartbeatReply, 'expiredApps' | 'releasedShuffles'> & {
  /** Apps deleted only because nobody knows them (for a one-time warning). */
  readonly orphanApps: string[];
};

export function deadData({ held, isLiveApp, tombstones, orphansExpire }: DeadDataInput): DeadData {
  const expired = new Set<string>();
  const orphans = new Set<string>();
  const releasedShuffles: ShuffleRefView[] = [];
  for (const h of held) {
    if (isLiveApp(h.appId)) {
      if (tombstones.shuffle(h.appId, h.shuffleId))
        releasedShuffles.push({ appId: h.appId, shuffleId: h.shuffleId });
    } else if (tombstones.app(h.appId)) {
      expired.add(h.appId);
    } else if (orphansExpire) {
      expired.add(h.appId);
      orphans.add(h.appId);
    }
  }
  return { expiredApps: [...expired].sort(), releasedShuffles, orphanApps: [...orphans].sort() };
}
