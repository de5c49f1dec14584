// How each storage is doing (docs/architecture.md#storage-health): measured, not assumed.
// Every storage.probeIntervalMs each storage is probed (a small file written, read back and
// deleted) and its usage read; write errors are reported as they happen. A storage is
//   hung        when a write or probe has run longer than storage.hungMs;
//   failing     when an I/O error was seen within storage.errorWindowMs, or the last probe failed;
//   high-usage  (local disks) when more than storage.diskHighWatermark of its capacity is used;
//   healthy     otherwise.
// Only a healthy storage gets new files while one exists (partition-store.ts), heartbeats
// carry each state to the manager, which allocates nothing to a worker without a healthy
// storage, and every change is logged and counted.
import type { Logger } from '../../common/obs/logger.js';
import { WireProtocolError } from '../../common/wire/index.js';
import type { Storage, StorageState, StorageUsage } from './storage.js';

export interface StorageHealthOptions {
  readonly storages: readonly Storage[];
  /** Used share of capacity above which a storage is high-usage (0..1). */
  readonly highWatermark: number;
  readonly hungMs: number;
  readonly probeIntervalMs: number;
  readonly errorWindowMs: number;
  readonly logger: Logger;
  readonly onTransition?: (
    storage: Storage,
    from: StorageState,
    to: StorageState,
    reason: string,
  ) => void;
  /** Injected for tests; defaults to Date.now. */
  readonly now?: () => number;
}

export interface StorageStatus {
  readonly storage: Storage;
  readonly state: StorageState;
  /** Why it is not healthy (empty when healthy). */
  readonly reason: string;
  readonly usage: StorageUsage;
  /** I/O errors seen since the worker started. */
  readonly errors: number;
}

interface Tracked {
  readonly storage: Storage;
  state: StorageState;
  reason: string;
  usage: StorageUsage;
  errors: number;
  lastErrorAtMs: number;
  lastError: string;
  probeFailed: string;
  probing: Promise<void> | undefined;
  probeStartedMs: number;
}

