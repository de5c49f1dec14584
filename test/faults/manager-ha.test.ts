// Fast variant of the manager failover scenarios (three managers on a three-server ZooKeeper
// ensemble, real processes): the leader killed, or frozen past its session and thawed, in the
// middle of the map stage; the shuffle finishes with every record of the winners read back
// exactly once, and the frozen leader never gets a write through. And two of the three
// ZooKeeper servers stopped for 10 s: manager writes fail retriably, no manager exits, and the
// shuffle finishes once the quorum is back.
import { describe, expect, it } from 'vitest';
import { zooKeeperAvailable } from '../../src/testing/zookeeper.js';
import { FAST_SHAPE } from './harness.js';
import { leaderKill, leaderPause, zkQuorumLoss } from './scenarios/manager-ha.js';

const available = zooKeeperAvailable();
if (!available && process.env.CI)
  throw new Error('ZooKeeper is not installed: .ci/run must install the Debian zookeeper package');

describe.skipIf(!available)('manager failover in the middle of a shuffle', () => {
  for (const s of [leaderKill, leaderPause]) {
    it(`${s.name}: every record of the winners reads back exactly once`, async () => {
      const r = await s.run(FAST_SHAPE);
      expect(r.bytesVerified).toBeGreaterThan(0);
      expect(r.failedTasks).toBe(0);
      expect(Number(r.measures?.failoverMs)).toBeGreaterThan(0);
      console.log(`${s.name}: ${JSON.stringify(r.measures)}`);
    }, 120_000);
  }

  it(`${zkQuorumLoss.name}: writes fail retriably, no manager exits, the shuffle finishes exactly`, async () => {
    const r = await zkQuorumLoss.run(FAST_SHAPE);
    expect(r.bytesVerified).toBeGreaterThan(0);
    expect(r.failedTasks).toBe(0);
    expect(Number(r.measures?.probes)).toBeGreaterThan(0);
    console.log(`${zkQuorumLoss.name}: ${JSON.stringify(r.measures)}`);
  }, 120_000);
});
