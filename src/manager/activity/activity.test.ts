import { describe, expect, it } from 'vitest';
import { Activity } from './activity.js';
import { emptyLoad, type WorkerLoadView } from '../registry/worker-registry.js';

const load = (over: Partial<WorkerLoadView>): WorkerLoadView => ({ ...emptyLoad(), ...over });

describe('Activity', () => {
  it('turns throttling and notable serving-state changes into events', () => {
    const clock = { t: 0, now: () => clock.t };
    const a = new Activity(clock);
    a.heartbeat('w1', load({}));
    a.heartbeat('w1', load({ servingState: 'PUSH_PAUSED' })); // bursts: no event
    a.heartbeat('w1', load({ servingState: 'FULL', throttledApps: ['app-1'] }));
    a.heartbeat('w1', load({ servingState: 'SERVING', throttledApps: ['app-1', 'app-2'] }));
    a.heartbeat('w1', load({ servingState: 'SERVING', throttledApps: [] }));
    const kinds = a.events
      .page(100)
      .events.reverse()
      .map((e) => `${e.kind} ${e.appId ?? ''}`.trim());
    expect(kinds).toEqual([
      'worker-state-changed',
      'throttling-started app-1',
      'worker-state-changed',
      'throttling-started app-2',
      'throttling-stopped app-1',
      'throttling-stopped app-2',
    ]);
  });

  it('records heartbeat rates into the series and forgets a worker', () => {
    const clock = { t: 10_000, now: () => clock.t };
    const a = new Activity(clock, { series: { resolutionMs: 1_000 } });
    a.heartbeat('w1', load({ pushBytesPerSec: 7, fetchBytesPerSec: 3 }));
    expect(a.throughput.read(11_000, ['w1']).workers['w1']).toEqual({ push: [7], fetch: [3] });
    a.forget('w1');
    expect(a.throughput.read(11_000, ['w1']).workers).toEqual({});
  });
});
