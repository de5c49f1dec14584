// ManagerClient with several managers (src/common/proto/manager-client.ts): it finds the leader,
// follows NOT_LEADER redirects, skips dead and leaderless managers, rides out an election
// within its failover budget and gives up after it, and never retries the leader's own
// answers. Real gRPC on 127.0.0.1: an in-process manager as the leader, FakeFollowerManager
// as followers. (In test/, not next to the client: src/common may not import src/testing.)
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ShuffleClient, ShuffleDriver } from '../src/client/index.js';
import { InvalidArgumentError, SluiceError } from '../src/common/errors.js';
import { ManagerClient, parseManagerAddresses } from '../src/common/proto/manager-client.js';
import { startCluster } from '../src/testing/cluster.js';
import { FakeFollowerManager } from '../src/testing/fake-follower.js';
import { startManager } from '../src/testing/manager.js';
import type { ManagerServer } from '../src/manager/server.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function leader(config: Record<string, unknown> = {}): Promise<ManagerServer> {
  const m = await startManager({ config });
  cleanups.push(() => m.close());
  return m;
}

async function follower(leaderAddress?: string): Promise<FakeFollowerManager> {
  const f = await FakeFollowerManager.start(leaderAddress);
  cleanups.push(() => f.close());
  return f;
}

function client(addresses: string | string[], options = {}): ManagerClient {
  const c = new ManagerClient(addresses, options);
  cleanups.push(() => c.close());
  return c;
}

/** A port nothing listens on (bound, then released). */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function failure(p: Promise<unknown>): Promise<SluiceError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(SluiceError);
    return err as SluiceError;
  }
  throw new Error('expected a failure');
}

const APP = { appId: 'app-ha', priority: 3, name: 'ha' };

