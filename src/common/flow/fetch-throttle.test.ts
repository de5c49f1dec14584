// Table-driven tests of the request-throttling controller (docs/architecture.md#ess-mode): each replays a latency
// timeline on a fake clock, one tick per 5 s sample, and checks the formula's quantities.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/index.js';
import {
  FETCH_THROTTLE_DEFAULTS,
  FetchThrottle,
  fetchThrottleOptions,
  MAX_PRIORITY,
  type FetchThrottleOptions,
  type ThrottleSnapshot,
} from './fetch-throttle.js';

const SAMPLE_MS = 5_000;
const LN2 = Math.log(2);

/** One 5 s sample: for each app, chunks answered (admitted, then answered at `latencyMs`). */
interface Step {
  readonly latencyMs: number;
  readonly apps: Record<string, { readonly chunks: number; readonly priority?: number }>;
}

function setup(options: Partial<FetchThrottleOptions> = {}) {
  const clock = { t: 0 };
  const throttle = new FetchThrottle(options, () => clock.t);
  const snapshots: ThrottleSnapshot[] = [];
  const play = (step: Step): ThrottleSnapshot => {
    for (const [appId, a] of Object.entries(step.apps))
      for (let i = 0; i < a.chunks; i++) {
        // Admitted one at a time: at most one chunk queued, always under any limit.
        if (!throttle.admit(appId, a.priority ?? 3, 'chunk').admitted)
          throw new Error(`${appId} refused while replaying`);
        throttle.completed(appId, step.latencyMs);
      }
    clock.t += SAMPLE_MS;
    const s = throttle.tick();
    snapshots.push(s);
    return s;
  };
  /** Plays `n` identical steps and returns the last snapshot. */
  const repeat = (n: number, step: Step): ThrottleSnapshot => {
    let s: ThrottleSnapshot | undefined;
    for (let i = 0; i < n; i++) s = play(step);
    return s!;
  };
  return { clock, throttle, play, repeat, snapshots };
}

const app = (s: ThrottleSnapshot, id: string) => {
  const a = s.apps.find((x) => x.appId === id);
  if (!a) throw new Error(`no app ${id} in the snapshot`);
  return a;
};

describe('sampling: L, fr_a, fr_node, N', () => {
  it.each([
    { stat: 'mean' as const, latencies: [1_000, 2_000, 3_000, 10_000], expected: 4_000 },
    {
      stat: 'p95' as const,
      latencies: Array.from({ length: 100 }, (_, i) => (i + 1) * 100),
      expected: 9_500,
    },
    { stat: 'p95' as const, latencies: [7], expected: 7 },
  ])(
    'L is the $stat of the latencies answered since the last tick',
    ({ stat, latencies, expected }) => {
      const { throttle, clock } = setup({ latencyStat: stat });
      for (const l of latencies) {
        throttle.admit('a', 3, 'chunk');
        throttle.completed('a', l);
      }
      clock.t += SAMPLE_MS;
      const s = throttle.tick();
      expect(s.latencyMs).toBe(expected);
      expect(s.nodeRate).toBeCloseTo(latencies.length / 5, 12);
      expect(app(s, 'a').rate).toBeCloseTo(latencies.length / 5, 12);
      // The next interval starts afresh.
      clock.t += SAMPLE_MS;
      expect(throttle.tick().latencyMs).toBe(0);
    },
  );

  it('an interval with no answer keeps L while chunks are still queued, and is 0 when idle', () => {
    const { throttle, clock, play } = setup();
    expect(play({ latencyMs: 12_000, apps: { a: { chunks: 10 } } }).latencyMs).toBe(12_000);
    throttle.admit('a', 3, 'chunk'); // stuck: never answered in the next interval
    clock.t += SAMPLE_MS;
    expect(throttle.tick().latencyMs).toBe(12_000);
    throttle.completed('a', 20_000);
    clock.t += SAMPLE_MS;
    expect(throttle.tick().latencyMs).toBe(20_000);
    clock.t += SAMPLE_MS;
    expect(throttle.tick().latencyMs).toBe(0);
  });

  it('rates use the real time between ticks; N counts apps answered or with chunks queued', () => {
    const { throttle, clock } = setup();
    for (let i = 0; i < 30; i++) {
      throttle.admit('a', 3, 'chunk');
      throttle.completed('a', 5);
    }
    throttle.admit('b', 3, 'chunk'); // queued only
    throttle.admit('c', 3, 'open'); // a stream open is not a chunk: c is not fetching
    clock.t += 3_000;
    const s = throttle.tick();
    expect(app(s, 'a').rate).toBe(10);
    expect(app(s, 'b').rate).toBe(0);
    expect(app(s, 'b').queued).toBe(1);
    expect(s.activeApps).toBe(2);
    expect(s.nodeRate).toBe(10);
    expect(s.apps.map((x) => x.appId)).not.toContain('c'); // idle apps are forgotten
  });
});

