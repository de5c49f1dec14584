// The manager over real gRPC and HTTP on 127.0.0.1 port 0: worker registration and
// heartbeats (FakeWorker: a named fake of the worker's control-plane side), app lifecycle,
// allocation, the JSON API and /metrics.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManagerClient } from '../src/common/proto/manager-client.js';
import type { ManagerServer } from '../src/manager/server.js';
import { FakeWorker } from '../src/testing/fake-worker.js';
import { startManager } from '../src/testing/manager.js';

describe('manager over gRPC and HTTP', () => {
  let server: ManagerServer;
  let client: ManagerClient;
  let workers: FakeWorker[];
  let http: string;

  beforeAll(async () => {
    server = await startManager({ config: { 'manager.appExpiryMs': 60_000 } });
    client = new ManagerClient(server.address);
    http = `http://127.0.0.1:${server.httpPort}`;
    workers = [0, 1, 2].map(
      (i) => new FakeWorker(server.address, { id: `worker-${i}`, host: `host-${i}` }),
    );
    for (const w of workers) await w.register();
  });

  afterAll(async () => {
    for (const w of workers) w.close();
    client.close();
    await server.close();
  });

  it('registers workers and answers their heartbeats with the intervals and no deletions', async () => {
    const reg = await client.registerWorker({
      address: {
        workerId: 'worker-x',
        host: '127.0.0.1',
        controlPort: 9197,
        dataPort: 9198,
        httpPort: 9199,
      },
      disks: [{ path: '/data', capacityBytes: 100, freeBytes: 50, healthy: true }],
      memoryBudgetBytes: 1 << 30,
    });
    expect(reg).toEqual({ heartbeatIntervalMs: 3_000, workerLostTimeoutMs: 30_000 });
    const hb = await workers[0]!.heartbeat();
    expect(hb).toEqual({
      reregister: false,
      expiredApps: [],
      releasedShuffles: [],
      decommission: false,
      recommission: false,
    });
    const unknown = await client.workerHeartbeat({ workerId: 'never-registered' });
    expect(unknown.reregister).toBe(true);
    const state = await client.getClusterState();
    expect(state.workers.map((w) => w.address!.workerId).sort()).toEqual([
      'worker-0',
      'worker-1',
      'worker-2',
      'worker-x',
    ]);
  });

  it('registers an app, allocates a replicated shuffle on distinct hosts, and serves it back', async () => {
    const reg = await client.registerApp({
      appId: 'app-grpc',
      priority: 2,
      name: 'etl',
      user: 'ann',
    });
    // An open cluster (no cluster secret) mints no credential.
    expect(reg).toEqual({ heartbeatIntervalMs: 10_000, appExpiryMs: 60_000, credential: '' });
    await client.appHeartbeat({ appId: 'app-grpc' });
    const res = await client.allocateShuffle({
      appId: 'app-grpc',
      shuffleId: 7,
      numMappers: 20,
      numPartitions: 1000,
      replicate: true,
    });
    expect(res.replicated).toBe(true);
    expect(res.groups).toHaveLength(10);
    const covered = res.groups.reduce((n, g) => n + g.endPartition - g.startPartition, 0);
    expect(covered).toBe(1000);
    for (const g of res.groups) {
      expect(g.epoch).toBe(0);
      expect(g.primary!.host).not.toBe(g.replica!.host);
    }
    const fetched = await client.getShuffle({ appId: 'app-grpc', shuffleId: 7 });
    expect(fetched.groups.map((g) => g.primary!.workerId)).toEqual(
      res.groups.map((g) => g.primary!.workerId),
    );
    await expect(client.getShuffle({ appId: 'app-grpc', shuffleId: 8 })).rejects.toMatchObject({
      code: 'SLUICE_ERR_NOT_FOUND',
    });
    const moved = await client.reallocateGroup({
      appId: 'app-grpc',
      shuffleId: 7,
      groupId: 3,
      oldEpoch: 0,
      failedWorkerIds: [res.groups[3]!.primary!.workerId],
    });
    expect(moved.group!.epoch).toBe(1);

    const { shuffles } = (await (await fetch(`${http}/api/v1/shuffles?appId=app-grpc`)).json()) as {
      shuffles: { shuffleId: number; groups: number; maxEpoch: number }[];
    };
    expect(shuffles).toEqual([expect.objectContaining({ shuffleId: 7, groups: 10, maxEpoch: 1 })]);
    const detail = (await (await fetch(`${http}/api/v1/shuffles/app-grpc/7`)).json()) as {
      groups: { epoch: number }[];
    };
    expect(detail.groups[3]!.epoch).toBe(1);
    const { apps } = (await (await fetch(`${http}/api/v1/apps`)).json()) as {
      apps: { appId: string; priority: number; shuffles: number }[];
    };
    expect(apps).toEqual([
      expect.objectContaining({ appId: 'app-grpc', priority: 2, shuffles: 1 }),
    ]);
    const { workers: ws } = (await (await fetch(`${http}/api/v1/workers`)).json()) as {
      workers: { workerId: string; state: string }[];
    };
    expect(ws.filter((w) => w.state === 'healthy')).toHaveLength(4);
    expect((await fetch(`${http}/api/v1/shuffles/app-grpc/8`)).status).toBe(404);
    expect((await fetch(`${http}/api/v1/shuffles/..%2F..%2Fetc/8`)).status).toBe(400);
  });

  it('tells a worker holding data of an unregistered app to delete it', async () => {
    await client.registerApp({ appId: 'app-gone', priority: 0 });
    await client.allocateShuffle({
      appId: 'app-gone',
      shuffleId: 0,
      numMappers: 1,
      numPartitions: 5,
      replicate: false,
    });
    await client.unregisterApp({ appId: 'app-gone' });
    workers[1]!.held = [{ appId: 'app-gone', shuffleId: 0 }];
    expect((await workers[1]!.heartbeat()).expiredApps).toEqual(['app-gone']);
    workers[1]!.held = [];
    await expect(client.appHeartbeat({ appId: 'app-gone' })).rejects.toMatchObject({
      code: 'SLUICE_ERR_NOT_FOUND',
    });
  });

  it('serves health, readiness and Prometheus metrics', async () => {
    expect((await fetch(`${http}/healthz`)).status).toBe(200);
    expect((await fetch(`${http}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${http}/metrics`)).text();
    expect(metrics).toMatch(/sluice_manager_workers\{state="healthy",process="manager"\} 4/);
    expect(metrics).toMatch(
      /sluice_manager_allocations_total\{policy="load-aware",process="manager"\} [1-9]/,
    );
    expect(metrics).toMatch(
      /sluice_manager_rpc_requests_total\{method="AllocateShuffle",code="OK",process="manager"\} [1-9]/,
    );
    expect(metrics).toContain('sluice_manager_rpc_latency_seconds_bucket');
  });
});
