// A worker killed with kill -9 and started again under the same id on other ports (ports
// picked by the OS) while the manager still holds its old registration: the manager refuses
// the id from another address (security: nobody takes over a live worker's traffic), and the
// new process waits until the old registration is declared lost, then registers, instead of
// exiting (docs/operations.md#limits-against-hostile-or-buggy-clients).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessCluster } from '../src/testing/process-cluster.js';

describe('a worker restarted on new ports under its live id', () => {
  let cluster: ProcessCluster;
  beforeAll(async () => {
    cluster = await ProcessCluster.start({
      workers: 2,
      // The old registration stays live for 3 missed beats (6 s): long enough that the new
      // process (1-4 s to start on a loaded CI machine) reaches the manager while it is
      // still live, which is the case under test.
      managerConfig: {
        'manager.workerHeartbeatIntervalMs': 2_000,
        'manager.workerLostTimeoutMs': 10_000,
      },
    });
  }, 60_000);
  afterAll(async () => cluster?.close());

  it('waits for the old registration to be lost, then serves', async () => {
    const old = cluster.worker('worker-1');
    await old.stop('SIGKILL');
    const started = Date.now();
    const fresh = await cluster.startWorker('worker-1');
    expect(fresh.dataPort).not.toBe(old.dataPort);
    expect(fresh.output.join('\n')).toMatch(/still registered from another address; waiting/);
    await cluster.waitForWorkers(2);
    const state = await cluster.client.getClusterState({});
    const w1 = state.workers.find((w) => w.address?.workerId === 'worker-1');
    expect(w1?.address?.dataPort).toBe(fresh.dataPort);
    // Free after 6 s (3 missed beats), then at most one 5 s registration back-off.
    expect(Date.now() - started).toBeLessThan(30_000);
  }, 60_000);
});
