// ESS mode in an authenticated cluster (docs/operations.md#security): the node-local ESS
// holds the cluster secret like the workers; executors register and fetch map output over
// connections authenticated as their app. Another app's executor, with its own valid
// credential, can neither fetch nor register the victim's output; the victim reads back
// exactly.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShuffleClient, ShuffleDriver } from '../../src/client/index.js';
import { DataConnection } from '../../src/client/net/data-connection.js';
import type { AppId, ShuffleId } from '../../src/common/ids.js';
import { createSecretFile } from '../../src/common/security/keys.js';
import {
  ALL_SHUFFLES,
  encodeFetchBlocksFrame,
  encodeRegisterOutputFrame,
  encodeRemoveOutputsFrame,
} from '../../src/common/wire/index.js';
import type { EssServer } from '../../src/ess/server.js';
import { startEss } from '../../src/testing/ess.js';
import { RawDataClient } from '../../src/testing/raw-data-client.js';
import { waitFor } from '../../src/testing/wait-for.js';
import { WireStatusCode } from '../../src/common/status-codes.js';
import { startManager } from '../../src/testing/manager.js';
import type { ManagerServer } from '../../src/manager/server.js';

describe('ESS mode with a cluster secret', () => {
  let root: string;
  let manager: ManagerServer;
  let ess: EssServer;
  let dir: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'sluice-ess-auth-'));
    const secret = join(root, 'cluster.secret');
    createSecretFile(secret);
    dir = join(root, 'node-a');
    mkdirSync(dir);
    manager = await startManager({ config: { 'security.clusterSecretFile': secret } });
    ess = await startEss({ dir, config: { 'security.clusterSecretFile': secret } });
  });
  afterAll(async () => {
    await ess?.close();
    await manager?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('serves an app its own output only', async () => {
    const victim = await ShuffleDriver.start({
      manager: manager.address,
      appId: 'ess-victim',
      mode: 'ess',
    });
    const attacker = await ShuffleDriver.start({
      manager: manager.address,
      appId: 'ess-attacker',
      mode: 'ess',
    });
    const handle = await victim.registerShuffle({ shuffleId: 0, numMappers: 1, numPartitions: 3 });
    const client = new ShuffleClient({
      driver: handle.driverAddress,
      credential: handle.credential,
      mode: 'ess',
      ess: { address: ess.address, dir },
    });
    try {
      const w = client.writer({
        appId: 'ess-victim',
        shuffleId: 0,
        mapId: 0,
        attemptId: 0,
        numPartitions: 3,
      });
      for (let i = 0; i < 300; i++) w.write(i % 3, Buffer.from(`record-${i}`));
      await w.close();

      const ref = {
        appId: 'ess-victim' as AppId,
        shuffleId: 0 as ShuffleId,
        mapId: 0,
        attemptId: 0,
      };
      const conn = await DataConnection.connect({
        host: '127.0.0.1',
        port: ess.dataPort,
        peer: 'ess',
        connectTimeoutMs: 2_000,
        maxFrameBytes: 1024 ** 2,
        credential: attacker.credential!,
      });
      const fetchBlocks = conn.request(
        (id) =>
          encodeFetchBlocksFrame(id, {
            ...ref,
            partition: 0,
            offset: 0,
            maxLength: 4096,
            priority: 3,
          }),
        2_000,
      );
      await expect(fetchBlocks).rejects.toMatchObject({ code: 'SLUICE_ERR_UNAUTHORIZED' });
      const register = conn.request((id) => encodeRegisterOutputFrame(id, ref), 2_000);
      await expect(register).rejects.toMatchObject({ code: 'SLUICE_ERR_UNAUTHORIZED' });
      // Nor may another app delete it.
      const remove = conn.request(
        (id) => encodeRemoveOutputsFrame(id, { appId: ref.appId, shuffleId: ALL_SHUFFLES }),
        2_000,
      );
      await expect(remove).rejects.toMatchObject({ code: 'SLUICE_ERR_UNAUTHORIZED' });
      conn.close();

      const got: string[] = [];
      for (let p = 0; p < 3; p++)
        for await (const r of client.reader({ appId: 'ess-victim', shuffleId: 0, partitionId: p }))
          got.push(r.toString());
      expect(got.sort()).toEqual(Array.from({ length: 300 }, (_, i) => `record-${i}`).sort());
      const metrics = await (await fetch(`http://127.0.0.1:${ess.httpPort}/metrics`)).text();
      expect(metrics).toMatch(
        /sluice_ess_auth_refusals_total\{interface="data",code="SLUICE_ERR_UNAUTHORIZED"[^}]*\} 3\n/,
      );
      // The victim's own driver, authenticated as the victim, does delete it when it ends.
      await victim.close();
      expect(existsSync(join(dir, 'ess-victim'))).toBe(false);
    } finally {
      await client.close();
      await victim.close();
      await attacker.close();
    }
  });
});

describe('ESS connection limits', () => {
  it('refuses connections past ess.maxConnections THROTTLED and counts them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-ess-limits-'));
    const ess = await startEss({ dir, config: { 'ess.maxConnections': 2 } });
    const clients: RawDataClient[] = [];
    try {
      for (let i = 0; i < 2; i++)
        clients.push(await RawDataClient.connect('127.0.0.1', ess.dataPort));
      await Promise.all(clients.map((c) => c.ping(Buffer.from('up'))));
      const extra = await RawDataClient.connect('127.0.0.1', ess.dataPort);
      clients.push(extra);
      await waitFor(() => extra.connectionErrors.length > 0, { what: 'the refusal' });
      expect(extra.connectionErrors[0]!.status).toBe(WireStatusCode.THROTTLED);
      const text = await (await fetch(`http://127.0.0.1:${ess.httpPort}/metrics`)).text();
      expect(text).toMatch(/sluice_ess_refused_connections_total(\{[^}]*\})? 1\n/);
    } finally {
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      await ess.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
