// Several hosts on one machine with real links (test/faults/scenarios/host-partition.ts):
// every daemon in its own network namespace, bound to that namespace's address, a shuffle
// with replicas on different hosts, and a host unplugged in the middle of the map stage —
// a worker's (case A), then the manager's (case B). Every record of the winners reads back
// exactly once, and nothing the test created is left behind. Needs root and iproute2: it
// skips with the reason elsewhere, and fails under CI, which runs as root.
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { NetnsLab, netnsUnavailable } from '../src/testing/netns.js';
import { FAST_SHAPE } from './faults/harness.js';
import { managerHostPartition, workerHostPartition } from './faults/scenarios/host-partition.js';

const unavailable = netnsUnavailable();
if (unavailable && process.env.CI)
  throw new Error(`multi-host test under CI: ${unavailable} (.ci/run installs iproute2)`);
if (unavailable) console.warn(`skipping the multi-host network-namespace tests: ${unavailable}`);

describe.skipIf(unavailable)('hosts in network namespaces, cut off for real', () => {
  it('a lab of namespaces is deleted entirely by close()', async () => {
    const lab = await NetnsLab.create(['a', 'b']);
    let before: string[];
    try {
      before = await lab.leftovers();
    } finally {
      await lab.close();
    }
    expect(before).toHaveLength(2 + 3); // two namespaces, the bridge, two veths
    expect(await lab.leftovers()).toEqual([]);
  });

  it('create() first deletes what a killed run left (a namespace and a bridge of a dead pid)', async () => {
    const dead = spawnSync('true').pid!; // exited: its pid names nothing alive
    const tag = `sl${dead.toString(36)}`;
    execFileSync('ip', ['netns', 'add', `sluice-${tag}-x`]);
    execFileSync('ip', ['link', 'add', `${tag}br`, 'type', 'bridge']);
    const lab = await NetnsLab.create(['a']);
    await lab.close();
    expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).not.toContain(tag);
    expect(execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })).not.toContain(tag);
  });

  for (const s of [workerHostPartition, managerHostPartition]) {
    it(`${s.name}: every record of the winners reads back exactly once`, async () => {
      const r = await s.run(FAST_SHAPE);
      expect(r.bytesVerified).toBeGreaterThan(0);
      expect(r.failedTasks).toBe(0);
      expect(Number(r.measures?.partitionMs)).toBeGreaterThan(0);
      console.log(`${s.name}: ${r.bytesVerified} bytes verified, ${JSON.stringify(r.measures)}`);
    }, 120_000);
  }
});
