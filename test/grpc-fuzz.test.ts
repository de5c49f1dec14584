// Seeded randomized requests (issue 5) against the gRPC services other than the manager's
// (test/manager-invalid.test.ts has that one): WorkerControlService, DriverService (served by
// ShuffleDriver) and AgentService, each on a real server on port 0. Field values are drawn
// from edge cases (negative, huge, fractional, NaN, Infinity, empty, 129-character and ../
// ids, unknown enum strings); then raw bytes that are not protobuf. Every answer must be OK
// or one of the codes the service documents, never INTERNAL (an exception nobody expected),
// and a valid call must still succeed afterwards with a sane answer. Seeds are fixed: a
// failure names the request that caused it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentServer } from '../src/agent/server.js';
import { ShuffleClient, ShuffleDriver } from '../src/client/index.js';
import { loadConfig } from '../src/common/config/index.js';
import { SluiceError } from '../src/common/errors.js';
import { SILENT_LOGGER } from '../src/common/obs/logger.js';
import { sluiceV1 } from '../src/common/proto/load.js';
import { fromGrpcError } from '../src/common/proto/rpc.js';
import { startCluster, type Cluster } from '../src/testing/cluster.js';

const CASES_PER_SERVICE = 2_000;
const BATCH = 50;

/** mulberry32: the same sequence on every run. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  return { next, pick };
}

const LONG = 'a'.repeat(129);
const BAD_IDS = ['', '.', '..', '../../etc', 'a/b', LONG, 'x\u0000y', 'ünï', ' ', '%2e%2e'];
const NUMS = [
  0,
  1,
  2,
  3,
  7,
  -1,
  -(2 ** 31),
  2 ** 31,
  2 ** 32 - 1,
  2 ** 32,
  1e15,
  0.5,
  NaN,
  Infinity,
];
const DOUBLES = [0, 1, 0.5, -1, -1e300, 1e300, NaN, Infinity, -Infinity, 5e-324];

type Outcome = 'OK' | SluiceError | { transport: grpc.status };

function call(client: grpc.Client, method: string, req: unknown): Promise<Outcome> {
  return new Promise((resolve) => {
    const fn = (client as unknown as Record<string, (...a: unknown[]) => void>)[method]!;
    try {
      fn.call(client, req, { deadline: Date.now() + 5_000 }, (err: grpc.ServiceError | null) =>
        resolve(err ? fromGrpcError(err, method) : 'OK'),
      );
    } catch (err) {
      // The client library refused to serialize the request: nothing reached the server.
      resolve({ transport: grpc.status.INVALID_ARGUMENT, ...{ err } });
    }
  });
}

/** Raw bytes to a method, bypassing serialization; resolves with the gRPC status code. */
function rawCall(address: string, path: string, body: Buffer): Promise<grpc.status> {
  const raw = new grpc.Client(address, grpc.credentials.createInsecure());
  return new Promise<grpc.status>((resolve) => {
    raw.makeUnaryRequest(
      path,
      (b: Buffer) => b,
      (b: Buffer) => b,
      body,
      { deadline: Date.now() + 5_000 },
      (err) => resolve(err ? err.code : grpc.status.OK),
    );
  }).finally(() => raw.close());
}

const GARBAGE = [
  Buffer.from([0xff, 0xff, 0xff]),
  Buffer.from([0x0a, 0x7f]), // field 1, length 127, nothing follows
  Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), // 11-byte varint
  Buffer.from('not protobuf at all'),
  Buffer.alloc(0),
];

/**
 * Runs `count` random requests in batches; returns how often each code came back. Fails on a
 * code outside `allowed`, naming the request.
 */
async function fuzz(
  client: grpc.Client,
  seed: number,
  requests: readonly ((r: ReturnType<typeof prng>) => [string, unknown])[],
  allowed: readonly string[],
): Promise<Map<string, number>> {
  const r = prng(seed);
  const seen = new Map<string, number>();
  for (let done = 0; done < CASES_PER_SERVICE; done += BATCH) {
    const batch = Array.from({ length: BATCH }, () => r.pick(requests)(r));
    const results = await Promise.all(batch.map(([m, req]) => call(client, m, req)));
    for (const [i, res] of results.entries()) {
      const code = res === 'OK' ? 'OK' : res instanceof SluiceError ? res.code : 'CLIENT_SERIALIZE';
      seen.set(code, (seen.get(code) ?? 0) + 1);
      const [method, req] = batch[i]!;
      const shown = `${method} ${JSON.stringify(req)} → ${code}: ${res instanceof Error ? res.message : ''}`;
      expect(allowed, shown).toContain(code);
    }
  }
  expect([...seen.values()].reduce((a, b) => a + b, 0)).toBe(CASES_PER_SERVICE);
  return seen;
}

