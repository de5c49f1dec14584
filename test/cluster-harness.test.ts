// The shared harness itself: a manager and workers in process and as child processes, all
// registered and healthy, and nothing left behind after close().
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { startCluster } from '../src/testing/cluster.js';

describe('startCluster', () => {
  it.each([false, true])(
    'starts a manager and three healthy workers (child processes: %s) and cleans up',
    async (childWorkers) => {
      const cluster = await startCluster({ workers: 3, childWorkers, disksPerWorker: 2 });
      let root = '';
      try {
        root = cluster.root;
        const state = await cluster.client.getClusterState();
        expect(state.workers.map((w) => [w.address!.workerId, w.state]).sort()).toEqual([
          ['worker-1', 'healthy'],
          ['worker-2', 'healthy'],
          ['worker-3', 'healthy'],
        ]);
        expect(childWorkers ? cluster.processes.length : cluster.workers.length).toBe(3);
        expect(cluster.workerDirs('worker-1')).toHaveLength(2);
      } finally {
        await cluster.close();
      }
      expect(existsSync(root)).toBe(false);
    },
  );
});
