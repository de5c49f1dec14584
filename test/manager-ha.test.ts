// Manager high availability on a real ZooKeeper (docs/architecture.md#high-availability): three
// managers in this process share one ZooKeeper state; exactly one leads, the others redirect
// (gRPC NOT_LEADER with the leader's address, HTTP 503 naming it), and when the leader goes a
// follower takes over within the session timeout with the state the old leader wrote.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManagerClient } from '../src/common/proto/manager-client.js';
import type { ManagerServer } from '../src/manager/server.js';
import { FakeNetworkLink } from '../src/testing/fake-network.js';
import { startManager } from '../src/testing/manager.js';
import { waitFor } from '../src/testing/wait-for.js';
import {
  startZooKeeper,
  zooKeeperAvailable,
  type ZooKeeperEnsemble,
} from '../src/testing/zookeeper.js';

const SESSION_MS = 2_000;
const available = zooKeeperAvailable();
if (!available && process.env.CI)
  throw new Error('ZooKeeper is not installed: .ci/run must install the Debian zookeeper package');

describe.skipIf(!available)('manager HA on ZooKeeper', () => {
  let zk: ZooKeeperEnsemble;
  let managers: ManagerServer[] = [];
  let root = 0;

  beforeAll(async () => {
    zk = await startZooKeeper({ servers: 1 });
  });
  afterAll(async () => {
    await zk?.close();
  });
  afterEach(async () => {
    await Promise.all(managers.map((m) => m.close()));
    managers = [];
  });

  async function startThree(): Promise<ManagerServer[]> {
    const zkRoot = `/ha-test-${process.pid}-${++root}`;
    managers = [];
    for (let i = 0; i < 3; i++) {
      managers.push(
        await startManager({
          config: {
            'manager.state': 'zookeeper',
            'manager.zkConnect': zk.connectString,
            'manager.zkRoot': zkRoot,
            'manager.zkSessionTimeoutMs': SESSION_MS,
          },
        }),
      );
    }
    await waitFor(() => managers.filter((m) => m.role === 'leader' && isServing(m)).length === 1, {
      timeoutMs: 10_000,
      what: 'one serving leader',
    });
    return managers;
  }

  it('elects exactly one leader; followers name it over gRPC and HTTP', async () => {
    const all = await startThree();
    const leader = all.find((m) => m.role === 'leader')!;
    const followers = all.filter((m) => m !== leader);
    expect(followers.map((f) => f.role)).toEqual(['follower', 'follower']);
    await waitFor(() => followers.every((f) => f.leader?.grpc === leader.address), {
      what: 'followers know the leader',
    });

    const f = followers[0]!;
    // The HTTP API of a follower: 503 with the leader in the body, /readyz likewise.
    const api = await fetch(`http://127.0.0.1:${f.httpPort}/api/v1/apps`);
    expect(api.status).toBe(503);
    const body = (await api.json()) as { error: { code: string; leader: string } };
    expect(body.error).toMatchObject({ code: 'SLUICE_ERR_NOT_LEADER', leader: leader.address });
    const ready = await fetch(`http://127.0.0.1:${f.httpPort}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.text()).toContain(leader.address);
    expect((await fetch(`http://127.0.0.1:${leader.httpPort}/readyz`)).status).toBe(200);

    const cluster = (await (
      await fetch(`http://127.0.0.1:${f.httpPort}/api/v1/cluster`)
    ).json()) as { role: string; leader: { grpc: string }; members: { grpc: string }[] };
    expect(cluster.role).toBe('follower');
    expect(cluster.leader.grpc).toBe(leader.address);
    expect(cluster.members.map((m) => m.grpc).sort()).toEqual(all.map((m) => m.address).sort());

    // A client given only the follower's address is redirected and served by the leader.
    const client = new ManagerClient(f.address, { deadlineMs: 2_000, failoverTimeoutMs: 5_000 });
    try {
      await client.registerApp({ appId: 'app-ha-1', priority: 3, name: 'n', user: 'u' });
      expect(client.leader).toBe(leader.address);
    } finally {
      client.close();
    }
    expect(leader.manager.apps.has('app-ha-1' as never)).toBe(true);
    // The follower counted the call it refused.
    const metrics = await (await fetch(`http://127.0.0.1:${f.httpPort}/metrics`)).text();
    expect(metrics).toMatch(
      /sluice_manager_rpc_requests_total\{method="RegisterApp",code="SLUICE_ERR_NOT_LEADER"[^}]*\} 1/,
    );
    expect(metrics).toMatch(/sluice_manager_is_leader\{[^}]*\} 0/);
  });

  it('a leader cut off from ZooKeeper steps down by itself; another takes over', async () => {
    // ZooKeeper never tells a disconnected client that its session expired: the leader must
    // give up on its own once it has been cut off for a whole session timeout.
    const link = await FakeNetworkLink.listen();
    link.target('127.0.0.1', zk.servers[0]!.port);
    const zkRoot = `/ha-test-${process.pid}-${++root}`;
    const config = (connect: string) => ({
      'manager.state': 'zookeeper',
      'manager.zkConnect': connect,
      'manager.zkRoot': zkRoot,
      'manager.zkSessionTimeoutMs': SESSION_MS,
    });
    try {
      // The first to join leads: the one whose ZooKeeper traffic crosses the link.
      const cutOff = await startManager({ config: config(`127.0.0.1:${link.port}`) });
      managers = [cutOff];
      await waitFor(() => isServing(cutOff), { what: 'the first manager leads' });
      for (let i = 0; i < 2; i++)
        managers.push(await startManager({ config: config(zk.connectString) }));
      expect(cutOff.role).toBe('leader');

      const cutAt = Date.now();
      link.cut();
      await waitFor(() => cutOff.role !== 'leader', {
        timeoutMs: SESSION_MS + 3_000,
        what: 'the cut-off leader steps down',
      });
      const steppedDownMs = Date.now() - cutAt;
      expect(steppedDownMs).toBeGreaterThanOrEqual(SESSION_MS - 100);
      expect(isServing(cutOff)).toBe(false);
      const others = managers.slice(1);
      await waitFor(() => others.some((m) => m.role === 'leader' && isServing(m)), {
        timeoutMs: SESSION_MS + 10_000,
        what: 'another manager leads',
      });
    } finally {
      await link.close();
    }
  });

  it('a manager whose ZooKeeper does not answer starts as a candidate and closes cleanly', async () => {
    const link = await FakeNetworkLink.listen();
    link.cut(); // refuses every connection, as a dead ZooKeeper would
    try {
      const started = Date.now();
      const m = await startManager({
        config: {
          'manager.state': 'zookeeper',
          'manager.zkConnect': `127.0.0.1:${link.port}`,
          'manager.zkSessionTimeoutMs': 1_000,
        },
      });
      managers = [m];
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(m.role).toBe('candidate');
      const res = await fetch(`http://127.0.0.1:${m.httpPort}/api/v1/apps`);
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
        'SLUICE_ERR_NOT_LEADER',
      );
      await m.close();
      managers = [];
    } finally {
      await link.close();
    }
  });

  it('a follower takes over with the state the old leader wrote', async () => {
    const all = await startThree();
    const leader = all.find((m) => m.role === 'leader')!;
    const client = new ManagerClient(
      all.map((m) => m.address),
      { deadlineMs: 2_000, failoverTimeoutMs: 20_000 },
    );
    try {
      await client.registerApp({ appId: 'app-ha-2', priority: 3, name: 'n', user: 'u' });
      const stoppedAt = Date.now();
      await leader.close();
      managers = all.filter((m) => m !== leader);
      await waitFor(() => managers.some((m) => m.role === 'leader' && isServing(m)), {
        timeoutMs: SESSION_MS + 10_000,
        what: 'a new serving leader',
      });
      const took = Date.now() - stoppedAt;
      const next = managers.find((m) => m.role === 'leader')!;
      expect(next.manager.apps.has('app-ha-2' as never)).toBe(true);
      // The same client carries on with the new leader: the app is known there (no
      // "unknown app" for its heartbeat).
      await client.appHeartbeat({ appId: 'app-ha-2' });
      expect(client.leader).toBe(next.address);
      expect(took).toBeLessThan(SESSION_MS + 10_000);
    } finally {
      client.close();
    }
  });
});

function isServing(m: ManagerServer): boolean {
  try {
    return m.manager !== undefined;
  } catch {
    return false;
  }
}
