// Authentication against real processes (docs/operations.md#security): a manager and two
// workers run as separate processes with a cluster secret and an admin token. A victim app
// writes and commits a shuffle; an attacker with no credential, a forged one, or its own app's
// credential then tries every action on the victim's data and on the cluster. Each attempt
// is refused with its code and counted, and the victim reads back exactly what it wrote.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { ShuffleClient, ShuffleDriver, type ShuffleHandle } from '../../src/client/index.js';
import { DriverClient } from '../../src/client/driver/driver-client.js';
import { DataConnection } from '../../src/client/net/data-connection.js';
import type { AppId, ShuffleId } from '../../src/common/ids.js';
import { ManagerClient } from '../../src/common/proto/manager-client.js';
import { WorkerControlClient } from '../../src/common/proto/worker-client.js';
import { appSigner, type CallSigner } from '../../src/common/security/call-auth.js';
import { AppCredential } from '../../src/common/security/keys.js';
import { WireStatusCode } from '../../src/common/status-codes.js';
import { encodeOpenStreamFrame, encodePushFrame } from '../../src/common/wire/index.js';
import { ProcessCluster } from '../../src/testing/process-cluster.js';
import { RawDataClient } from '../../src/testing/raw-data-client.js';

const VICTIM = 'victim-app';
const MAPS = 2;
const PARTITIONS = 4;
const RECORDS_PER_PARTITION = 50;

function record(mapId: number, partition: number, i: number): Buffer {
  return Buffer.from(`m${mapId}-p${partition}-r${i}-${'x'.repeat(i % 17)}`);
}

/** The error code a promise rejects with ('resolved' if it does not). */
async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    return String((err as { code?: unknown }).code ?? (err as Error).message);
  }
}

async function metric(url: string, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n'))
    if (line.startsWith(`${name}{`) && line.includes(labels)) sum += Number(line.split(' ').at(-1));
  return sum;
}

