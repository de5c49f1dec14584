// The ZooKeeper state store against a real ZooKeeper server (docs/development.md#tests: real
// things): the StateStore contract, a 100 000-partition shuffle, chunked generations, the
// leader fence, and a frozen server. Without the ZooKeeper jar the suite is skipped with its
// reason in its name, except under CI, where .ci/run installs it and its absence is an error.
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import zookeeper, { type Client } from 'node-zookeeper-client';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NotLeaderError } from '../../common/errors.js';
import { parseAppId, parseShuffleId } from '../../common/ids.js';
// eslint-disable-next-line no-restricted-imports -- a test, not shipped code: it needs the shared real-ZooKeeper harness (docs/development.md#tests).
import {
  startZooKeeper,
  zooKeeperAvailable,
  ZOOKEEPER_JAR,
  type ZooKeeperEnsemble,
} from '../../testing/zookeeper.js';
// eslint-disable-next-line no-restricted-imports -- as above: a TCP relay that can cut the link to ZooKeeper.
import { FakeNetworkLink } from '../../testing/fake-network.js';
import { openStateStore } from './index.js';
import {
  app,
  group,
  shuffle,
  stateStoreContract,
  tombstone,
  worker,
} from './state-store.contract.js';
import type { GroupRecord, ShuffleRecord } from './store.js';
import { ZooKeeperStateStore, type ZooKeeperStateStoreOptions } from './zookeeper-store.js';

const available = zooKeeperAvailable();
if (!available && process.env['CI']) {
  throw new Error(
    `${ZOOKEEPER_JAR} is missing: .ci/run must install the Debian zookeeper package for these tests`,
  );
}
const suiteName = available
  ? 'ZooKeeperStateStore on a real ZooKeeper'
  : `ZooKeeperStateStore: SKIPPED, ${ZOOKEEPER_JAR} is missing (apt-get install zookeeper)`;

let zk: ZooKeeperEnsemble;
let roots = 0;
const stores: ZooKeeperStateStore[] = [];

/** A store on a root of its own, closed after each test. */
function openStore(options: Partial<ZooKeeperStateStoreOptions> = {}): ZooKeeperStateStore {
  const store = ZooKeeperStateStore.open({
    connect: zk.connectString,
    root: `/test-${++roots}`,
    sessionTimeoutMs: 4_000,
    ...options,
  });
  stores.push(store);
  return store;
}

/** A plain client, to look at (and damage) the znodes behind the store's back. */
class RawZk {
  readonly client: Client;
  constructor(connect: string, sessionTimeoutMs = 4_000) {
    this.client = zookeeper.createClient(connect, { sessionTimeout: sessionTimeoutMs });
    this.client.connect();
  }
  children(path: string): Promise<string[]> {
    return new Promise((resolve, reject) =>
      this.client.getChildren(path, (err, c) => (err ? reject(err) : resolve(c.sort()))),
    );
  }
  version(path: string): Promise<number> {
    return new Promise((resolve, reject) =>
      this.client.getData(path, (err, _d, stat) => (err ? reject(err) : resolve(stat.version))),
    );
  }
  create(path: string, data = Buffer.from('{}'), mode = zookeeper.CreateMode.PERSISTENT) {
    return new Promise<void>((resolve, reject) =>
      this.client.create(path, data, mode, (err) => (err ? reject(err) : resolve())),
    );
  }
  remove(path: string): Promise<void> {
    return new Promise((resolve, reject) =>
      this.client.remove(path, (err) => (err ? reject(err) : resolve())),
    );
  }
  close(): void {
    this.client.close();
  }
}

/** 1 000 groups of 100 partitions with realistic worker names: 100 000 partitions. */
function bigShuffle(appId: string, shuffleId: number, epoch = 0): ShuffleRecord {
  const groups: GroupRecord[] = Array.from({ length: 1_000 }, (_, i) =>
    group(i, {
      startPartition: i * 100,
      endPartition: i * 100 + 100,
      epoch,
      primary: { ...worker(i % 40), host: `sluice-worker-${i % 40}.rack-${i % 4}.dc1.example.com` },
      replica: { ...worker((i + 1) % 40), host: `sluice-worker-${(i + 1) % 40}.dc1.example.com` },
    }),
  );
  return shuffle(appId, shuffleId, 0, {
    numPartitions: 100_000,
    maxPartitionsPerGroup: 100,
    numMappers: 5_000,
    groups,
  });
}

