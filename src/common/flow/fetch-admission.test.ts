// The servers' throttling adapter (docs/architecture.md#request-throttling,
// docs/operations.md#metrics): the metrics it exports after each sample, the refusals it
// answers and counts, the latency it measures, and the app priority it learns once.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../obs/logger.js';
import { WireProtocolError } from '../wire/wire-error.js';
import {
  createFetchThrottleMetrics,
  FetchAdmission,
  fetchThrottleMetricNames,
  type PriorityLookup,
} from './fetch-admission.js';
import { FETCH_THROTTLE_DEFAULTS } from './fetch-throttle.js';

const NAMES = fetchThrottleMetricNames('sluice_test');

async function values(registry: Registry, name: string) {
  const metric = await registry.getSingleMetric(name)!.get();
  return Object.fromEntries(metric.values.map((v) => [String(v.labels.app ?? ''), v.value]));
}

function setup(priorities: Record<string, number | undefined>, lookup = true) {
  const clock = { t: 0 };
  const registry = new Registry();
  const lookups: string[] = [];
  const lookupPriority: PriorityLookup = async (appId) => {
    lookups.push(appId);
    return priorities[appId];
  };
  const admission = new FetchAdmission({
    throttle: FETCH_THROTTLE_DEFAULTS,
    metrics: createFetchThrottleMetrics([registry], 'sluice_test'),
    ...(lookup ? { lookupPriority } : {}),
    logger: createLogger({ name: 'test', level: 'silent' }),
    now: () => clock.t,
  });
  /** `chunks` chunks of `app` answered (latency as measured), then one 5 s sample. */
  const sample = (chunks: Record<string, number>) => {
    for (const [app, n] of Object.entries(chunks))
      for (let i = 0; i < n; i++) admission.admit(app, 'chunk').done();
    clock.t += 5_000;
    return admission.tick();
  };
  return { clock, registry, admission, lookups, sample };
}

describe('FetchAdmission', () => {
  it('asks for a priority once and uses it; unknown apps get the default 3', async () => {
    const { admission, lookups, sample } = setup({ hog: 5 });
    admission.admit('hog', 'open');
    admission.admit('hog', 'open');
    admission.admit('anon', 'open');
    expect(lookups).toEqual(['hog', 'anon']);
    await new Promise((r) => setImmediate(r));
    const s = sample({ hog: 500, anon: 5 });
    expect(lookups).toEqual(['hog', 'anon']); // anon asked again only after a minute
    expect(s.apps.find((a) => a.appId === 'hog')?.priority).toBe(5);
    expect(s.apps.find((a) => a.appId === 'anon')?.priority).toBe(3);
  });

  it('without a lookup every app has the default priority', () => {
    const { sample } = setup({ hog: 5 }, false);
    expect(sample({ hog: 1 }).apps[0]?.priority).toBe(3);
  });

  it('a ticket reports its latency once, in seconds; opens are not queued', async () => {
    const { admission } = setup({});
    admission.admit('a', 'open').done();
    const ticket = admission.admit('a', 'chunk');
    expect(admission.snapshot().apps[0]?.queued).toBe(1);
    await new Promise((r) => setTimeout(r, 20));
    const seconds = ticket.done();
    expect(seconds).toBeGreaterThan(0.01);
    expect(seconds).toBeLessThan(5);
    expect(ticket.done()).toBe(seconds);
    expect(admission.snapshot().apps[0]?.queued).toBe(0);
  });

  it('exports L in seconds, fr_a and fr̂_a after each sample', async () => {
    const { registry, admission, clock } = setup({ hog: 5, calm: 1 });
    admission.admit('hog', 'open');
    admission.admit('calm', 'open');
    await new Promise((r) => setImmediate(r));
    // N = 2, node 110/s: fr̂_hog = 110 / ((1 + ln 2) × 5), fr̂_calm = 110 / (1 + ln 2).
    const tickets = [];
    for (let i = 0; i < 500; i++) tickets.push(admission.admit('hog', 'chunk'));
    for (let i = 0; i < 50; i++) tickets.push(admission.admit('calm', 'chunk'));
    for (const t of tickets) t.done();
    clock.t += 5_000;
    admission.tick();
    expect(await values(registry, NAMES.appFetchRate)).toEqual({ hog: 100, calm: 10 });
    const allocated = await values(registry, NAMES.appAllocatedFetchRate);
    expect(allocated.hog).toBeCloseTo(110 / ((1 + Math.log(2)) * 5), 9);
    expect(allocated.calm).toBeCloseTo(110 / (1 + Math.log(2)), 9);
    const latency = (await values(registry, NAMES.nodeFetchLatency))[''];
    expect(latency).toBeGreaterThanOrEqual(0);
    expect(latency).toBeLessThan(1); // seconds, not ms
  });

  it('limits an app over its share while L is high, answers THROTTLED and counts it', async () => {
    const { registry, admission, clock } = setup({ hog: 5, calm: 1 });
    admission.admit('hog', 'open');
    admission.admit('calm', 'open');
    await new Promise((r) => setImmediate(r));
    // Chunks answered 12.5 s after admission (> Lθ = 10 s), on a faked performance.now()
    // (the tickets' clock). Then fr̂_hog ≈ 13 < 100/s: limited, q̂c = 100 × 10 × 1 = 1000.
    const real = performance.now;
    let fake = 0;
    performance.now = () => fake;
    try {
      const tickets = [];
      for (let i = 0; i < 500; i++) tickets.push(admission.admit('hog', 'chunk'));
      for (let i = 0; i < 50; i++) tickets.push(admission.admit('calm', 'chunk'));
      fake += 12_500;
      for (const t of tickets) expect(t.done()).toBe(12.5);
    } finally {
      performance.now = real;
    }
    clock.t += 5_000;
    const s = admission.tick();
    expect(admission.limitedApps()).toEqual(['hog']);
    expect(await values(registry, NAMES.nodeFetchLatency)).toEqual({ '': 12.5 });
    expect(await values(registry, NAMES.appQueuedChunkLimit)).toEqual({ hog: 1_000 });
    expect(s.apps.find((a) => a.appId === 'hog')?.queuedChunkLimit).toBe(1_000);
    for (let i = 0; i < 1_000; i++) admission.admit('hog', 'chunk');
    expect(() => admission.admit('hog', 'chunk')).toThrow(WireProtocolError);
    try {
      admission.admit('hog', 'open');
      expect.unreachable();
    } catch (err) {
      expect(err).toMatchObject({ status: 'THROTTLED' });
    }
    expect(await values(registry, NAMES.throttledRequests)).toEqual({ hog: 2 });
  });

  it('an app that stopped fetching leaves the per-app gauges', async () => {
    const { registry, sample } = setup({});
    sample({ a: 10 });
    expect(await values(registry, NAMES.appFetchRate)).toEqual({ a: 2 });
    sample({});
    expect(await values(registry, NAMES.appFetchRate)).toEqual({ a: 0 });
    for (let i = 0; i < 60; i++) sample({}); // the 5-minute window forgets it
    expect(await values(registry, NAMES.appFetchRate)).toEqual({});
  });
});
