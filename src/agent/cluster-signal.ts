// What the shuffle-capacity guard reads (docs/architecture.md#allocation-agent): the manager's view of the workers'
// memory and of the apps they throttle, polled with the shared retry helper (at most 10
// attempts, back-off capped at 5 s).
import { retry } from '../common/flow/retry.js';
import type { Logger } from '../common/obs/logger.js';
import { readClusterState } from '../common/proto/cluster-state.js';
import type { ManagerClient } from '../common/proto/manager-client.js';
import type { GetClusterStateResponse__Output } from '../common/proto/gen/sluice/v1/GetClusterStateResponse.js';
import type { ShuffleView } from './policy/types.js';

export const AGENT_RETRY = Object.freeze({ maxAttempts: 10, maxDelayMs: 5_000 });

export interface ClusterSnapshot {
  /** Highest memory used / budget over the healthy workers. */
  readonly maxMemoryFraction: number;
  readonly throttledApps: ReadonlySet<string>;
}

export const EMPTY_SNAPSHOT: ClusterSnapshot = { maxMemoryFraction: 0, throttledApps: new Set() };

export function snapshotOf(state: GetClusterStateResponse__Output): ClusterSnapshot {
  let max = 0;
  const throttled = new Set<string>();
  for (const w of state.workers) {
    if (w.state !== 'healthy' || !w.load) continue;
    if (w.memoryBudgetBytes > 0) max = Math.max(max, w.load.memoryUsedBytes / w.memoryBudgetBytes);
    for (const app of w.load.throttledApps) throttled.add(app);
  }
  return { maxMemoryFraction: max, throttledApps: throttled };
}

export class ClusterSignal {
  readonly #client: ManagerClient | undefined;
  readonly #log: Logger;
  #snapshot: ClusterSnapshot = EMPTY_SNAPSHOT;

  constructor(client: ManagerClient | undefined, logger: Logger) {
    this.#client = client;
    this.#log = logger;
  }

  get snapshot(): ClusterSnapshot {
    return this.#snapshot;
  }

  forApp(appId: string): ShuffleView {
    return {
      maxMemoryFraction: this.#snapshot.maxMemoryFraction,
      throttling: this.#snapshot.throttledApps.has(appId),
    };
  }

  /** One poll; a manager that stays unreachable keeps the last snapshot (logged). */
  async refresh(signal?: AbortSignal): Promise<void> {
    const client = this.#client;
    if (!client) return;
    try {
      const state = await retry(() => readClusterState(client, signal ? { signal } : {}), {
        ...AGENT_RETRY,
        what: 'ManagerService.GetClusterState',
        ...(signal ? { signal } : {}),
      });
      this.#snapshot = snapshotOf(state);
    } catch (err) {
      if (!signal?.aborted) this.#log.warn({ err }, 'cannot read cluster state; guard keeps last');
    }
  }
}