describe.skipIf(!available)(suiteName, () => {
  beforeAll(async () => {
    zk = await startZooKeeper();
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
  });
  afterAll(async () => {
    const dir = zk?.dir;
    const pids = zk?.servers.map((s) => s.pid) ?? [];
    await zk?.close();
    // The harness leaves nothing behind: no process (direct children are reaped), no files.
    for (const pid of pids) expect(processAlive(pid!)).toBe(false);
    if (dir) expect(existsSync(dir)).toBe(false);
  });

  stateStoreContract('zookeeper', async () => {
    const root = `/contract-${++roots}`;
    const open = () =>
      ZooKeeperStateStore.open({ connect: zk.connectString, root, sessionTimeoutMs: 4_000 });
    let store = open();
    return {
      store,
      reopen: async () => {
        await store.close();
        store = open();
        return store;
      },
      cleanup: () => store.close(),
    };
  });

  it('is what openStateStore returns for kind "zookeeper"', async () => {
    const store = openStateStore({
      kind: 'zookeeper',
      sqlitePath: '/nonexistent/never-created.db',
      zkConnect: zk.connectString,
      zkRoot: `/test-${++roots}`,
      zkSessionTimeoutMs: 4_000,
    });
    expect(store).toBeInstanceOf(ZooKeeperStateStore);
    expect(store.kind).toBe('zookeeper');
    await store.putApp(app('a1'));
    expect((await store.load()).apps).toEqual([app('a1')]);
    await store.close();
  });

  it('opens at once without ZooKeeper; calls then fail with STATE_UNAVAILABLE by their deadline', async () => {
    // A port nothing listens on: the manager's constructor opens its store synchronously and
    // must not hang or throw there.
    const port = await freePort();
    const store = openStore({ connect: `127.0.0.1:${port}`, operationTimeoutMs: 300 });
    const started = Date.now();
    await expect(store.load()).rejects.toMatchObject({
      code: 'SLUICE_ERR_STATE_UNAVAILABLE',
      retriable: true,
    });
    await expect(store.putApp(app('a1'))).rejects.toMatchObject({
      code: 'SLUICE_ERR_STATE_UNAVAILABLE',
    });
    expect(Date.now() - started).toBeLessThan(2_000);
    await store.close();
  });

  it('round-trips a 100 000-partition shuffle, and putGroup rewrites only its chunk', async () => {
    const store = openStore();
    const raw = new RawZk(zk.connectString);
    try {
      const big = bigShuffle('big-app', 7);
      await store.putShuffle(big);
      expect((await store.load()).shuffles).toEqual([big]);
      const moved = { ...big.groups[537]!, epoch: 1, primary: worker(99), replica: null };
      await store.putGroup(parseAppId('big-app'), parseShuffleId(7), moved);
      const groups = big.groups.map((g) => (g.groupId === 537 ? moved : g));
      const gen = `${store.root}/groups/big-app/7.0`;
      const chunks = await raw.children(gen);
      expect(chunks).toHaveLength(10);
      const versions = await Promise.all(chunks.map((k) => raw.version(`${gen}/${k}`)));
      // Chunk 5 holds groups 500..599; no other chunk was written again.
      expect(Object.fromEntries(chunks.map((k, i) => [k, versions[i]]))).toMatchObject({
        '0': 0,
        '4': 0,
        '5': 1,
        '9': 0,
      });
      expect(versions.filter((v) => v !== 0)).toEqual([1]);
      const reopened = openStore({ root: store.root });
      expect((await reopened.load()).shuffles).toEqual([{ ...big, groups }]);
    } finally {
      raw.close();
    }
  });

  it('writes a shuffle too large for one multi as a new generation, then switches to it', async () => {
    // 64 KiB multis: the ~300 KB of groups take several multis before the switch.
    const store = openStore({ maxMultiBytes: 64 * 1024 });
    const raw = new RawZk(zk.connectString);
    try {
      const first = bigShuffle('a1', 1);
      await store.putShuffle(first);
      expect((await store.load()).shuffles).toEqual([first]);
      expect(await raw.children(`${store.root}/groups/a1`)).toEqual(['1.0']);
      const second = bigShuffle('a1', 1, 4);
      await store.putShuffle(second);
      // The old generation was deleted after the switch.
      expect(await raw.children(`${store.root}/groups/a1`)).toEqual(['1.1']);
      // A generation a failed write left behind (chunks, no switch) is never read and load()
      // deletes it.
      await raw.create(`${store.root}/groups/a1/1.7`);
      await raw.create(`${store.root}/groups/a1/1.7/0`, Buffer.from('[]'));
      await raw.create(`${store.root}/groups/orphan-app`);
      expect((await store.load()).shuffles).toEqual([second]);
      expect(await raw.children(`${store.root}/groups`)).toEqual(['a1']);
      expect(await raw.children(`${store.root}/groups/a1`)).toEqual(['1.1']);
      // Deleting the shuffle deletes its chunks too.
      await store.deleteShuffle(parseAppId('a1'), parseShuffleId(1), tombstone('a1', 1));
      expect(await raw.children(`${store.root}/groups/a1`)).toEqual([]);
      expect(await store.load()).toEqual({
        apps: [],
        shuffles: [],
        tombstones: [tombstone('a1', 1)],
      });
    } finally {
      raw.close();
    }
  });

  it('fenced writes fail with NotLeaderError and write nothing once the fence znode is gone', async () => {
    const store = openStore();
    const raw = new RawZk(zk.connectString);
    try {
      const fence = `/fence-${roots}`;
      await raw.create(fence);
      store.setFence(fence);
      await store.putApp(app('a1'));
      await store.putShuffle(shuffle('a1', 1, 3));
      const before = await store.load();
      await raw.remove(fence);
      const writes: Array<() => Promise<unknown>> = [
        () => store.putApp(app('a2')),
        () => store.putShuffle(shuffle('a1', 2, 3)),
        () => store.putShuffle(bigShuffle('a1', 3)),
        () => store.putGroup(parseAppId('a1'), parseShuffleId(1), group(0, { epoch: 9 })),
        () => store.deleteShuffle(parseAppId('a1'), parseShuffleId(1), tombstone('a1', 1)),
        () => store.deleteApp(parseAppId('a1'), tombstone('a1', null)),
      ];
      for (const write of writes) {
        const attempt = write();
        await expect(attempt).rejects.toBeInstanceOf(NotLeaderError);
        await expect(attempt).rejects.toMatchObject({
          code: 'SLUICE_ERR_NOT_LEADER',
          retriable: true,
          leader: undefined,
        });
      }
      expect(await store.load()).toEqual(before);
      expect(await raw.children(`${store.root}/groups/a1`)).toEqual(['1.0']);
      // A new fence (a new term) makes the store writable again.
      await raw.create(fence);
      store.setFence(fence);
      await store.putApp(app('a2'));
      expect((await store.load()).apps).toEqual([app('a1'), app('a2')]);
    } finally {
      raw.close();
    }
  });

  it('fails fast with STATE_UNAVAILABLE while the server is frozen, and works once it resumes', async () => {
    const store = openStore({ sessionTimeoutMs: 4_000, operationTimeoutMs: 1_500 });
    await store.putApp(app('a1'));
    const server = zk.servers[0]!;
    server.kill('SIGSTOP');
    try {
      const started = Date.now();
      const attempt = store.putApp(app('a2'));
      await expect(attempt).rejects.toMatchObject({
        code: 'SLUICE_ERR_STATE_UNAVAILABLE',
        retriable: true,
      });
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      server.kill('SIGCONT');
    }
    // Once the server answers again (a loaded machine may take a moment to resume it), and
    // within the session timeout: the same session carries on.
    while ((await server.mode()) === undefined);
    await store.putApp(app('a3'));
    // a2 timed out on the read that precedes its multi, so its multi was never sent.
    expect((await store.load()).apps.map((a) => a.appId)).toEqual(['a1', 'a3']);
  });

  it('replaces a client whose session expired, keeping the fence (now on a gone znode)', async () => {
    // ZooKeeper keeps running while the link to it is cut, so it expires the sessions behind
    // the link; a frozen server would race its expiry against the pings queued meanwhile.
    const link = await FakeNetworkLink.listen();
    link.target('127.0.0.1', zk.servers[0]!.port);
    const messages: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => messages.push(line) });
    const connect = `127.0.0.1:${link.port}`;
    const store = openStore({ connect, sessionTimeoutMs: 1_000, logger });
    // The election znode of a leader whose session goes through the same link.
    const leader = new RawZk(connect, 1_000);
    try {
      const fence = `/fence-${roots}`;
      await leader.create(fence, Buffer.from('{}'), zookeeper.CreateMode.EPHEMERAL);
      store.setFence(fence);
      await store.putApp(app('a1'));
      link.cut();
      // Longer than the session timeout (1 s) and a tick: the server expires both sessions.
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      link.restore();
      // The first calls may fail while the client learns of the expiry; a new session then
      // reaches ZooKeeper, and the kept fence refuses the write: the leadership went with the
      // session.
      await expect(retryUnavailable(() => store.putApp(app('a2')))).rejects.toMatchObject({
        code: 'SLUICE_ERR_NOT_LEADER',
      });
      expect(messages.some((m) => m.includes('ZooKeeper session ended'))).toBe(true);
      store.setFence(undefined);
      await store.putApp(app('a3'));
      expect((await store.load()).apps.map((a) => a.appId)).toEqual(['a1', 'a3']);
    } finally {
      leader.close();
      await link.close();
    }
  });

  it('on a three-server ensemble: survives the leader stopping, fails without quorum', async () => {
    const ensemble = await startZooKeeper({ servers: 3 });
    try {
      const modes = await Promise.all(ensemble.servers.map((s) => s.mode()));
      expect([...modes].sort()).toEqual(['follower', 'follower', 'leader']);
      const store = openStore({ connect: ensemble.connectString, operationTimeoutMs: 2_000 });
      await store.putApp(app('a1'));
      const leader = ensemble.servers[modes.indexOf('leader')]!;
      await leader.stop();
      // The two others elect a new leader; the client moves to one of them.
      await retryUnavailable(() => store.putApp(app('a2')));
      await leader.start();
      const others = ensemble.servers.filter((x) => x !== leader);
      for (const s of others) s.kill('SIGKILL');
      await Promise.all(others.map((s) => s.exited()));
      await expect(store.putApp(app('a3'))).rejects.toMatchObject({
        code: 'SLUICE_ERR_STATE_UNAVAILABLE',
      });
      await Promise.all(others.map((s) => s.start()));
      await retryUnavailable(() => store.putApp(app('a4')));
      expect((await store.load()).apps.map((a) => a.appId)).toEqual(['a1', 'a2', 'a4']);
    } finally {
      await ensemble.close();
    }
  });

  it('the harness restarts a server on the same port and close() leaves no process', async () => {
    const own = await startZooKeeper();
    const server = own.servers[0]!;
    const firstPid = server.pid!;
    server.kill('SIGKILL');
    await server.exited();
    expect(processAlive(firstPid)).toBe(false);
    await server.start();
    expect(await server.mode()).toBe('standalone');
    const pid = server.pid!;
    expect(pid).not.toBe(firstPid);
    server.kill('SIGSTOP');
    await own.close();
    expect(processAlive(pid)).toBe(false);
    expect(existsSync(own.dir)).toBe(false);
  });
});

/** A port on 127.0.0.1 that was free a moment ago. */
async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Calls `fn` again while it fails with STATE_UNAVAILABLE (10 s at most); other errors pass. */
async function retryUnavailable(fn: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code !== 'SLUICE_ERR_STATE_UNAVAILABLE' || Date.now() > deadline) throw err;
    }
  }
}

/** False once the process is gone (or only a zombie waiting for its parent to reap it). */
function processAlive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}
