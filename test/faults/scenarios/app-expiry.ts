// An app whose driver dies without unregistering (docs/architecture.md#lifecycle-of-one-shuffle step 1, docs/architecture.md#cluster-manager): the manager
// expires it after manager.appExpiryMs of silence and every worker deletes its data when its
// next heartbeat reply says so: within the expiry time plus one worker heartbeat (and one
// sweep of the manager), never before the expiry.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../../../src/testing/wait-for.js';
import {
  appIdFor,
  check,
  FaultJob,
  resultOf,
  withCluster,
  type ProcessClusterLike,
  type Scenario,
} from '../harness.js';

const APP_EXPIRY_MS = 2_000;
const APP_HEARTBEAT_MS = 300;
const WORKER_HEARTBEAT_MS = 200;
const SWEEP_MS = 100;
/** Scheduling slack of three busy processes on a small machine. */
const SLACK_MS = 750;

const DRIVER_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'driver-process.mjs');

function filesUnder(dir: string): number {
  if (!existsSync(dir)) return 0;
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())
    .length;
}

function appFiles(cluster: ProcessClusterLike, appId: string): number[] {
  return [...cluster.workers.keys()].map((id) =>
    cluster.workerDirs(id).reduce((n, d) => n + filesUnder(join(d, appId)), 0),
  );
}

export const appExpiry: Scenario = {
  name: 'app stops heartbeating: data deleted on every worker',
  run: (shape) =>
    withCluster(
      {
        workers: 3,
        managerConfig: {
          'manager.appExpiryMs': APP_EXPIRY_MS,
          'manager.appHeartbeatIntervalMs': APP_HEARTBEAT_MS,
          'manager.workerHeartbeatIntervalMs': WORKER_HEARTBEAT_MS,
          'manager.sweepIntervalMs': SWEEP_MS,
        },
      },
      async (cluster) => {
        const appId = appIdFor('expiry');
        const child = spawn(
          process.execPath,
          [
            DRIVER_SCRIPT,
            cluster.managerAddress,
            appId,
            String(shape.maps),
            String(shape.partitions),
            String(shape.maxPartitionsPerGroup),
          ],
          { stdio: ['ignore', 'pipe', 'inherit'] },
        );
        const exited = once(child, 'exit');
        let job: FaultJob | undefined;
        try {
          const [line] = (await Promise.race([
            once(createInterface({ input: child.stdout! }), 'line'),
            exited.then(() => {
              throw new Error('the driver process exited before registering its shuffle');
            }),
          ])) as [string];
          const { driverAddress } = JSON.parse(line) as { driverAddress: string };
          job = await FaultJob.start(cluster.managerAddress, appId, { shape, driverAddress });
          await job.runMaps();
          const v = await job.readAndVerify();
          const before = appFiles(cluster, appId);
          check(
            before.filter((n) => n > 0).length >= 2,
            `the app's data is on fewer than two workers: ${before.join(',')}`,
          );

          child.kill('SIGKILL');
          await exited;
          const killedAt = Date.now();
          await waitFor(() => appFiles(cluster, appId).every((n) => n === 0), {
            timeoutMs: APP_EXPIRY_MS * 5,
            intervalMs: 25,
            what: `the data of ${appId} to be deleted on every worker`,
          });
          const took = Date.now() - killedAt;
          const bound = APP_EXPIRY_MS + WORKER_HEARTBEAT_MS + SWEEP_MS + SLACK_MS;
          check(took <= bound, `data deleted ${took} ms after the driver died (bound ${bound} ms)`);
          // The last heartbeat came at most one app heartbeat before the kill.
          const early = APP_EXPIRY_MS - APP_HEARTBEAT_MS - SWEEP_MS;
          check(took >= early, `data deleted after ${took} ms, before the app expired`);
          return resultOf(job, v);
        } finally {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          await job?.close();
        }
      },
    ),
};
