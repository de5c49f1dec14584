// The manager's timers and admin paths over real gRPC/HTTP: app expiry driven by the
// server's own sweep, deletion orders reaching a worker, decommission, per-worker metrics,
// and close()/destroy() being idempotent.
import { afterEach, describe, expect, it } from 'vitest';
import { ManagerClient } from '../src/common/proto/manager-client.js';
import type { ManagerServer } from '../src/manager/server.js';
import { FakeWorker } from '../src/testing/fake-worker.js';
import { startManager } from '../src/testing/manager.js';
import { waitFor } from '../src/testing/wait-for.js';

describe('manager lifecycle over the wire', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function cluster(config: Record<string, unknown>) {
    const server = await startManager({ config });
    const client = new ManagerClient(server.address);
    const workers = ['a', 'b'].map(
      (h) => new FakeWorker(server.address, { id: `w-${h}`, host: h }),
    );
    for (const w of workers) await w.register();
    cleanups.push(
      () => server.close(),
      () => client.close(),
      () => workers.forEach((w) => w.close()),
    );
    return { server, client, workers, http: `http://127.0.0.1:${server.httpPort}` };
  }

  it('expires a silent app on its own timer and orders every worker holding its data to delete it', async () => {
    const { client, workers } = await cluster({
      'manager.appExpiryMs': 300,
      'manager.sweepIntervalMs': 20,
    });
    await client.registerApp({ appId: 'short-lived' });
    await client.allocateShuffle({
      appId: 'short-lived',
      shuffleId: 0,
      numMappers: 1,
      numPartitions: 4,
      replicate: true,
    });
    for (const w of workers) w.held = [{ appId: 'short-lived', shuffleId: 0 }];
    // While it heartbeats it stays; the workers are told nothing.
    const started = Date.now();
    while (Date.now() - started < 600) {
      await client.appHeartbeat({ appId: 'short-lived' });
      for (const w of workers) expect((await w.heartbeat()).expiredApps).toEqual([]);
    }
    // Silent: within expiry + one sweep, both workers get the order.
    const replies = await waitFor(
      async () => {
        const r = await Promise.all(workers.map((w) => w.heartbeat()));
        return r.every((x) => x.expiredApps.includes('short-lived')) && r;
      },
      { timeoutMs: 5_000, what: 'deletion orders' },
    );
    expect(replies).toHaveLength(2);
    await expect(client.appHeartbeat({ appId: 'short-lived' })).rejects.toMatchObject({
      code: 'SLUICE_ERR_NOT_FOUND',
    });
    await expect(client.registerApp({ appId: 'short-lived' })).rejects.toMatchObject({
      code: 'SLUICE_ERR_ALREADY_EXISTS',
    });
  });

  it('decommissions a worker through the admin API: no new groups, told in its heartbeat', async () => {
    const { client, workers, http } = await cluster({});
    const res = await fetch(`${http}/api/v1/workers/w-b/decommission`, { method: 'POST' });
    expect(res.status).toBe(202);
    expect(
      (await fetch(`${http}/api/v1/workers/nobody/decommission`, { method: 'POST' })).status,
    ).toBe(404);
    expect((await workers[1]!.heartbeat()).decommission).toBe(true);
    await client.registerApp({ appId: 'after-decom' });
    const alloc = await client.allocateShuffle({
      appId: 'after-decom',
      shuffleId: 0,
      numMappers: 1,
      numPartitions: 500,
      replicate: false,
    });
    expect(new Set(alloc.groups.map((g) => g.primary!.workerId))).toEqual(new Set(['w-a']));
    await expect(
      client.allocateShuffle({
        appId: 'after-decom',
        shuffleId: 1,
        numMappers: 1,
        numPartitions: 5,
        replicate: true,
      }),
    ).rejects.toMatchObject({ code: 'SLUICE_ERR_NO_WORKERS' });
  });

  it('exports per-worker load gauges and cluster state without groups unless asked', async () => {
    const { client, workers, http } = await cluster({});
    workers[0]!.load = { memoryUsedBytes: 12345, pushBytesPerSec: 1000 };
    await workers[0]!.heartbeat();
    const metrics = await (await fetch(`${http}/metrics`)).text();
    expect(metrics).toMatch(
      /sluice_manager_worker_memory_used_bytes\{worker="w-a",process="manager"\} 12345/,
    );
    expect(metrics).toMatch(
      /sluice_manager_worker_push_bytes_per_second\{worker="w-a",process="manager"\} 1000/,
    );
    await client.registerApp({ appId: 'stateful' });
    await client.allocateShuffle({
      appId: 'stateful',
      shuffleId: 0,
      numMappers: 1,
      numPartitions: 250,
      replicate: true,
    });
    const lean = await client.getClusterState();
    expect(lean.shuffles[0]).toMatchObject({ numGroups: 3, maxEpoch: 0, groups: [] });
    const full = await client.getClusterState({ includeGroups: true });
    expect(full.shuffles[0]!.groups).toHaveLength(3);
  });

  it('closes and destroys idempotently', async () => {
    const server: ManagerServer = await startManager();
    const health = `http://127.0.0.1:${server.httpPort}/healthz`;
    expect((await fetch(health)).status).toBe(200);
    await Promise.all([server.close(), server.close()]);
    await server.close();
    server.destroy();
    server.destroy();
    await expect(fetch(health)).rejects.toThrow();
  });
});
