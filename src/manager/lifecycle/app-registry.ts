// Live applications and their heartbeats (docs/architecture.md#lifecycle-of-one-shuffle step 1, docs/architecture.md#cluster-manager). Heartbeats live in
// memory only: after a restart every stored app gets a fresh grace period.
import type { AppId } from '../../common/ids.js';
import type { AppRecord } from '../state/store.js';

export interface AppView extends AppRecord {
  readonly lastHeartbeatMs: number;
}

export class AppRegistry {
  readonly #apps = new Map<AppId, AppView>();
  readonly #expiryMs: number;

  constructor(expiryMs: number) {
    this.#expiryMs = expiryMs;
  }

  put(app: AppRecord, nowMs: number): void {
    this.#apps.set(app.appId, { ...app, lastHeartbeatMs: nowMs });
  }

  get(appId: AppId): AppView | undefined {
    return this.#apps.get(appId);
  }

  has(appId: string): boolean {
    return this.#apps.has(appId as AppId);
  }

  /** Returns false when the app is unknown (expired, unregistered or never registered). */
  heartbeat(appId: AppId, nowMs: number): boolean {
    const app = this.#apps.get(appId);
    if (!app) return false;
    this.#apps.set(appId, { ...app, lastHeartbeatMs: nowMs });
    return true;
  }

  delete(appId: AppId): boolean {
    return this.#apps.delete(appId);
  }

  /** Apps silent for longer than the expiry; the caller deletes them. */
  expired(nowMs: number): AppId[] {
    return [...this.#apps.values()]
      .filter((a) => nowMs - a.lastHeartbeatMs > this.#expiryMs)
      .map((a) => a.appId);
  }

  list(): AppView[] {
    return [...this.#apps.values()].sort((a, b) => a.appId.localeCompare(b.appId));
  }

  get size(): number {
    return this.#apps.size;
  }
}
