// Fast variant of the remote-tier scenarios (scenarios/remote-tiers.ts): workers on a real HDFS
// (MiniDFSCluster) and a real S3 (Ceph RGW), one of each started for the whole file and shared
// by the scenarios, each under a path and prefix of its own. Remote-only workers with one
// killed mid-map; a remote-only worker killed with uncommitted remote files and restarted; a
// local disk past its watermark spilling new files to HDFS; an app expiring on both tiers.
// Skips when HDFS or Ceph is not installed; fails under CI, where .ci/install-hdfs and
// .ci/install-ceph install them. `npm run chaos` repeats the scenarios.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAST_SHAPE, type Scenario } from './harness.js';
import {
  appExpiryRemote,
  diskFillsHdfsAboveWatermark,
  diskFillsToRemote,
  remoteCrashHdfs,
  remoteCrashS3,
  remoteOnlyWorkers,
  remoteTiersSkipReason,
  shareRemoteTiers,
  startRemoteTiers,
  type RemoteTiers,
} from './scenarios/remote-tiers.js';

const missing = remoteTiersSkipReason();
if (missing && process.env.CI)
  throw new Error(
    `remote tiers ${missing}: .ci/run must run .ci/install-hdfs and .ci/install-ceph`,
  );

function fast(s: Scenario, what: string, timeoutMs = 90_000): void {
  const skip = s.skipReason?.();
  it.skipIf(skip !== undefined)(
    `${s.name}: ${what}${skip ? ` (skipped: ${skip})` : ''}`,
    async () => {
      const started = Date.now();
      const r = await s.run(FAST_SHAPE);
      expect(r.bytesVerified).toBeGreaterThan(0);
      expect(r.failedTasks).toBe(0);
      console.log(`${s.name}: ${Date.now() - started} ms ${JSON.stringify(r.measures ?? {})}`);
    },
    timeoutMs,
  );
}

describe.skipIf(missing !== undefined)('remote tiers (HDFS, S3) under faults', () => {
  let tiers: RemoteTiers | undefined;
  beforeAll(async () => {
    tiers = await startRemoteTiers();
    shareRemoteTiers(tiers);
  }, 180_000);
  afterAll(async () => {
    shareRemoteTiers(undefined);
    await tiers?.close();
  }, 60_000);

  fast(
    remoteOnlyWorkers,
    'files on each tier, the killed one replaced by its replicas, nothing lost',
  );
  fast(
    remoteCrashHdfs,
    'its committed shuffle served again, the other lost and deleted with its app, never served',
  );
  fast(
    remoteCrashS3,
    'its committed shuffle served again, the other lost, its uploads aborted with its app',
  );
  fast(diskFillsToRemote, 'later files on HDFS, every record read back exactly');
  fast(appExpiryRemote, 'files, markers and uploads deleted on both tiers');

  // Regression: the watermark once judged HDFS too, by its whole cluster's usage; with HDFS
  // fuller than the watermark both storages were high-usage, and the disk, preferred among
  // equals, kept every new file while it filled on. The watermark is the disks' alone now.
  fast(
    diskFillsHdfsAboveWatermark,
    'later files on HDFS although HDFS is fuller than the watermark',
  );
});