export class StorageHealth {
  readonly #opts: StorageHealthOptions;
  readonly #tracked: Map<Storage, Tracked>;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(opts: StorageHealthOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
    this.#tracked = new Map(
      opts.storages.map((storage) => [
        storage,
        {
          storage,
          state: 'healthy',
          reason: '',
          usage: { capacityBytes: 0, freeBytes: 0 },
          errors: 0,
          lastErrorAtMs: -Infinity,
          lastError: '',
          probeFailed: '',
          probing: undefined,
          probeStartedMs: 0,
        },
      ]),
    );
  }

  /** Checks every storage now, then every probeIntervalMs. */
  async start(): Promise<void> {
    await this.check();
    this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  state(storage: Storage): StorageState {
    return this.#tracked.get(storage)?.state ?? 'healthy';
  }

  status(): StorageStatus[] {
    return [...this.#tracked.values()].map((t) => ({
      storage: t.storage,
      state: t.state,
      reason: t.reason,
      usage: t.usage,
      errors: t.errors,
    }));
  }

  /**
   * A write, commit or read failed on `storage`: failing from now on, for errorWindowMs —
   * unless the error is about one file rather than the storage (see fileError).
   */
  recordError(storage: Storage, err: unknown): void {
    const t = this.#tracked.get(storage);
    if (!t || fileError(err)) return;
    t.errors++;
    t.lastErrorAtMs = this.#now();
    t.lastError = err instanceof Error ? err.message : String(err);
    this.#update(t);
  }

  /** Probes (without waiting past hungMs) and reads the usage of every storage. */
  async check(): Promise<void> {
    await Promise.all([...this.#tracked.values()].map((t) => this.#checkOne(t)));
  }

  async #checkOne(t: Tracked): Promise<void> {
    // A probe still running from an earlier check is not doubled; hung shows it.
    if (!t.probing) {
      t.probeStartedMs = this.#now();
      t.probing = t.storage
        .probe()
        .then(
          () => {
            t.probeFailed = '';
          },
          (err: unknown) => {
            t.probeFailed = err instanceof Error ? err.message : String(err);
          },
        )
        .finally(() => {
          t.probing = undefined;
          this.#update(t);
        });
    }
    // Neither a hung probe nor a hung usage() may stall the checks of every storage: wait
    // for each a little past hungMs at most (a probe still running then is judged hung).
    await this.#bounded(t.probing);
    const usage = await this.#bounded(t.storage.usage()).catch((err: unknown) => {
      t.probeFailed ||= `usage: ${err instanceof Error ? err.message : String(err)}`;
      return undefined;
    });
    if (usage) t.usage = usage;
    this.#update(t);
  }

  /** `p`, or undefined once it has taken longer than hungMs. */
  async #bounded<T>(p: Promise<T> | undefined): Promise<T | undefined> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        p,
        new Promise<undefined>((resolve) => {
          timer = setTimeout(resolve, this.#opts.hungMs + 10, undefined);
          timer.unref();
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  #update(t: Tracked): void {
    const { state, reason } = this.#judge(t);
    if (state === t.state) {
      t.reason = reason;
      return;
    }
    const from = t.state;
    t.state = state;
    t.reason = reason;
    const log = state === 'healthy' ? this.#opts.logger.info : this.#opts.logger.warn;
    log.call(
      this.#opts.logger,
      { storage: t.storage.name, kind: t.storage.kind, from, to: state, reason },
      state === 'healthy'
        ? 'storage healthy again: it takes new files'
        : 'storage not healthy: it gets no new files',
    );
    this.#opts.onTransition?.(t.storage, from, state, reason);
  }

  #judge(t: Tracked): { state: StorageState; reason: string } {
    const now = this.#now();
    const hungMs = this.#opts.hungMs;
    const oldest = Math.max(t.storage.oldestOperationMs(), t.probing ? now - t.probeStartedMs : 0);
    if (oldest > hungMs)
      return {
        state: 'hung',
        reason: `an operation has run for ${oldest} ms (storage.hungMs ${hungMs})`,
      };
    if (now - t.lastErrorAtMs < this.#opts.errorWindowMs)
      return { state: 'failing', reason: `I/O error: ${t.lastError}` };
    if (t.probeFailed) return { state: 'failing', reason: `probe failed: ${t.probeFailed}` };
    // The watermark is the local disks'. A remote tier's fill level is its own cluster's
    // business (HDFS's usage is the whole cluster's, S3 reports none); a remote tier that is
    // full fails its writes and is failing.
    const { capacityBytes, freeBytes } = t.usage;
    if (capacityBytes > 0 && t.storage.kind === 'disk') {
      const used = 1 - freeBytes / capacityBytes;
      if (used > this.#opts.highWatermark)
        return {
          state: 'high-usage',
          reason: `${(used * 100).toFixed(1)}% used (storage.diskHighWatermark ${this.#opts.highWatermark})`,
        };
    }
    return { state: 'healthy', reason: '' };
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.check()
        .catch((err: unknown) => this.#opts.logger.warn({ err }, 'storage health check failed'))
        .finally(() => this.#schedule());
    }, this.#opts.probeIntervalMs);
    this.#timer.unref();
  }
}

/**
 * Errors that say something about one file, not about the storage: a file deleted under the
 * worker (ENOENT, NOT_FOUND), a handle closed by a reader that left (EBADF), a file shorter
 * than its index (CORRUPT_FILE). A disk answering these works. So does one the process cannot
 * open more files on (EMFILE, ENFILE: its or the system's open-file limit).
 */
export function fileError(err: unknown): boolean {
  if (err instanceof WireProtocolError) return true;
  const code = (err as { code?: unknown } | undefined)?.code;
  return (
    code === 'ENOENT' ||
    code === 'EBADF' ||
    code === 'EMFILE' ||
    code === 'ENFILE' ||
    code === 'SLUICE_ERR_NOT_FOUND'
  );
}