async function garbage(address: string, service: string, methods: readonly string[]) {
  for (const method of methods) {
    for (const body of GARBAGE) {
      const code = await rawCall(address, `/sluice.v1.${service}/${method}`, body);
      // INTERNAL: undecodable (grpc-js); INVALID_ARGUMENT: decoded to nonsense; OK is allowed
      // for bodies that decode to a harmless request (empty = all defaults, e.g. a no-op).
      expect([grpc.status.INTERNAL, grpc.status.INVALID_ARGUMENT, grpc.status.OK]).toContain(code);
    }
  }
  expect(await rawCall(address, `/sluice.v1.${service}/NoSuchMethod`, GARBAGE[0]!)).toBe(
    grpc.status.UNIMPLEMENTED,
  );
}

describe('gRPC handlers under randomized input', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({ workers: 2 });
  }, 30_000);
  afterAll(async () => {
    await cluster?.close();
  });

  it('WorkerControlService: only documented codes, and it keeps committing', async () => {
    const worker = cluster.workers[0]!;
    const address = `127.0.0.1:${worker.controlPort}`;
    const client = new (sluiceV1().WorkerControlService)(
      address,
      grpc.credentials.createInsecure(),
    );
    try {
      const ids = ['app-f', 'other', ...BAD_IDS];
      // Decommission is left out of the fuzz: a valid timeout would stop the worker.
      const seen = await fuzz(
        client,
        101,
        [
          (r) => [
            'CommitFiles',
            {
              appId: r.pick(ids),
              shuffleId: r.pick(NUMS),
              partitions: [r.pick(NUMS), r.pick(NUMS)],
            },
          ],
          (r) => ['DestroyShuffle', { appId: r.pick(ids), shuffleId: r.pick(NUMS) }],
        ],
        ['OK', 'SLUICE_ERR_INVALID_ARGUMENT', 'CLIENT_SERIALIZE'],
      );
      expect(seen.get('SLUICE_ERR_INVALID_ARGUMENT')).toBeGreaterThan(500);
      await garbage(address, 'WorkerControlService', ['CommitFiles', 'DestroyShuffle']);
      // A decommission that would stop the worker at once, or a timeout a Node timer cannot
      // hold (it would fire at once too), is refused; the worker keeps serving.
      for (const timeoutMs of [1, 9_999, 2 ** 31, 2 ** 32 - 1])
        expect(await call(client, 'Decommission', { timeoutMs })).toMatchObject({
          code: 'SLUICE_ERR_INVALID_ARGUMENT',
        });
      // Still serving: a real shuffle pushed through the client library commits and reads.
      expect(await call(client, 'CommitFiles', { appId: 'app-f', shuffleId: 1 })).toBe('OK');
      expect(worker.servingState).toBe('SERVING');
    } finally {
      client.close();
    }
  });

  it('DriverService: only documented codes, and a shuffle still completes through it', async () => {
    const driver = await ShuffleDriver.start({
      manager: cluster.managerAddress,
      appId: 'app-drv-fuzz',
      commitWaitMs: 20,
    });
    const client = new (sluiceV1().DriverService)(
      driver.driverAddress,
      grpc.credentials.createInsecure(),
    );
    try {
      // Shuffle 0 is fuzzed; shuffle 9 is the one that must still work afterwards.
      await driver.registerShuffle({ shuffleId: 0, numMappers: 4, numPartitions: 8 });
      const ids = ['app-drv-fuzz', ...BAD_IDS];
      const shuffles = [0, 0, 5, ...NUMS];
      const partitionsWritten = (r: ReturnType<typeof prng>) =>
        Array.from({ length: Math.floor(r.next() * 3) }, () => ({
          partition: r.pick(NUMS),
          epochs: [r.pick(NUMS)],
          bytes: r.pick([0, 10, 1e12]),
          crc32: r.pick(NUMS),
          blocks: r.pick(NUMS),
        }));
      const seen = await fuzz(
        client,
        202,
        [
          (r) => [
            'MapperEnd',
            {
              appId: r.pick(ids),
              shuffleId: r.pick(shuffles),
              mapId: r.pick(NUMS),
              attemptId: r.pick(NUMS),
              partitions: partitionsWritten(r),
              executorId: r.pick(['e1', ...BAD_IDS]),
            },
          ],
          (r) => [
            'GetFileGroups',
            { appId: r.pick(ids), shuffleId: r.pick(shuffles), partition: r.pick(NUMS) },
          ],
          (r) => [
            'Reallocate',
            {
              appId: r.pick(ids),
              shuffleId: r.pick(shuffles),
              groupId: r.pick(NUMS),
              oldEpoch: r.pick(NUMS),
              failedWorkerIds: [r.pick(['worker-1', ...BAD_IDS])],
            },
          ],
          (r) => ['GetShuffleGroups', { appId: r.pick(ids), shuffleId: r.pick(shuffles) }],
        ],
        [
          'OK',
          'SLUICE_ERR_INVALID_ARGUMENT',
          'SLUICE_ERR_NOT_FOUND',
          'SLUICE_ERR_UNAVAILABLE', // GetFileGroups before the map stage completed
          'SLUICE_ERR_STALE_EPOCH',
          'SLUICE_ERR_STAGE_ENDED',
          'SLUICE_ERR_SHUFFLE_DATA_LOST', // a fuzzed "winner" claimed data no worker holds
          'CLIENT_SERIALIZE',
        ],
      );
      expect(seen.get('SLUICE_ERR_INVALID_ARGUMENT')).toBeGreaterThan(500);
      await garbage(driver.driverAddress, 'DriverService', [
        'MapperEnd',
        'GetFileGroups',
        'Reallocate',
        'GetShuffleGroups',
      ]);
      // Still serving: a real shuffle through the same driver reads back what was written.
      await driver.registerShuffle({ shuffleId: 9, numMappers: 1, numPartitions: 2 });
      const sc = new ShuffleClient({ driver: driver.driverAddress });
      try {
        const w = sc.writer({
          appId: 'app-drv-fuzz',
          shuffleId: 9,
          mapId: 0,
          attemptId: 0,
          numPartitions: 2,
        });
        w.write(1, Buffer.from('after the fuzz'));
        expect((await w.close()).discarded).toBe(false);
        const got: string[] = [];
        for await (const rec of sc.reader({ appId: 'app-drv-fuzz', shuffleId: 9, partitionId: 1 }))
          got.push(rec.toString());
        expect(got).toEqual(['after the fuzz']);
      } finally {
        await sc.close();
      }
    } finally {
      client.close();
      await driver.close();
    }
  }, 60_000);

  it('AgentService: only documented codes, and decisions stay sane afterwards', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-agent-fuzz-'));
    const config = loadConfig({
      flags: {
        'agent.grpcPort': '0',
        'agent.httpPort': '0',
        'agent.sqlitePath': join(dir, 'agent.db'),
        'agent.retrainEvery': '2',
      },
    });
    const server = new AgentServer({ config, logger: SILENT_LOGGER });
    await server.start();
    const client = new (sluiceV1().AgentService)(server.address, grpc.credentials.createInsecure());
    try {
      const ids = ['app-a', 'app-b', ...BAD_IDS];
      const stages = [1, 2, 3, ...NUMS];
      const features = (r: ReturnType<typeof prng>) => ({
        tasks: r.pick(NUMS),
        inputBytes: r.pick([0, 1e9, 1e18]),
        shuffleReadBytes: r.pick([0, 1e9]),
        shuffleWriteBytes: r.pick([0, 1e9]),
        parentShuffles: r.pick(NUMS),
        partitions: r.pick(NUMS),
        skew: r.pick(DOUBLES),
      });
      const seen = await fuzz(
        client,
        303,
        [
          (r) => [
            'StageSubmitted',
            {
              appId: r.pick(ids),
              stageId: r.pick(stages),
              features: r.next() < 0.9 ? features(r) : undefined,
              coresPerExecutor: r.pick(NUMS),
              memoryGbPerExecutor: r.pick(DOUBLES),
              maxExecutors: r.pick(NUMS),
              shuffleIds: [r.pick(NUMS)],
            },
          ],
          (r) => [
            'StageProgress',
            {
              appId: r.pick(ids),
              stageId: r.pick(stages),
              tasksCompleted: r.pick(NUMS),
              tasksRunning: r.pick(NUMS),
              tasksPending: r.pick(NUMS),
              avgTaskSeconds: r.pick(DOUBLES),
              executorsRunning: r.pick(NUMS),
              timestampMs: r.pick([0, 1, 1e12, 2 ** 53]),
            },
          ],
          (r) => [
            'StageCompleted',
            {
              appId: r.pick(ids),
              stageId: r.pick(stages),
              durationSeconds: r.pick(DOUBLES),
              executorsUsed: r.pick(NUMS),
            },
          ],
          (r) => [
            'ExecutorEvent',
            {
              appId: r.pick(ids),
              executorId: r.pick(['e1', 'e2', ...BAD_IDS]),
              kind: r.pick(['added', 'removed', 'idle', 'busy', 'rolled', 'ADDED', '', 'boom']),
              timestampMs: r.pick([0, 1e12]),
            },
          ],
        ],
        ['OK', 'SLUICE_ERR_INVALID_ARGUMENT', 'CLIENT_SERIALIZE'],
      );
      expect(seen.get('SLUICE_ERR_INVALID_ARGUMENT')).toBeGreaterThan(200);
      await garbage(server.address, 'AgentService', [
        'StageSubmitted',
        'StageProgress',
        'StageCompleted',
        'ExecutorEvent',
      ]);
      // Still serving, and the history it trained on did not poison its decisions.
      const decision = await new Promise<{ targetExecutors: number }>((resolve, reject) =>
        (client as unknown as Record<string, (...a: unknown[]) => void>).StageSubmitted!.call(
          client,
          {
            appId: 'app-after',
            stageId: 1,
            features: { tasks: 200, inputBytes: 1e9, partitions: 200, skew: 1.1 },
            coresPerExecutor: 4,
            memoryGbPerExecutor: 8,
            maxExecutors: 100,
          },
          (err: grpc.ServiceError | null, res: { targetExecutors: number }) =>
            err ? reject(err) : resolve(res),
        ),
      );
      expect(decision.targetExecutors).toBeGreaterThanOrEqual(1);
      expect(decision.targetExecutors).toBeLessThanOrEqual(100);
    } finally {
      client.close();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
