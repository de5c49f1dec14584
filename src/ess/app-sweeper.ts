// Outputs of apps that ended without telling the ESS (docs/architecture.md#ess-mode): a driver
// that dies never sends REMOVE_OUTPUTS, and the manager then expires its app. With
// `ess.manager` set, every `ess.appSweepIntervalMs` the ESS lists the app directories under
// its directory, asks the manager for the registered apps (GetClusterState, every page), and
// deletes the directories of apps it does not list that nothing wrote for a whole interval
// (an app registers before its executors write, so a fresh directory of an app the manager
// does not list yet is left for the next sweep). A failed call deletes nothing.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ManagerClient } from '../common/proto/manager-client.js';
import type { Logger } from '../common/obs/logger.js';

export interface AppSweeperOptions {
  readonly dir: string;
  readonly manager: ManagerClient;
  readonly intervalMs: number;
  readonly remove: (appId: string) => Promise<number>;
  readonly logger: Logger;
}

export class AppSweeper {
  readonly #o: AppSweeperOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(o: AppSweeperOptions) {
    this.#o = o;
  }

  start(): void {
    this.#timer ??= setInterval(() => void this.sweep(), this.#o.intervalMs);
    this.#timer.unref();
  }

  /** Stops the timer and waits for a sweep in progress. Idempotent. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }

  /** One sweep (the timer runs them; tests may too). */
  sweep(): Promise<void> {
    this.#running ??= this.#sweep()
      .catch((err: unknown) =>
        this.#o.logger.warn({ err }, 'ESS app sweep failed; nothing deleted'),
      )
      .finally(() => (this.#running = undefined));
    return this.#running;
  }

  async #sweep(): Promise<void> {
    const dirs = await readdir(this.#o.dir, { withFileTypes: true }).catch(() => []);
    const apps = dirs.filter((d) => d.isDirectory()).map((d) => d.name);
    if (apps.length === 0) return;
    const registered = await this.#registeredApps();
    const before = Date.now() - this.#o.intervalMs;
    for (const app of apps) {
      if (registered.has(app)) continue;
      const st = await stat(join(this.#o.dir, app)).catch(() => undefined);
      if (!st || st.mtimeMs > before) continue;
      const outputs = await this.#o.remove(app);
      this.#o.logger.info(
        { appId: app, outputs },
        'map outputs of an app the manager does not know removed',
      );
    }
  }

  async #registeredApps(): Promise<Set<string>> {
    const ids = new Set<string>();
    let pageToken = '';
    do {
      const page = await this.#o.manager.getClusterState({ pageToken });
      for (const a of page.apps) ids.add(a.appId);
      pageToken = page.nextPageToken;
    } while (pageToken);
    return ids;
  }
}
