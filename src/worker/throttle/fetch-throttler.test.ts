// The worker's throttling adapter (docs/architecture.md#ess-mode, docs/operations.md#metrics): the metrics it exports after each sample,
// the refusals it counts, and the app priority it learns from the manager once.
import { describe, expect, it } from 'vitest';
import { FETCH_THROTTLE_DEFAULTS } from '../../common/flow/fetch-throttle.js';
import { createLogger } from '../../common/obs/logger.js';
import { createWorkerMetrics, WORKER_METRICS, type WorkerMetrics } from '../metrics.js';
import { FetchThrottler } from './fetch-throttler.js';

async function values(m: WorkerMetrics, name: string) {
  const metric = await m.registry.getSingleMetric(name)!.get();
  return Object.fromEntries(metric.values.map((v) => [String(v.labels.app ?? ''), v.value]));
}

function setup(priorities: Record<string, number | undefined>) {
  const clock = { t: 0 };
  const metrics = createWorkerMetrics('w1', 1024, () => undefined);
  const lookups: string[] = [];
  const throttler = new FetchThrottler({
    throttle: FETCH_THROTTLE_DEFAULTS,
    metrics,
    lookupPriority: async (appId) => {
      lookups.push(appId);
      return priorities[appId];
    },
    logger: createLogger({ name: 'test', level: 'silent' }),
    now: () => clock.t,
  });
  /** `chunks` chunks of `app` answered at `latencyMs`, then one 5 s sample. */
  const sample = (chunks: Record<string, number>, latencyMs: number) => {
    for (const [app, n] of Object.entries(chunks))
      for (let i = 0; i < n; i++) {
        expect(throttler.admit(app, 'chunk').admitted).toBe(true);
        throttler.completed(app, latencyMs);
      }
    clock.t += 5_000;
    return throttler.tick();
  };
  return { clock, metrics, throttler, lookups, sample };
}

describe('FetchThrottler', () => {
  it('asks the manager for a priority once and uses it; unknown apps get the default 3', async () => {
    const { throttler, lookups, sample } = setup({ hog: 5 });
    throttler.admit('hog', 'open');
    throttler.admit('hog', 'open');
    throttler.admit('anon', 'open');
    expect(lookups).toEqual(['hog', 'anon']);
    await new Promise((r) => setImmediate(r));
    const s = sample({ hog: 500, anon: 5 }, 12_000);
    expect(lookups).toEqual(['hog', 'anon']); // anon asked again only after a minute
    expect(s.apps.find((a) => a.appId === 'hog')?.priority).toBe(5);
    expect(s.apps.find((a) => a.appId === 'anon')?.priority).toBe(3);
  });

  it('exports L, fr_a, fr̂_a, q̂c and the refusals per app after each sample', async () => {
    const { metrics, throttler, sample } = setup({ hog: 5, calm: 1 });
    throttler.admit('hog', 'open');
    throttler.admit('calm', 'open');
    await new Promise((r) => setImmediate(r));
    // N = 2, node 110/s: fr̂_hog = 110 / ((1 + ln 2) × 5) ≈ 13 < 100 → limited, q̂c = 1000.
    const s = sample({ hog: 500, calm: 50 }, 12_500);
    expect(throttler.limitedApps()).toEqual(['hog']);
    expect(await values(metrics, WORKER_METRICS.fetchLatency)).toEqual({ '': 12.5 });
    expect(await values(metrics, WORKER_METRICS.appFetchRate)).toEqual({ hog: 100, calm: 10 });
    const allocated = await values(metrics, WORKER_METRICS.appAllocatedFetchRate);
    expect(allocated.hog).toBeCloseTo(110 / ((1 + Math.log(2)) * 5), 9);
    expect(allocated.calm).toBeCloseTo(110 / (1 + Math.log(2)), 9);
    expect(await values(metrics, WORKER_METRICS.appQueuedChunkLimit)).toEqual({ hog: 1_000 });
    expect(s.apps.find((a) => a.appId === 'hog')?.queuedChunkLimit).toBe(1_000);
    for (let i = 0; i < 1_000; i++) expect(throttler.admit('hog', 'chunk').admitted).toBe(true);
    expect(throttler.admit('hog', 'chunk').admitted).toBe(false);
    expect(throttler.admit('hog', 'open').admitted).toBe(false);
    expect(await values(metrics, WORKER_METRICS.throttledRequests)).toEqual({ hog: 2 });
  });

  it('an app that stopped fetching leaves the per-app gauges', async () => {
    const { metrics, sample } = setup({});
    sample({ a: 10 }, 1);
    expect(await values(metrics, WORKER_METRICS.appFetchRate)).toEqual({ a: 2 });
    sample({}, 1);
    expect(await values(metrics, WORKER_METRICS.appFetchRate)).toEqual({ a: 0 });
    for (let i = 0; i < 60; i++) sample({}, 1); // the 5-minute window forgets it
    expect(await values(metrics, WORKER_METRICS.appFetchRate)).toEqual({});
  });
});
