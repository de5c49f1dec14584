// The events the manager records for the dashboard where its lifecycle changes happen: worker
// registered, lost, revived and forgotten, apps registered and expired, groups reallocated.
import { describe, expect, it } from 'vitest';
import { SILENT_LOGGER } from '../common/obs/logger.js';
import { Activity } from './activity/activity.js';
import { ClusterManager } from './cluster-manager.js';
import { APP, ManualClock, S0, SETTINGS, addWorkers, alloc } from './cluster-manager.fixtures.js';
import { createManagerMetrics } from './metrics.js';
import { emptyLoad } from './registry/worker-registry.js';
import { MemoryStateStore } from './state/index.js';

describe('ClusterManager activity', () => {
  it('records lifecycle events in order, with the worker, app and shuffle they concern', async () => {
    const clock = new ManualClock();
    const activity = new Activity(clock);
    const manager = new ClusterManager({
      settings: SETTINGS,
      store: new MemoryStateStore(),
      clock,
      logger: SILENT_LOGGER,
      metrics: createManagerMetrics(() => undefined),
      activity,
    });
    await manager.load();
    addWorkers(manager, 3);
    await manager.registerApp({ appId: APP, priority: 3, name: 'etl', user: 'ann' });
    const { shuffle } = await manager.allocateShuffle(alloc(4));
    const g = shuffle.groups[0]!;
    await manager.reallocateGroup({
      appId: APP,
      shuffleId: S0,
      groupId: 0,
      oldEpoch: 0,
      failedWorkerIds: [g.primary.workerId],
    });
    // w0 falls silent and comes back; then every worker falls silent until the app expires.
    clock.t += SETTINGS.workerLostTimeoutMs + 1;
    manager.workerHeartbeat('w1', emptyLoad(), []);
    manager.workerHeartbeat('w2', emptyLoad(), []);
    await manager.sweep();
    manager.workerHeartbeat('w0', emptyLoad(), []);
    clock.t += SETTINGS.appExpiryMs + 1;
    await manager.sweep();

    const events = activity.events.page(100).events.reverse();
    expect(events.map((e) => [e.kind, e.workerId ?? e.appId])).toEqual([
      ['worker-registered', 'w0'],
      ['worker-registered', 'w1'],
      ['worker-registered', 'w2'],
      ['app-registered', APP],
      ['group-reallocated', APP],
      ['worker-lost', 'w0'],
      ['worker-revived', 'w0'],
      ['worker-lost', 'w0'],
      ['worker-lost', 'w1'],
      ['worker-lost', 'w2'],
      ['app-expired', APP],
    ]);
    expect(events[3]!.message).toBe(`app ${APP} (etl) registered`);
    expect(events[4]).toMatchObject({ shuffleId: S0 });
    expect(events[4]!.message).toContain(`failed: ${g.primary.workerId}`);
    // w0 now silent long enough to be dropped: its series goes with it.
    clock.t += SETTINGS.workerForgetMs + 1;
    await manager.sweep();
    const forgotten = activity.events.page(3).events.map((e) => e.kind);
    expect(forgotten).toEqual(['worker-forgotten', 'worker-forgotten', 'worker-forgotten']);
  });
});
