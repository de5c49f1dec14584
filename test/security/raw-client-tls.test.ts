// The harness bench scenario 10 runs on (bench/README.md, "Security — scenario 10"): a
// ProcessCluster with a cluster secret and mutual TLS, its own client speaking TLS with the
// daemons' certificate and signing as a daemon, and RawDataClient opening its connections with
// TLS and the AUTH exchange (docs/protocol.md#authentication). An authenticated TLS push lands
// and commits byte for byte; the same push without the AUTH exchange is refused UNAUTHORIZED,
// a wrong key fails the exchange, and a plain TCP connection never gets a frame answered.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppId, ShuffleId } from '../../src/common/ids.js';
import type { PartitionGroup__Output } from '../../src/common/proto/gen/sluice/v1/PartitionGroup.js';
import { WorkerControlClient } from '../../src/common/proto/worker-client.js';
import { AppCredential } from '../../src/common/security/keys.js';
import type { ClientTls } from '../../src/common/security/tls.js';
import { WireStatusCode } from '../../src/common/status-codes.js';
import { BlockCodec, writeBlock, type PushHeader } from '../../src/common/wire/index.js';
import { makeTestPki, type TestPki } from '../../src/testing/certs.js';
import { ProcessCluster } from '../../src/testing/process-cluster.js';
import { DataPlaneError, RawDataClient } from '../../src/testing/raw-data-client.js';

const APP = 'raw-tls-app' as AppId;

describe('a secure ProcessCluster with mutual TLS and RawDataClient', () => {
  let dir: string;
  let pki: TestPki;
  let cluster: ProcessCluster;
  let credential: AppCredential;
  let group: PartitionGroup__Output;
  let clientTls: ClientTls;
  const port = () => cluster.worker('worker-1').dataPort;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-raw-tls-'));
    pki = makeTestPki(dir);
    clientTls = { ca: pki.ca, cert: pki.client.cert, key: pki.client.key };
    cluster = await ProcessCluster.start({
      workers: 1,
      secure: true,
      tls: {
        certFile: pki.daemon.certFile,
        keyFile: pki.daemon.keyFile,
        caFile: pki.caFile,
        requireClientCert: true,
      },
    });
    // The cluster's own client reached the manager over TLS (start() waited for the worker
    // through it); it registers the app as a daemon may.
    const app = await cluster.client.registerApp({ appId: APP, name: 'raw tls' });
    credential = AppCredential.parse(app.credential);
    const { groups } = await cluster.client.allocateShuffle({
      appId: APP,
      shuffleId: 0,
      numMappers: 1,
      numPartitions: 2,
      replicate: false,
      maxPartitionsPerGroup: 2,
    });
    group = groups[0]!;
  }, 60_000);

  afterAll(async () => {
    await cluster?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const block = writeBlock(
    { mapId: 0, attemptId: 0, batchId: 0, rawLength: 4000, codec: BlockCodec.NONE },
    randomBytes(4000),
  );
  const blockBytes = block[0]!.length + block[1]!.length;
  const header = (): PushHeader => ({
    appId: APP,
    shuffleId: 0 as ShuffleId,
    mapId: 0,
    attemptId: 0,
    epoch: group.epoch,
    groupId: group.groupId,
    slices: [{ partitionId: group.startPartition, bodyOffset: 0, length: blockBytes }],
  });

  it('an authenticated TLS push is accepted and commits byte for byte', async () => {
    const c = await RawDataClient.connect('127.0.0.1', port(), { credential, tls: clientTls });
    try {
      const ack = await c.push(header(), block);
      expect(ack.statuses).toEqual([
        { partitionId: group.startPartition, status: WireStatusCode.OK },
      ]);
    } finally {
      await c.close();
    }
    const control = new WorkerControlClient(`127.0.0.1:${cluster.worker('worker-1').controlPort}`, {
      signer: cluster.signer,
      credentials: cluster.channelCredentials,
    });
    try {
      const commit = await control.commitFiles({ appId: APP, shuffleId: 0 });
      expect(commit.failed).toEqual([]);
      expect(commit.files.reduce((n, f) => n + Number(f.length), 0)).toBe(blockBytes);
    } finally {
      control.close();
    }
  });

  it('refuses the push without the AUTH exchange, a wrong key, and plain TCP', async () => {
    const anonymous = await RawDataClient.connect('127.0.0.1', port(), { tls: clientTls });
    try {
      await expect(anonymous.push(header(), block)).rejects.toSatisfy(
        (e) => e instanceof DataPlaneError && e.status === WireStatusCode.UNAUTHORIZED,
      );
    } finally {
      await anonymous.close();
    }
    const forged = new AppCredential(credential.appId, credential.keyId, randomBytes(32));
    await expect(
      RawDataClient.connect('127.0.0.1', port(), { credential: forged, tls: clientTls }),
    ).rejects.toSatisfy(
      (e) => e instanceof DataPlaneError && e.status === WireStatusCode.UNAUTHORIZED,
    );
    // Plain TCP to a TLS port: the worker reads no frame from it and hangs up.
    const plain = await RawDataClient.connect('127.0.0.1', port());
    await expect(plain.ping(Buffer.from('hello'))).rejects.toThrow();
    await plain.close();
  });
});
