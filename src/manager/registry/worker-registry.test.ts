// Decommission, recommission and the end of a decommissioned worker in the registry, beat by beat.
import { describe, expect, it } from 'vitest';
import { emptyLoad, WorkerRegistry, type ServingState } from './worker-registry.js';

const LOST_MS = 1_000;
const REF = { workerId: 'w1', host: 'h', rack: '', controlPort: 1, dataPort: 2, httpPort: 3 };
const beat = (r: WorkerRegistry, state: ServingState, atMs: number) =>
  r.heartbeat('w1', { ...emptyLoad(), servingState: state }, atMs);

function registry(): WorkerRegistry {
  const r = new WorkerRegistry(LOST_MS);
  r.register(REF, 100, [], 0);
  return r;
}

describe('WorkerRegistry decommission and recommission', () => {
  it('asks a decommissioning worker to serve again until it reports SERVING', () => {
    const r = registry();
    expect(r.requestDecommission('w1')).toBe(true);
    beat(r, 'DECOMMISSIONING', 10);
    expect(r.requestRecommission('w1')).toBe('ok');
    expect(r.get('w1')).toMatchObject({
      decommissionRequested: false,
      recommissionRequested: true,
    });
    beat(r, 'DECOMMISSIONING', 20);
    expect(r.get('w1')?.recommissionRequested).toBe(true);
    beat(r, 'SERVING', 30);
    expect(r.get('w1')).toMatchObject({ recommissionRequested: false, health: 'healthy' });
  });

  it('keeps asking when a stale SERVING beat predates the decommission reaching the worker', () => {
    const r = registry();
    r.requestDecommission('w1');
    r.requestRecommission('w1');
    beat(r, 'SERVING', 10);
    expect(r.get('w1')?.recommissionRequested).toBe(true);
    beat(r, 'DECOMMISSIONING', 20);
    beat(r, 'SERVING', 30);
    expect(r.get('w1')?.recommissionRequested).toBe(false);
  });

  it('refuses to recommission an unknown, shutting-down or lost worker', () => {
    expect(registry().requestRecommission('w9')).toBe('unknown');
    const stopping = registry();
    beat(stopping, 'SHUTTING_DOWN', 10);
    expect(stopping.requestRecommission('w1')).toBe('stopping');
    const lost = registry();
    lost.detectLost(LOST_MS + 1);
    expect(lost.requestRecommission('w1')).toBe('stopping');
  });

  it('drops a decommissioned worker that shut down and fell silent instead of declaring it lost', () => {
    const r = registry();
    r.requestDecommission('w1');
    beat(r, 'SHUTTING_DOWN', 10);
    expect(r.dropDecommissioned(10 + LOST_MS)).toEqual([]);
    expect(r.dropDecommissioned(11 + LOST_MS)).toEqual([REF]);
    expect(r.detectLost(11 + LOST_MS)).toEqual([]);
    expect(r.list()).toEqual([]);
  });

  it('declares a worker lost that shut down without being decommissioned', () => {
    const r = registry();
    beat(r, 'SHUTTING_DOWN', 10);
    expect(r.dropDecommissioned(11 + LOST_MS)).toEqual([]);
    expect(r.detectLost(11 + LOST_MS)).toEqual([REF]);
  });

  // A registration with the same id after a decommission: a new process unless the old one
  // crashed mid-decommission.
  it.each([
    { last: 'SHUTTING_DOWN', decommissionRequested: false, health: 'healthy' },
    { last: 'DECOMMISSIONING', decommissionRequested: true, health: 'decommissioning' },
  ] as const)('registering again after $last', ({ last, ...want }) => {
    const r = registry();
    r.requestDecommission('w1');
    beat(r, last, 10);
    r.register(REF, 100, [], 20);
    expect(r.get('w1')).toMatchObject(want);
  });
});