describe('trigger: L > Lθ, fr̂_a = max5min(fr_node) / ((1 + ln N) × p), q̂c = max5min(fr_a) × Lθ × λ_p', () => {
  it.each([
    // N = 1: fr̂ = fr_node / p; a lone priority-1 app can never exceed it.
    { p: 1, allocated: 100, limited: false },
    { p: 2, allocated: 50, limited: true },
    { p: 3, allocated: 100 / 3, limited: true },
    { p: 4, allocated: 25, limited: true },
    { p: 5, allocated: 20, limited: true },
  ])('N = 1, priority $p: fr̂ = $allocated, limited = $limited', ({ p, allocated, limited }) => {
    const { play } = setup();
    const s = play({ latencyMs: 12_000, apps: { a: { chunks: 500, priority: p } } });
    expect(s.congested).toBe(true);
    expect(s.activeApps).toBe(1);
    expect(s.maxNodeRate).toBe(100);
    const a = app(s, 'a');
    expect(a.rate).toBe(100);
    expect(a.allocatedRate).toBeCloseTo(allocated, 12);
    expect(a.limited).toBe(limited);
    expect(a.limitedSince).toBe(limited ? SAMPLE_MS : undefined);
    expect(a.queuedChunkLimit).toBe(limited ? 100 * 10 * 1 : undefined);
    expect(a.lambda).toBe(1);
  });

  it.each([1, 2, 3, 4, 5])(
    'N = 2, the big app at priority %i: fr̂ = 100 / ((1 + ln 2) × p); limited from p = 2',
    (p) => {
      const { play } = setup();
      const s = play({
        latencyMs: 15_000,
        apps: { big: { chunks: 275, priority: p }, small: { chunks: 225, priority: 1 } },
      });
      expect(s.activeApps).toBe(2);
      expect(s.maxNodeRate).toBe(100);
      const big = app(s, 'big');
      const small = app(s, 'small');
      expect(big.rate).toBe(55);
      expect(small.rate).toBe(45);
      expect(big.allocatedRate).toBeCloseTo(100 / ((1 + LN2) * p), 12);
      expect(small.allocatedRate).toBeCloseTo(100 / (1 + LN2), 12); // 59.06 > 45
      expect(big.limited).toBe(p >= 2);
      expect(big.queuedChunkLimit).toBe(p >= 2 ? 550 : undefined);
      expect(small.limited).toBe(false);
    },
  );

  it.each([
    { n: 3, divisor: 1 + Math.log(3) },
    { n: 8, divisor: 1 + Math.log(8) },
  ])('N = $n: the node rate is divided by 1 + ln N', ({ n, divisor }) => {
    const { play } = setup();
    const apps = Object.fromEntries(
      Array.from({ length: n }, (_, i) => [`app${i}`, { chunks: 50, priority: 1 }]),
    );
    const s = play({ latencyMs: 11_000, apps });
    expect(s.activeApps).toBe(n);
    expect(s.maxNodeRate).toBe(10 * n);
    for (const a of s.apps) expect(a.allocatedRate).toBeCloseTo((10 * n) / divisor, 12);
  });

  it.each([
    { latencyMs: 9_999, congested: false },
    { latencyMs: 10_000, congested: false }, // L must exceed Lθ
    { latencyMs: 10_001, congested: true },
  ])('L = $latencyMs ms: congested = $congested', ({ latencyMs, congested }) => {
    const { play, throttle } = setup();
    const s = play({ latencyMs, apps: { hog: { chunks: 5_000, priority: 5 } } });
    expect(s.congested).toBe(congested);
    expect(app(s, 'hog').limited).toBe(congested);
    expect(throttle.limitedApps()).toEqual(congested ? ['hog'] : []);
  });

  it('fr̂ uses the max node rate of the last 5 minutes, then forgets an older peak', () => {
    const { play, repeat } = setup();
    play({ latencyMs: 100, apps: { a: { chunks: 1_000, priority: 1 } } }); // 200/s at t=5 s
    let s = repeat(58, { latencyMs: 100, apps: { a: { chunks: 500, priority: 1 } } }); // t=295 s
    expect(s.maxNodeRate).toBe(200);
    expect(app(s, 'a').maxRate).toBe(200);
    // t=300 s, congested: the peak is still in the window (it leaves at t=305 s).
    s = play({ latencyMs: 12_000, apps: { a: { chunks: 500, priority: 2 } } });
    expect(s.maxNodeRate).toBe(200);
    expect(app(s, 'a').allocatedRate).toBe(100);
    expect(app(s, 'a').limited).toBe(false); // 100/s does not exceed 200 / 2
    s = play({ latencyMs: 12_000, apps: { a: { chunks: 500, priority: 2 } } }); // t=305 s
    expect(s.maxNodeRate).toBe(100);
    expect(app(s, 'a').allocatedRate).toBe(50);
    expect(app(s, 'a').limitedSince).toBe(305_000);
    expect(app(s, 'a').queuedChunkLimit).toBe(100 * 10); // max5min(fr_a) is 100 now too
  });

  it('q̂c below one chunk still lets one chunk be queued', () => {
    const { throttle, clock } = setup();
    // 1 chunk in 200 s at priority 5: fr_a = 0.005/s > fr̂ = 0.001/s, q̂c = 0.005 × 10 × 1.
    throttle.admit('slow', 5, 'chunk');
    throttle.completed('slow', 30_000);
    clock.t += 200_000;
    const s = throttle.tick();
    expect(app(s, 'slow').queuedChunkLimit).toBeCloseTo(0.05, 12);
    expect(throttle.admit('slow', 5, 'chunk')).toEqual({ admitted: true });
    expect(throttle.admit('slow', 5, 'chunk')).toMatchObject({ admitted: false, limit: 1 });
  });
});