describe('ManagerClient addresses', () => {
  it('takes one address, a comma-separated list or an array, without duplicates', () => {
    expect(parseManagerAddresses('h1:9097')).toEqual(['h1:9097']);
    expect(parseManagerAddresses('h1:9097, h2:9097,h1:9097')).toEqual(['h1:9097', 'h2:9097']);
    expect(parseManagerAddresses(['10.0.0.1:1', '[::1]:9097'])).toEqual([
      '10.0.0.1:1',
      '[::1]:9097',
    ]);
    const c = client('127.0.0.1:1,127.0.0.1:2');
    expect(c.addresses).toEqual(['127.0.0.1:1', '127.0.0.1:2']);
    expect(c.leader).toBe('127.0.0.1:1');
  });

  it.each<[string | string[], string]>([
    ['', 'needs at least one'],
    [[], 'needs at least one'],
    ['h1', '"h1"'],
    ['h1:9097,,h2:9097', '""'],
    ['h1:0', '"h1:0"'],
    ['h1:70000', '"h1:70000"'],
    [['h1:9097', 'h 2:9097'], '"h 2:9097"'],
  ])('refuses %j naming the field', (input, detail) => {
    let err: unknown;
    try {
      new ManagerClient(input, { field: 'worker.manager' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as InvalidArgumentError).field).toBe('worker.manager');
    expect((err as Error).message).toContain(detail);
  });
});

describe('ManagerClient failover', () => {
  it('reaches the leader when given only a follower, and then goes there directly', async () => {
    const m = await leader();
    const f = await follower(m.address);
    const c = client(f.address);
    await expect(c.registerApp(APP)).resolves.toMatchObject({ heartbeatIntervalMs: 10_000 });
    expect(c.leader).toBe(m.address);
    expect(c.addresses).toEqual([f.address, m.address]);
    await c.appHeartbeat({ appId: APP.appId });
    expect(f.calls).toEqual(['RegisterApp']);
  });

  it('skips a dead address at the head of the list', async () => {
    const m = await leader();
    const dead = `127.0.0.1:${await deadPort()}`;
    const c = client([dead, m.address]);
    const started = Date.now();
    await c.registerApp(APP);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(c.leader).toBe(m.address);
  });

  it('tries the next address when a follower names no leader', async () => {
    const m = await leader();
    const f = await follower(undefined);
    const c = client(`${f.address},${m.address}`);
    await c.registerApp(APP);
    expect(c.leader).toBe(m.address);
    expect(f.calls).toEqual(['RegisterApp']);
  });

  it('finds a leader elected 2 s after the call started, within the budget', async () => {
    const f = await follower(undefined);
    const port = await deadPort();
    const future = `127.0.0.1:${port}`;
    const c = client([f.address, future]);
    const started = Date.now();
    let elected: Promise<ManagerServer> | undefined;
    const timer = setTimeout(() => {
      elected = leader({ 'manager.grpcPort': port });
      void elected.then((m) => (f.leader = m.address));
    }, 2_000);
    cleanups.push(() => clearTimeout(timer));
    await c.registerApp(APP);
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(1_900);
    expect(took).toBeLessThan(10_000);
    expect(c.leader).toBe(future);
    expect((await elected!).manager.appList().map((a) => a.appId)).toEqual([APP.appId]);
  });

  it('returns INVALID_ARGUMENT and NO_WORKERS from the leader at once, without retrying', async () => {
    const m = await leader();
    const f = await follower(m.address);
    const c = client([f.address, m.address]);
    const bad = await failure(c.registerApp({ ...APP, appId: '../etc' }));
    expect(bad.code).toBe('SLUICE_ERR_INVALID_ARGUMENT');
    await c.registerApp(APP);
    const started = Date.now();
    const none = await failure(
      c.allocateShuffle({ appId: APP.appId, shuffleId: 1, numMappers: 1, numPartitions: 2 }),
    );
    expect(none.code).toBe('SLUICE_ERR_NO_WORKERS');
    expect(Date.now() - started).toBeLessThan(1_000);
    const metrics = await (await fetch(`http://127.0.0.1:${m.httpPort}/metrics`)).text();
    const count = (method: string, code: string) =>
      Number(
        new RegExp(
          `sluice_manager_rpc_requests_total\\{method="${method}",code="${code}"[^}]*\\} (\\d+)`,
        ).exec(metrics)?.[1],
      );
    expect(count('RegisterApp', 'SLUICE_ERR_INVALID_ARGUMENT')).toBe(1);
    expect(count('AllocateShuffle', 'SLUICE_ERR_NO_WORKERS')).toBe(1);
    expect(f.calls).toEqual(['RegisterApp']);
  });

  it('gives up when the budget is spent, naming every address tried', async () => {
    const dead = [`127.0.0.1:${await deadPort()}`, `127.0.0.1:${await deadPort()}`];
    const f = await follower(undefined);
    const c = client([...dead, f.address], { failoverTimeoutMs: 1_000 });
    const started = Date.now();
    const err = await failure(c.getClusterState());
    const took = Date.now() - started;
    expect(err.code).toBe('SLUICE_ERR_RETRIES_EXCEEDED');
    expect(err.message).toContain('ManagerService.GetClusterState');
    for (const a of [...dead, f.address]) expect(err.message).toContain(a);
    expect((err.cause as SluiceError).retriable).toBe(true);
    expect(took).toBeGreaterThanOrEqual(900);
    expect(took).toBeLessThan(4_000);
    expect(f.calls.length).toBeGreaterThan(1);
  });

  it('stops a redirect ping-pong between two confused followers after the hop bound', async () => {
    const a = await follower(undefined);
    const b = await follower(a.address);
    a.leader = b.address;
    const c = client(a.address, { failoverTimeoutMs: 0, maxRedirects: 3 });
    const err = await failure(c.registerApp(APP));
    expect(err.code).toBe('SLUICE_ERR_RETRIES_EXCEEDED');
    expect((err.cause as SluiceError).code).toBe('SLUICE_ERR_NOT_LEADER');
    // The first call and three redirects: a, b, a, b.
    expect(a.calls.length + b.calls.length).toBe(4);
    expect(a.calls).toHaveLength(2);
  });

  it('with one address behaves as before: a dead manager fails after the budget', async () => {
    const c = client(`127.0.0.1:${await deadPort()}`, { failoverTimeoutMs: 300 });
    const err = await failure(c.getClusterState());
    expect(err.code).toBe('SLUICE_ERR_RETRIES_EXCEEDED');
    expect((err.cause as SluiceError).code).toBe('SLUICE_ERR_UNAVAILABLE');
  });

  it('fails a call waiting for a leader when the client is closed', async () => {
    const c = client(`127.0.0.1:${await deadPort()}`);
    const started = Date.now();
    const pending = failure(c.getClusterState());
    setTimeout(() => c.close(), 300);
    const err = await pending;
    expect(err.code).toBe('SLUICE_ERR_UNAVAILABLE');
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});

describe('ShuffleDriver with several managers', () => {
  it('registers through a follower and round-trips a shuffle', async () => {
    const cluster = await startCluster({ workers: 2 });
    cleanups.push(() => cluster.close());
    const f = await follower(cluster.managerAddress);
    const driver = await ShuffleDriver.start({
      manager: [f.address, cluster.managerAddress],
      appId: 'app-ha-driver',
    });
    cleanups.push(() => driver.close());
    const handle = await driver.registerShuffle({ shuffleId: 0, numMappers: 1, numPartitions: 4 });
    expect(handle.groups.length).toBeGreaterThan(0);
    const shuffle = new ShuffleClient({ driver: handle.driverAddress });
    cleanups.push(() => shuffle.close());
    const w = shuffle.writer({
      appId: 'app-ha-driver',
      shuffleId: 0,
      mapId: 0,
      attemptId: 0,
      numPartitions: 4,
    });
    for (let p = 0; p < 4; p++) w.write(p, Buffer.from(`record of partition ${p}`));
    expect((await w.close()).discarded).toBe(false);
    expect((await driver.commitShuffle(0, 10_000)).lost).toEqual([]);
    for (let p = 0; p < 4; p++) {
      const got: string[] = [];
      const reader = shuffle.reader({ appId: 'app-ha-driver', shuffleId: 0, partitionId: p });
      for await (const r of reader) got.push(r.toString());
      expect(got).toEqual([`record of partition ${p}`]);
    }
    // Only the registration went through the follower; then the driver stayed on the leader.
    expect(f.calls).toEqual(['RegisterApp']);
    expect(cluster.manager.manager.appList().some((a) => a.appId === 'app-ha-driver')).toBe(true);
  }, 60_000);
});