describe('an authenticated cluster refuses every action without the right credential', () => {
  let cluster: ProcessCluster;
  let victim: ShuffleDriver;
  let attacker: ShuffleDriver;
  let handle: ShuffleHandle;
  let victimClient: ShuffleClient;
  /** A credential for the victim's app id with a key the attacker made up. */
  let forged: AppCredential;
  let attackerSigner: CallSigner;
  const worker = (i: number) => cluster.worker(`worker-${i}`);
  const workerHttp = (i: number) => `http://127.0.0.1:${worker(i).httpPort}`;
  const managerHttp = () => `http://127.0.0.1:${cluster.manager.httpPort}`;

  beforeAll(async () => {
    cluster = await ProcessCluster.start({ workers: 2, secure: true });
    victim = await ShuffleDriver.start({ manager: cluster.managerAddress, appId: VICTIM });
    attacker = await ShuffleDriver.start({ manager: cluster.managerAddress, appId: 'attacker' });
    handle = await victim.registerShuffle({
      shuffleId: 0,
      numMappers: MAPS,
      numPartitions: PARTITIONS,
      replication: true,
    });
    expect(handle.credential).toMatch(/^sluice-app1\.victim-app\./);
    victimClient = new ShuffleClient({
      driver: handle.driverAddress,
      credential: handle.credential,
    });
    const real = AppCredential.parse(handle.credential);
    forged = new AppCredential(real.appId, real.keyId, randomBytes(32));
    attackerSigner = appSigner(attacker.credential!);
  }, 60_000);

  afterAll(async () => {
    await victimClient?.close();
    await victim?.close();
    await attacker?.close();
    await cluster?.close();
  });

  it('MapperEnd: refused without the app credential, so no one can end map tasks with empty output', async () => {
    const mapperEnd = (signer?: CallSigner) => {
      const c = new DriverClient(handle.driverAddress, 2_000, undefined, signer);
      const end = c.mapperEnd({
        appId: VICTIM,
        shuffleId: 0,
        mapId: 0,
        attemptId: 9,
        executorId: 'evil',
        essAddress: '',
        partitions: [],
      });
      return end.finally(() => c.close());
    };
    expect(await codeOf(mapperEnd())).toBe('SLUICE_ERR_UNAUTHENTICATED');
    expect(await codeOf(mapperEnd(appSigner(forged)))).toBe('SLUICE_ERR_UNAUTHENTICATED');
    expect(await codeOf(mapperEnd(attackerSigner))).toBe('SLUICE_ERR_UNAUTHENTICATED');
    // A client holding the attacker's credential cannot even name the victim's app.
    const c = new ShuffleClient({
      driver: handle.driverAddress,
      credential: attacker.credential!.toString(),
    });
    expect(() =>
      c.writer({ appId: VICTIM, shuffleId: 0, mapId: 0, attemptId: 1, numPartitions: 4 }),
    ).toThrow(/credential is app attacker's/);
    await c.close();
  });

  it('the victim writes and commits its shuffle', async () => {
    for (let mapId = 0; mapId < MAPS; mapId++) {
      const w = victimClient.writer({
        appId: VICTIM,
        shuffleId: 0,
        mapId,
        attemptId: 0,
        numPartitions: PARTITIONS,
      });
      for (let p = 0; p < PARTITIONS; p++)
        for (let i = 0; i < RECORDS_PER_PARTITION; i++) w.write(p, record(mapId, p, i));
      await w.close();
    }
    const outcome = await victim.commitShuffle(0, 30_000);
    expect(outcome.lost).toEqual([]);
  }, 60_000);

  it('push: refused to a connection with no, a forged, or another app’s credential', async () => {
    const raw = await RawDataClient.connect('127.0.0.1', worker(1).dataPort);
    const push = {
      appId: VICTIM as AppId,
      shuffleId: 0 as ShuffleId,
      mapId: 0,
      attemptId: 7,
      epoch: 0,
      groupId: 0,
      slices: [{ partitionId: 0, bodyOffset: 0, length: 4 }],
    };
    expect(await codeOf(raw.push(push, Buffer.from('evil')).catch(statusName))).toBe(
      'UNAUTHORIZED',
    );
    await raw.close();
    const connect = (credential: AppCredential) =>
      DataConnection.connect({
        host: '127.0.0.1',
        port: worker(1).dataPort,
        peer: 'worker-1',
        connectTimeoutMs: 5_000,
        maxFrameBytes: 1024 ** 2,
        credential,
      });
    expect(await codeOf(connect(forged))).toBe('SLUICE_ERR_UNAUTHORIZED');
    // The attacker's own credential authenticates, as the attacker's app only.
    const own = await connect(attacker.credential!);
    const ack = own.request((id) => encodePushFrame(id, push, Buffer.from('evil')), 5_000);
    expect(await codeOf(ack)).toBe('SLUICE_ERR_UNAUTHORIZED');
    own.close();
  });

  it('fetch: refused to an unauthenticated connection and to another app', async () => {
    const open = {
      appId: VICTIM as AppId,
      shuffleId: 0 as ShuffleId,
      partition: 0,
      epoch: 0,
      startChunk: 0,
    };
    const raw = await RawDataClient.connect('127.0.0.1', worker(1).dataPort);
    expect(await codeOf(raw.openStream(open).catch(statusName))).toBe('UNAUTHORIZED');
    await raw.close();
    const own = await DataConnection.connect({
      host: '127.0.0.1',
      port: worker(2).dataPort,
      peer: 'worker-2',
      connectTimeoutMs: 5_000,
      maxFrameBytes: 1024 ** 2,
      credential: attacker.credential!,
    });
    expect(await codeOf(own.request((id) => encodeOpenStreamFrame(id, open), 5_000))).toBe(
      'SLUICE_ERR_UNAUTHORIZED',
    );
    own.close();
  });

  it('commit and destroy: refused without a credential and for another app', async () => {
    for (const i of [1, 2]) {
      const address = `127.0.0.1:${worker(i).controlPort}`;
      const anonymous = new WorkerControlClient(address);
      const asAttacker = new WorkerControlClient(address, { signer: attackerSigner });
      const r = { appId: VICTIM, shuffleId: 0 };
      expect(await codeOf(anonymous.commitFiles(r))).toBe('SLUICE_ERR_UNAUTHENTICATED');
      expect(await codeOf(asAttacker.commitFiles(r))).toBe('SLUICE_ERR_UNAUTHORIZED');
      expect(await codeOf(anonymous.destroyShuffle(r))).toBe('SLUICE_ERR_UNAUTHENTICATED');
      expect(await codeOf(asAttacker.destroyShuffle(r))).toBe('SLUICE_ERR_UNAUTHORIZED');
      expect(
        await codeOf(
          new WorkerControlClient(address, { signer: appSigner(forged) }).destroyShuffle(r),
        ),
      ).toBe('SLUICE_ERR_UNAUTHENTICATED');
      anonymous.close();
      asAttacker.close();
    }
  });

  it('decommission: refused over gRPC without the cluster secret, over HTTP without the admin token', async () => {
    const address = `127.0.0.1:${worker(2).controlPort}`;
    const anonymous = new WorkerControlClient(address);
    const asApp = new WorkerControlClient(address, { signer: attackerSigner });
    expect(await codeOf(anonymous.decommission({ timeoutMs: 0 }))).toBe(
      'SLUICE_ERR_UNAUTHENTICATED',
    );
    expect(await codeOf(asApp.decommission({ timeoutMs: 0 }))).toBe('SLUICE_ERR_UNAUTHORIZED');
    anonymous.close();
    asApp.close();
    const url = `${managerHttp()}/api/v1/workers/worker-2/decommission`;
    const token = readFileSync(cluster.adminTokenFile, 'utf8').trim();
    const post = (headers: Record<string, string>) => fetch(url, { method: 'POST', headers });
    const none = await post({});
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe(
      'SLUICE_ERR_UNAUTHENTICATED',
    );
    expect((await post({ authorization: `Bearer ${'0'.repeat(64)}` })).status).toBe(401);
    // The right token from a page of another site (a forged form post) is refused too.
    expect(
      (await post({ authorization: `Bearer ${token}`, origin: 'http://evil.example' })).status,
    ).toBe(403);
    // Every worker still serves.
    expect(await cluster.healthyWorkers()).toEqual(['worker-1', 'worker-2']);
  });

  it('register a worker: refused without the cluster secret, even under a new id', async () => {
    const register = (signer?: CallSigner) => {
      const m = new ManagerClient(cluster.managerAddress, { failoverTimeoutMs: 0, signer });
      return m
        .registerWorker({
          address: {
            workerId: 'worker-1',
            host: '127.0.0.1',
            rack: '',
            controlPort: 1,
            dataPort: 2,
            httpPort: 3,
          },
          memoryBudgetBytes: 1024 ** 3,
          disks: [],
        })
        .finally(() => m.close());
    };
    expect(await codeOf(register())).toBe('SLUICE_ERR_UNAUTHENTICATED');
    expect(await codeOf(register(attackerSigner))).toBe('SLUICE_ERR_UNAUTHORIZED');
    const state = await cluster.client.getClusterState({});
    const w1 = state.workers.find((w) => w.address?.workerId === 'worker-1');
    expect(w1?.address?.dataPort).toBe(worker(1).dataPort);
  });

  it('register the victim’s app id again, or read the cluster state: refused', async () => {
    const m = new ManagerClient(cluster.managerAddress, { failoverTimeoutMs: 0 });
    expect(await codeOf(m.registerApp({ appId: VICTIM, priority: 3, name: 'x' }))).toBe(
      'SLUICE_ERR_UNAUTHORIZED',
    );
    expect(
      await codeOf(m.registerApp({ appId: VICTIM, priority: 3, registration: 'a-guess' })),
    ).toBe('SLUICE_ERR_UNAUTHORIZED');
    // A driver's retry (its first answer lost) carries its token and gets in again; nobody
    // else does.
    const first = await m.registerApp({ appId: 'retrying', priority: 3, registration: 'tok-1' });
    const again = await m.registerApp({ appId: 'retrying', priority: 3, registration: 'tok-1' });
    expect(again.credential).toMatch(/^sluice-app1\.retrying\./);
    expect(again.credential).not.toBe(first.credential);
    expect(
      await codeOf(m.registerApp({ appId: 'retrying', priority: 3, registration: 'tok-2' })),
    ).toBe('SLUICE_ERR_UNAUTHORIZED');
    expect(await codeOf(m.getClusterState({}))).toBe('SLUICE_ERR_UNAUTHENTICATED');
    m.signer = attackerSigner;
    expect(await codeOf(m.getClusterState({}))).toBe('SLUICE_ERR_UNAUTHORIZED');
    expect(await codeOf(m.getShuffle({ appId: VICTIM, shuffleId: 0 }))).toBe(
      'SLUICE_ERR_UNAUTHORIZED',
    );
    expect(await codeOf(m.unregisterApp({ appId: VICTIM }))).toBe('SLUICE_ERR_UNAUTHORIZED');
    m.close();
  });

  it('the victim reads back exactly what it wrote, and every refusal was counted', async () => {
    for (let p = 0; p < PARTITIONS; p++) {
      const got: string[] = [];
      for await (const r of victimClient.reader({ appId: VICTIM, shuffleId: 0, partitionId: p }))
        got.push(r.toString());
      const want: string[] = [];
      for (let mapId = 0; mapId < MAPS; mapId++)
        for (let i = 0; i < RECORDS_PER_PARTITION; i++) want.push(record(mapId, p, i).toString());
      expect(got.sort()).toEqual(want.sort());
    }
    const refusals = 'sluice_worker_auth_refusals_total';
    expect(await metric(workerHttp(1), refusals, 'interface="data"')).toBeGreaterThanOrEqual(4);
    expect(await metric(workerHttp(1), refusals, 'interface="grpc"')).toBeGreaterThanOrEqual(5);
    expect(await metric(workerHttp(2), refusals, 'interface="grpc"')).toBeGreaterThanOrEqual(7);
    const manager = 'sluice_manager_auth_refusals_total';
    expect(await metric(managerHttp(), manager, 'interface="http"')).toBe(3);
    expect(
      await metric(managerHttp(), manager, 'code="SLUICE_ERR_UNAUTHENTICATED"'),
    ).toBeGreaterThanOrEqual(3);
  });
});

/** A raw client's DataPlaneError as its status name, for codeOf. */
function statusName(err: { status: number }): never {
  const name = Object.entries(WireStatusCode).find(([, v]) => v === err.status)?.[0];
  throw Object.assign(new Error(name), { code: name });
}