describe('admission: requests beyond q̂c are refused', () => {
  function limitedApp(options: Partial<FetchThrottleOptions> = {}) {
    const t = setup(options);
    // 2.2 chunks/s at priority 5, N = 1: fr̂ = 0.44 → limited, q̂c = 2.2 × 10 × 1 = 22.
    const s = t.play({ latencyMs: 20_000, apps: { hog: { chunks: 11, priority: 5 } } });
    expect(app(s, 'hog').queuedChunkLimit).toBeCloseTo(22, 12);
    return t;
  }

  it('admits up to floor(q̂c) queued chunks, refuses the next, admits again after an answer', () => {
    const { throttle } = limitedApp();
    for (let i = 0; i < 22; i++) expect(throttle.admit('hog', 5, 'chunk').admitted).toBe(true);
    expect(throttle.admit('hog', 5, 'chunk')).toEqual({
      admitted: false,
      queued: 22,
      limit: 22,
      reason: 'app hog is limited to 22 queued chunks (docs/architecture.md#request-throttling)',
    });
    expect(throttle.admit('hog', 5, 'open').admitted).toBe(false);
    throttle.completed('hog', 1_000);
    expect(throttle.admit('hog', 5, 'open').admitted).toBe(true); // opens are not queued
    expect(throttle.admit('hog', 5, 'chunk').admitted).toBe(true);
    expect(throttle.admit('hog', 5, 'chunk').admitted).toBe(false);
    const s = throttle.snapshot();
    expect(app(s, 'hog').throttledRequests).toBe(3);
    expect(app(s, 'hog').queued).toBe(22);
  });

  it('an app that is not limited is never refused, however much it queues', () => {
    const { throttle } = limitedApp();
    for (let i = 0; i < 10_000; i++)
      expect(throttle.admit('other', 1, 'chunk').admitted).toBe(true);
  });

  it('with throttle.enabled = false everything is admitted but the limit is still computed', () => {
    const { throttle } = limitedApp({ enabled: false });
    for (let i = 0; i < 100; i++) expect(throttle.admit('hog', 5, 'chunk').admitted).toBe(true);
    expect(app(throttle.snapshot(), 'hog').limited).toBe(true);
  });
});

