// TLS with mutual authentication (docs/operations.md#tls), on a manager and two workers that
// also run with a cluster secret: a shuffle runs end to end over TLS, with the driver and the
// executor presenting client certificates; a client without a certificate, with one from
// another CA, or speaking plain TCP is refused by the manager and by the workers, and the
// workers count the failed handshakes. Certificates are made with openssl in the test.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShuffleClient, ShuffleDriver } from '../../src/client/index.js';
import { DataConnection } from '../../src/client/net/data-connection.js';
import { ManagerClient } from '../../src/common/proto/manager-client.js';
import { createSecretFile } from '../../src/common/security/keys.js';
import { grpcChannelCredentials, type ClientTls } from '../../src/common/security/tls.js';
import { encodePingFrame } from '../../src/common/wire/index.js';
import { makeTestPki, type TestPki } from '../../src/testing/certs.js';
import { startCluster, type Cluster } from '../../src/testing/cluster.js';

describe('TLS with client certificates', () => {
  let dir: string;
  let pki: TestPki;
  let cluster: Cluster;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-tls-'));
    pki = makeTestPki(dir);
    const secret = join(dir, 'cluster.secret');
    createSecretFile(secret);
    const security = {
      'security.clusterSecretFile': secret,
      'tls.certFile': pki.daemon.certFile,
      'tls.keyFile': pki.daemon.keyFile,
      'tls.caFile': pki.caFile,
      'tls.requireClientCert': true,
    };
    cluster = await startCluster({ workers: 2, managerConfig: security, workerConfig: security });
  }, 60_000);

  afterAll(async () => {
    await cluster?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs a shuffle end to end over TLS, every connection with a client certificate', async () => {
    const tls: ClientTls = { ca: pki.ca, cert: pki.client.cert, key: pki.client.key };
    const driver = await ShuffleDriver.start({
      manager: cluster.managerAddress,
      appId: 'tls-app',
      tls,
    });
    const handle = await driver.registerShuffle({ shuffleId: 0, numMappers: 2, numPartitions: 5 });
    // Executors verify the driver too (it serves DriverService with the client certificate).
    const client = new ShuffleClient({
      driver: handle.driverAddress,
      credential: handle.credential,
      tls,
    });
    try {
      const want: string[][] = [[], [], [], [], []];
      for (let mapId = 0; mapId < 2; mapId++) {
        const w = client.writer({
          appId: 'tls-app',
          shuffleId: 0,
          mapId,
          attemptId: 0,
          numPartitions: 5,
        });
        for (let i = 0; i < 2_000; i++) {
          const r = `m${mapId}-${i}-${'y'.repeat(i % 50)}`;
          w.write(i % 5, Buffer.from(r));
          want[i % 5]!.push(r);
        }
        await w.close();
      }
      for (let p = 0; p < 5; p++) {
        const got: string[] = [];
        for await (const r of client.reader({ appId: 'tls-app', shuffleId: 0, partitionId: p }))
          got.push(r.toString());
        expect(got.sort()).toEqual(want[p]!.sort());
      }
    } finally {
      await client.close();
      await driver.close();
    }
  }, 60_000);

  it('refuses clients without a certificate, with a rogue one, or in plain TCP', async () => {
    const cases: [string, ClientTls | undefined][] = [
      ['no certificate', { ca: pki.ca }],
      ['another CA', { ca: pki.ca, cert: pki.rogue.cert, key: pki.rogue.key }],
      ['plain TCP', undefined],
    ];
    const worker = cluster.workers[0]!;
    const refusedBefore = await handshakeRefusals(worker.httpPort);
    for (const [what, tls] of cases) {
      const m = new ManagerClient(cluster.managerAddress, {
        failoverTimeoutMs: 0,
        deadlineMs: 3_000,
        credentials: grpcChannelCredentials(tls),
      });
      const register = m.registerApp({ appId: `intruder-${what.replace(/ /g, '-')}`, priority: 3 });
      await expect(register, what).rejects.toMatchObject({
        code: expect.stringMatching(/SLUICE_ERR_(UNAVAILABLE|RETRIES_EXCEEDED)/),
      });
      m.close();
      const attempt = (async () => {
        const c = await DataConnection.connect({
          host: '127.0.0.1',
          port: worker.dataPort,
          peer: worker.workerId,
          connectTimeoutMs: 3_000,
          maxFrameBytes: 1024 ** 2,
          tls,
        });
        try {
          await c.request((id) => encodePingFrame(id, Buffer.from('hello')), 3_000);
        } finally {
          c.close();
        }
      })();
      await expect(attempt, what).rejects.toMatchObject({
        code: expect.stringMatching(/SLUICE_ERR_(UNAVAILABLE|TIMEOUT)/),
      });
    }
    // The two TLS clients failed the handshake (plain TCP is not TLS at all: counted too).
    expect(await handshakeRefusals(worker.httpPort)).toBeGreaterThanOrEqual(refusedBefore + 2);
  }, 60_000);
});

async function handshakeRefusals(httpPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const line = text
    .split('\n')
    .find(
      (l) =>
        l.startsWith('sluice_worker_auth_refusals_total{') &&
        l.includes('interface="data"') &&
        l.includes('SLUICE_ERR_UNAUTHENTICATED'),
    );
  return line ? Number(line.split(' ').at(-1)) : 0;
}
