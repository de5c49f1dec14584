// Limits against hostile or buggy clients, through the real ManagerService over gRPC
// (docs/operations.md#limits-against-hostile-or-buggy-clients): per-app quotas and the
// group-count rule at AllocateShuffle, a live worker id claimed from another address, and
// GetClusterState in pages. Each refusal is asserted by its code and by its metric on /metrics.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SluiceError } from '../src/common/errors.js';
import { readClusterState } from '../src/common/proto/cluster-state.js';
import { ManagerClient } from '../src/common/proto/manager-client.js';
import type { ManagerServer } from '../src/manager/server.js';
import { FakeWorker } from '../src/testing/fake-worker.js';
import { startManager } from '../src/testing/manager.js';

async function failure(p: Promise<unknown>): Promise<SluiceError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SluiceError);
  return err as SluiceError;
}

describe('manager limits over gRPC', () => {
  let server: ManagerServer;
  let client: ManagerClient;
  let workers: FakeWorker[];

  /** A sample of /metrics (0 when the series does not exist yet). */
  const metric = async (name: string, labels = '') => {
    const text = await (await fetch(`http://127.0.0.1:${server.httpPort}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}`));
    return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
  };
  const refusals = (limit: string) =>
    metric('sluice_manager_limit_refusals_total', `limit="${limit}"`);

  beforeAll(async () => {
    server = await startManager({
      config: {
        'manager.maxShufflesPerApp': 4,
        'manager.maxPartitionsPerApp': 1_600_000,
        'manager.maxGroupsPerApp': 20_050,
        'manager.maxClusterStatePageSize': 5,
      },
    });
    client = new ManagerClient(server.address);
    workers = [0, 1, 2].map(
      (i) => new FakeWorker(server.address, { id: `worker-${i}`, host: `host-${i}` }),
    );
    for (const w of workers) await w.register();
    for (const appId of ['app-hostile', 'app-other'])
      await client.registerApp({ appId, priority: 3 });
  });

  afterAll(async () => {
    for (const w of workers) w.close();
    client.close();
    await server.close();
  });

  it('refuses 10^6 partitions in groups of 1 (INVALID_ARGUMENT), serves them in 10^4 groups', async () => {
    const err = await failure(
      client.allocateShuffle({
        appId: 'app-hostile',
        shuffleId: 0,
        numMappers: 1,
        numPartitions: 1_000_000,
        maxPartitionsPerGroup: 1,
      }),
    );
    expect(err).toMatchObject({ code: 'SLUICE_ERR_INVALID_ARGUMENT', retriable: false });
    expect(err.message).toContain('max_partitions_per_group');
    expect(err.message).toContain('ask for 100 or more');
    expect(await refusals('manager.maxGroupsPerShuffle')).toBe(1);
    expect(
      await metric(
        'sluice_manager_invalid_requests_total',
        'method="AllocateShuffle",field="max_partitions_per_group"',
      ),
    ).toBe(1);
    const ok = await client.allocateShuffle({
      appId: 'app-hostile',
      shuffleId: 1,
      numMappers: 1,
      numPartitions: 1_000_000,
    });
    expect(ok.groups).toHaveLength(10_000);
    expect(ok.groups.at(-1)!.endPartition).toBe(1_000_000);
  });

  it('refuses an app past its partition, group and shuffle quotas with QUOTA_EXCEEDED, counted', async () => {
    const allocate = (shuffleId: number, numPartitions: number, maxPartitionsPerGroup = 0) =>
      client.allocateShuffle({
        appId: 'app-hostile',
        shuffleId,
        numMappers: 1,
        numPartitions,
        maxPartitionsPerGroup,
      });
    // Holds 10^6 partitions in 10^4 groups (previous test).
    const partitions = await failure(allocate(2, 600_001));
    expect(partitions).toMatchObject({ code: 'SLUICE_ERR_QUOTA_EXCEEDED', retriable: false });
    expect(partitions.context['grpcCode']).toBe(8); // RESOURCE_EXHAUSTED
    expect(partitions.message).toContain('manager.maxPartitionsPerApp');
    // 10^4 + 10^4 groups of 50 + 51 groups of 1 = 20 051 > 20 050.
    await allocate(2, 500_000, 50);
    const groups = await failure(allocate(3, 51, 1));
    expect(groups.message).toContain('manager.maxGroupsPerApp');
    await allocate(3, 10);
    await allocate(4, 10);
    const shuffles = await failure(allocate(5, 10));
    expect(shuffles.message).toContain('manager.maxShufflesPerApp');
    expect(await refusals('manager.maxPartitionsPerApp')).toBe(1);
    expect(await refusals('manager.maxGroupsPerApp')).toBe(1);
    expect(await refusals('manager.maxShufflesPerApp')).toBe(1);
    expect(
      await metric(
        'sluice_manager_rpc_requests_total',
        'method="AllocateShuffle",code="SLUICE_ERR_QUOTA_EXCEEDED"',
      ),
    ).toBe(3);
    // Another app is not held to the hostile app's usage.
    const other = await client.allocateShuffle({
      appId: 'app-other',
      shuffleId: 0,
      numMappers: 1,
      numPartitions: 1_000,
    });
    expect(other.groups).toHaveLength(10);
    // Releasing makes room again.
    await client.releaseShuffle({ appId: 'app-hostile', shuffleId: 4 });
    await allocate(5, 10);
  });

  it('refuses a live worker id from another address (ALREADY_EXISTS), counted; a restart on its address registers', async () => {
    const refused = () => metric('sluice_manager_worker_registrations_refused_total');
    const before = await refused();
    const impostor = new FakeWorker(server.address, { id: 'worker-0', host: 'elsewhere' });
    const otherPort = new FakeWorker(server.address, {
      id: 'worker-0',
      host: 'host-0',
      dataPort: 3,
    });
    try {
      for (const w of [impostor, otherPort]) {
        const err = await failure(w.register());
        expect(err).toMatchObject({ code: 'SLUICE_ERR_ALREADY_EXISTS', retriable: false });
        expect(err.message).toContain('worker id worker-0 is live at host-0');
      }
      expect(await refused()).toBe(before + 2);
      await workers[0]!.register();
      const state = await readClusterState(client);
      const w0 = state.workers.find((w) => w.address!.workerId === 'worker-0')!;
      expect(w0.address).toMatchObject({ host: 'host-0', dataPort: 2 });
      expect(await refused()).toBe(before + 2);
      // Announced SHUTTING_DOWN: the id may come back from another address.
      workers[2]!.load = { servingState: 'SHUTTING_DOWN' };
      await workers[2]!.heartbeat();
      const moved = new FakeWorker(server.address, { id: 'worker-2', host: 'host-9' });
      await moved.register();
      moved.close();
      workers[2]!.load = {};
    } finally {
      impostor.close();
      otherPort.close();
    }
  });

  it('answers GetClusterState in pages of at most manager.maxClusterStatePageSize; the helper reads them all', async () => {
    for (let i = 0; i < 7; i++) await client.registerApp({ appId: `app-page-${i}`, priority: 3 });
    const first = await client.getClusterState({ pageSize: 1_000 });
    const count = (p: typeof first) => p.workers.length + p.apps.length + p.shuffles.length;
    expect(count(first)).toBe(5);
    expect(first.workers).toHaveLength(3);
    expect(first.nextPageToken).not.toBe('');
    const all = await readClusterState(client, { pageSize: 2 });
    expect(all.workers.map((w) => w.address!.workerId)).toEqual([
      'worker-0',
      'worker-1',
      'worker-2',
    ]);
    expect(all.apps).toHaveLength(9);
    expect(all.shuffles.map((s) => `${s.appId}/${s.shuffleId}`)).toEqual([
      'app-hostile/1',
      'app-hostile/2',
      'app-hostile/3',
      'app-hostile/5',
      'app-other/0',
    ]);
    expect(all.nextPageToken).toBe('');
    // With groups, the 10^4-group shuffle has a page of its own.
    const grouped = await readClusterState(client, { includeGroups: true });
    expect(grouped.shuffles.find((s) => s.shuffleId === 1)!.groups).toHaveLength(10_000);
    const bad = await failure(client.getClusterState({ pageToken: 'not-a-token' }));
    expect(bad).toMatchObject({ code: 'SLUICE_ERR_INVALID_ARGUMENT' });
    expect(bad.message).toContain('page_token');
  });
});