describe('λ_p: decays every 30 s while L worsens past the worst seen, resets on recovery', () => {
  const FACTORS = [0.9, 0.8, 0.7, 0.6, 0.5];

  it.each([1, 2, 3, 4, 5])(
    'priority %i: λ decays by its factor at each worsening recompute',
    (p) => {
      const { play } = setup();
      const rows: { t: number; lambda: number; qc: number | undefined }[] = [];
      // L rises 1 s per sample from 11 s: every 30 s recompute sees a new worst.
      for (let i = 0; i < 13; i++) {
        const s = play({
          latencyMs: 11_000 + i * 1_000,
          apps: { hog: { chunks: 5_000, priority: p } },
        });
        rows.push({ t: s.at, lambda: s.lambdas[p - 1]!, qc: app(s, 'hog').queuedChunkLimit });
      }
      const f = FACTORS[p - 1]!;
      // Episode starts at t=5 s; recomputes at 35 s and 65 s.
      const lambdaAt = (t: number) => (t >= 65_000 ? f * f : t >= 35_000 ? f : 1);
      for (const r of rows) {
        expect(r.lambda).toBeCloseTo(lambdaAt(r.t), 12);
        // p = 1, N = 1 is never limited; others: q̂c = 1000/s × 10 s × λ_p, refreshed at recomputes.
        expect(r.qc).toBe(p === 1 ? undefined : 1_000 * 10 * lambdaAt(r.t));
      }
    },
  );

  it('all five λ_p decay together and reset to 1 when L is back under Lθ; limits stay', () => {
    const { play } = setup();
    const hog = (latencyMs: number) =>
      play({ latencyMs, apps: { hog: { chunks: 500, priority: 4 } } });
    for (let i = 0; i < 7; i++) hog(11_000 + i * 1_000); // t = 5..35 s
    let s = hog(18_000); // t = 40 s
    expect(s.lambdas).toEqual(FACTORS);
    expect(s.worstLatencyMs).toBe(18_000);
    expect(app(s, 'hog').queuedChunkLimit).toBeCloseTo(100 * 10 * 0.6, 12);
    s = hog(9_000); // t = 45 s: recovered
    expect(s.congested).toBe(false);
    expect(s.lambdas).toEqual([1, 1, 1, 1, 1]);
    expect(s.worstLatencyMs).toBe(0);
    expect(app(s, 'hog').limited).toBe(true);
    expect(app(s, 'hog').limitedSince).toBe(5_000);
    expect(app(s, 'hog').queuedChunkLimit).toBe(100 * 10);
  });

  it.each([
    { name: 'plateau', timeline: [20_000, 15_000, 15_000, 15_000, 15_000, 15_000, 15_000] },
    {
      name: 'equal to the worst',
      timeline: [20_000, 20_000, 20_000, 20_000, 20_000, 20_000, 20_000],
    },
    { name: 'improving', timeline: [30_000, 28_000, 26_000, 24_000, 22_000, 20_000, 18_000] },
  ])('no decay when L stays over Lθ but does not worsen ($name)', ({ timeline }) => {
    const { play } = setup();
    let s: ThrottleSnapshot | undefined;
    for (const l of timeline)
      s = play({ latencyMs: l, apps: { hog: { chunks: 500, priority: 5 } } });
    expect(s!.at).toBe(35_000); // a recompute happened
    expect(s!.congested).toBe(true);
    expect(s!.lambdas).toEqual([1, 1, 1, 1, 1]);
    expect(app(s!, 'hog').queuedChunkLimit).toBe(1_000);
  });

  it('a new episode compares against its own worst, not the previous episode’s', () => {
    const { play } = setup();
    const hog = (latencyMs: number) =>
      play({ latencyMs, apps: { hog: { chunks: 500, priority: 5 } } });
    for (let i = 0; i < 7; i++) hog(50_000 + i * 1_000); // worst 56 s, one decay at 35 s
    expect(hog(1_000).lambdas[4]).toBe(1); // t = 40 s
    // Second episode starts at t = 45 s: recompute at 75 s; L 12 s → 18 s worsens within it.
    let s: ThrottleSnapshot | undefined;
    for (let i = 0; i < 7; i++) s = hog(12_000 + i * 1_000);
    expect(s!.at).toBe(75_000);
    expect(s!.lambdas[4]).toBe(0.5);
  });

  it('decay factors are configurable', () => {
    const { play } = setup({ decayFactors: [0.99, 0.98, 0.97, 0.96, 0.95] });
    let s: ThrottleSnapshot | undefined;
    for (let i = 0; i < 7; i++)
      s = play({ latencyMs: 11_000 + i, apps: { a: { chunks: 5, priority: 2 } } });
    expect(s!.lambdas).toEqual([0.99, 0.98, 0.97, 0.96, 0.95]);
    expect(() => new FetchThrottle({ decayFactors: [1, 0.8, 0.7, 0.6, 0.5] })).toThrow(RangeError);
  });
});

