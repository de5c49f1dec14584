// AgentService end to end: real gRPC on port 0, real SQLite in a temp dir, and a ManagerService
// on a real socket whose cluster state the test sets (the shuffle-capacity guard's input).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentServer } from '../src/agent/server.js';
import { loadConfig } from '../src/common/config/index.js';
import { SILENT_LOGGER } from '../src/common/obs/logger.js';
import type { AgentServiceClient } from '../src/common/proto/gen/sluice/v1/AgentService.js';
import type { Decision__Output } from '../src/common/proto/gen/sluice/v1/Decision.js';
import { sluiceV1 } from '../src/common/proto/load.js';
import { bindServer } from '../src/common/proto/rpc.js';

const FEATURES = {
  tasks: 200,
  inputBytes: 25e9,
  shuffleReadBytes: 0,
  shuffleWriteBytes: 5e9,
  parentShuffles: 0,
  partitions: 200,
  skew: 1.1,
};

function call<Req, Res>(client: AgentServiceClient, method: string, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => {
    const fn = (client as unknown as Record<string, (...a: unknown[]) => void>)[method]!;
    fn.call(client, req, (err: grpc.ServiceError | null, res: Res) =>
      err ? reject(err) : resolve(res),
    );
  });
}

describe('AgentService', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-agent-it-'));
  let nowMs = 1_000_000;
  let memoryUsed = 10;
  let manager: grpc.Server;
  let managerPort = 0;
  const servers: AgentServer[] = [];
  const clients: AgentServiceClient[] = [];

  async function startAgent(): Promise<{ server: AgentServer; client: AgentServiceClient }> {
    const config = loadConfig({
      flags: {
        'agent.grpcPort': '0',
        'agent.httpPort': '0',
        'agent.sqlitePath': join(dir, 'agent.db'),
        'agent.managerAddress': `127.0.0.1:${managerPort}`,
        'agent.retrainEvery': '2',
      },
    });
    const server = new AgentServer({ config, logger: SILENT_LOGGER, clock: () => nowMs });
    await server.start();
    const client = new (sluiceV1().AgentService)(
      server.address,
      grpc.credentials.createInsecure(),
    ) as AgentServiceClient;
    servers.push(server);
    clients.push(client);
    return { server, client };
  }

  beforeAll(async () => {
    manager = new grpc.Server();
    manager.addService(sluiceV1().ManagerService.service, {
      GetClusterState: (_call: unknown, cb: (e: null, r: unknown) => void) =>
        cb(null, {
          workers: [
            {
              state: 'healthy',
              memoryBudgetBytes: 100,
              load: { memoryUsedBytes: memoryUsed, throttledApps: [] },
            },
          ],
        }),
    });
    managerPort = await bindServer(manager, '127.0.0.1', 0);
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    await Promise.all(servers.map((s) => s.close()));
    manager.forceShutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('decides initial points, search steps, guard holds, drains and rolls; keeps history', async () => {
    const { server, client } = await startAgent();
    const watched: Decision__Output[] = [];
    const stream = client.WatchDecisions({ appId: 'app-1' });
    stream.on('data', (d: Decision__Output) => watched.push(d));
    stream.on('error', () => undefined);
    const submit = (stageId: number) =>
      call<object, Decision__Output>(client, 'StageSubmitted', {
        appId: 'app-1',
        stageId,
        features: FEATURES,
        coresPerExecutor: 4,
        memoryGbPerExecutor: 16,
        maxExecutors: 50,
      });

    // No history yet: the fallback clamp(ceil(200 / (4 × 2)), 1, 50) = 25.
    const first = await submit(1);
    expect(first).toMatchObject({ stageId: 1, targetExecutors: 25, reason: 'initial' });
    expect(first.guarded).toBe(false);

    // 40 of 200 tasks done at 2 s each once the search interval (5.77 × 2 + 1.89 s) passed:
    // 160 missing tasks take 2 waves on 25 executors and still 2 on 23 → step down.
    const progress = (completed: number) =>
      call<object, Decision__Output>(client, 'StageProgress', {
        appId: 'app-1',
        stageId: 1,
        tasksCompleted: completed,
        tasksRunning: 100,
        tasksPending: 200 - completed - 100,
        avgTaskSeconds: 2,
        executorsRunning: 25,
      });
    await progress(20);
    nowMs += 14_000;
    const step = await progress(40);
    expect(step.targetExecutors).toBe(23);
    expect(step.reason).toBe('scale-down');

    // Workers at 90% memory: a new map stage is not scaled up.
    memoryUsed = 90;
    await server.pollClusterState();
    const held = await submit(2);
    expect(held.guarded).toBe(true);
    expect(held.targetExecutors).toBe(1);

    // An idle executor is drained after 60 s; a rolled one at once.
    const ev = (executorId: string, kind: string) =>
      call(client, 'ExecutorEvent', { appId: 'app-1', executorId, kind, timestampMs: nowMs });
    await ev('e1', 'added');
    await ev('e2', 'rolled');
    nowMs += 61_000;
    const drained = await progress(60);
    expect(drained.drainExecutors).toEqual(['e1']);
    expect(watched.some((d) => d.reason === 'rolling' && d.drainExecutors[0] === 'e2')).toBe(true);
    expect(watched.map((d) => d.reason)).toContain('initial');

    // Unknown stage: INVALID_ARGUMENT, the server keeps serving.
    await expect(
      call(client, 'StageProgress', { appId: 'app-1', stageId: 99 }),
    ).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });

    for (const stageId of [1, 2])
      await call(client, 'StageCompleted', {
        appId: 'app-1',
        stageId,
        durationSeconds: 30,
        executorsUsed: 20,
      });
    expect(server.agent.model?.samples).toBe(2);
    stream.cancel();
  });

  it('a restarted agent starts from the model trained on its SQLite history', async () => {
    await servers[0]!.close();
    memoryUsed = 10;
    const { client } = await startAgent();
    const d = await call<object, Decision__Output>(client, 'StageSubmitted', {
      appId: 'app-2',
      stageId: 1,
      features: FEATURES,
      coresPerExecutor: 4,
      memoryGbPerExecutor: 16,
      maxExecutors: 50,
    });
    // Trained on the two completed stages (levels 23 and 1): not the fallback's 25.
    expect(d.targetExecutors).toBeGreaterThanOrEqual(1);
    expect(d.targetExecutors).toBeLessThan(25);
  });
});