describe('30 s recompute of q̂c from the latest fr_a', () => {
  it('q̂c follows the 5-minute max of fr_a, and only changes at recomputes', () => {
    const { play, repeat } = setup();
    const step = (latencyMs: number, chunks: number) => ({
      latencyMs,
      apps: { a: { chunks, priority: 5 } },
    });
    play(step(100, 500)); // t=5 s: a 100/s peak while the node is healthy
    // From t=10 s the app reads 40/s > fr̂ = 100 / 5 and L stays 12 s (no decay).
    let s = play(step(12_000, 200));
    expect(app(s, 'a').limitedSince).toBe(10_000);
    expect(app(s, 'a').queuedChunkLimit).toBe(1_000); // max(100, 40) × 10 s × 1
    // Recomputes at 40, 70, ..., 280, 310 s; the peak leaves the window at t=305 s.
    s = repeat(58, step(12_000, 200)); // t=300 s
    expect(app(s, 'a').maxRate).toBe(100);
    s = play(step(12_000, 200)); // t=305 s
    expect(app(s, 'a').maxRate).toBe(40);
    expect(app(s, 'a').queuedChunkLimit).toBe(1_000); // not a recompute
    s = play(step(12_000, 200)); // t=310 s
    expect(app(s, 'a').queuedChunkLimit).toBe(400);
    expect(s.lambdas).toEqual([1, 1, 1, 1, 1]);
  });
});

describe('hold: a limited app stays limited for up to 30 minutes from its first throttling', () => {
  it.each([
    { afterRecovery: 'quiet', chunks: 0 },
    { afterRecovery: 'still fetching fast', chunks: 5_000 },
  ])('limited from t=5 s to t=1805 s, L recovered, app $afterRecovery', ({ chunks }) => {
    const { play, repeat } = setup();
    let s = play({ latencyMs: 12_000, apps: { a: { chunks: 500, priority: 3 } } }); // t=5 s
    expect(app(s, 'a').limitedSince).toBe(5_000);
    s = repeat(359, { latencyMs: 50, apps: { a: { chunks, priority: 3 } } }); // t=1800 s
    expect(s.congested).toBe(false);
    expect(app(s, 'a').limited).toBe(true);
    expect(app(s, 'a').limitedSince).toBe(5_000);
    s = play({ latencyMs: 50, apps: { a: { chunks, priority: 3 } } }); // t=1805 s
    const after = s.apps.find((x) => x.appId === 'a');
    expect(after?.limited ?? false).toBe(false);
    expect(after?.queuedChunkLimit).toBeUndefined();
  });

  it('at the end of the hold, an app still over its allocation while congested is limited anew', () => {
    const { repeat, throttle } = setup({ holdMs: 60_000 });
    let s = repeat(12, { latencyMs: 12_000, apps: { a: { chunks: 500, priority: 3 } } }); // t=60 s
    expect(app(s, 'a').limitedSince).toBe(5_000);
    s = repeat(1, { latencyMs: 12_000, apps: { a: { chunks: 500, priority: 3 } } }); // t=65 s
    expect(app(s, 'a').limitedSince).toBe(65_000);
    expect(throttle.limitedApps()).toEqual(['a']);
  });
});

it('priorities outside 1..5 count as the default 3', () => {
  const { play } = setup();
  const s = play({ latencyMs: 12_000, apps: { a: { chunks: 10, priority: MAX_PRIORITY + 1 } } });
  expect(app(s, 'a').priority).toBe(3);
});

it('the throttle.* configuration defaults are the docs/architecture.md#ess-mode constants', () => {
  expect(fetchThrottleOptions(loadConfig({ env: {} }))).toEqual(FETCH_THROTTLE_DEFAULTS);
  const tuned = fetchThrottleOptions(
    loadConfig({ env: {}, overrides: { 'throttle.latencyStat': 'p95', 'throttle.decayP5': 0.25 } }),
  );
  expect(tuned.latencyStat).toBe('p95');
  expect(tuned.decayFactors[4]).toBe(0.25);
});
