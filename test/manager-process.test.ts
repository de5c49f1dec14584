// The manager as operators run it: the built CLI as a child process. Documented flags, a
// refusal to start on bad configuration, clean SIGTERM, and state that survives kill -9.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManagerClient } from '../src/common/proto/manager-client.js';
import { FakeWorker } from '../src/testing/fake-worker.js';
import {
  CLI_PATH,
  PACKAGE_ROOT,
  spawnManager,
  type ManagerProcess,
} from '../src/testing/manager.js';

const run = promisify(execFile);

async function cli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI_PATH, ...args], {
      env: { ...process.env, ...env },
      timeout: 15_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('sluice manager (process)', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  let dir: string;

  beforeAll(() => {
    if (!existsSync(join(PACKAGE_ROOT, 'dist/cli/main.js')))
      throw new Error('dist/ is missing: run `npm run build` (npm test does)');
  });

  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  const tempDir = () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-mgr-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  };

  it('documents its flags in --help', async () => {
    const { code, stdout } = await cli(['manager', '--help']);
    expect(code).toBe(0);
    for (const flag of [
      '--port',
      '--http-port',
      '--host',
      '--state',
      '--state-path',
      '--policy',
      '--config',
      '--set',
      '--log-level',
    ]) {
      expect(stdout).toContain(flag);
    }
  });

  it.each([
    [['--port', '70000'], 'manager.grpcPort: must be <= 65535'],
    [['--policy', 'random'], 'manager.allocationPolicy: must be one of load-aware | round-robin'],
    [['--prot', '1'], 'did you mean --port?'],
    [['--set', 'manager.appExpiry=5s'], 'did you mean "manager.appExpiryMs"?'],
    [['--set', 'manager.appExpiryMs=soon'], 'manager.appExpiryMs'],
  ])('refuses to start with %j and names the key', async (args, message) => {
    const { code, stderr } = await cli(['manager', ...args]);
    expect(code).toBe(2);
    expect(stderr).toContain(message);
  });

  it('refuses a config file with an unknown key and an unknown SLUICE_ variable', async () => {
    const file = join(tempDir(), 'bad.json');
    writeFileSync(file, JSON.stringify({ manager: { grpcPort: 0, maxPartitionPerGroup: 5 } }));
    const fromFile = await cli(['manager', '--config', file]);
    expect(fromFile.code).toBe(2);
    expect(fromFile.stderr).toContain('manager.maxPartitionPerGroup: unknown configuration key');
    expect(fromFile.stderr).toContain('manager.maxPartitionsPerGroup');
    const fromEnv = await cli(['manager'], { SLUICE_MANAGER_GRPC_PROT: '1' });
    expect(fromEnv.code).toBe(2);
    expect(fromEnv.stderr).toContain('SLUICE_MANAGER_GRPC_PORT');
  });

  it('keeps apps and allocations across kill -9 with the SQLite store, and exits 0 on SIGTERM', async () => {
    const statePath = join(tempDir(), 'state', 'manager.db');
    const args = ['--state', 'sqlite', '--state-path', statePath, '--log-level', 'warn'];
    const first: ManagerProcess = await spawnManager(args);
    cleanups.push(async () => void (await first.stop('SIGKILL')));
    const c1 = new ManagerClient(first.address);
    const workers = ['a', 'b', 'c'].map(
      (h) => new FakeWorker(first.address, { id: `w-${h}`, host: `host-${h}` }),
    );
    for (const w of workers) await w.register();
    await c1.registerApp({ appId: 'app-durable', priority: 1, name: 'nightly' });
    const allocated = await c1.allocateShuffle({
      appId: 'app-durable',
      shuffleId: 3,
      numMappers: 50,
      numPartitions: 450,
      replicate: true,
    });
    const moved = await c1.reallocateGroup({
      appId: 'app-durable',
      shuffleId: 3,
      groupId: 2,
      oldEpoch: 0,
      failedWorkerIds: [],
    });
    c1.close();
    expect(await first.stop('SIGKILL')).toBe('SIGKILL');

    const second = await spawnManager(args);
    cleanups.push(async () => void (await second.stop('SIGKILL')));
    const c2 = new ManagerClient(second.address);
    cleanups.push(() => c2.close());
    const state = await c2.getClusterState({ includeGroups: true });
    expect(state.apps).toEqual([
      expect.objectContaining({ appId: 'app-durable', priority: 1, name: 'nightly' }),
    ]);
    expect(state.shuffles).toHaveLength(1);
    const groups = state.shuffles[0]!.groups;
    expect(groups.map((g) => [g.startPartition, g.endPartition])).toEqual(
      allocated.groups.map((g) => [g.startPartition, g.endPartition]),
    );
    expect(groups[2]).toEqual(moved.group);
    // The reloaded manager keeps the allocation idempotent and epochs monotonic.
    const again = await c2.allocateShuffle({
      appId: 'app-durable',
      shuffleId: 3,
      numMappers: 50,
      numPartitions: 450,
      replicate: true,
    });
    expect(again.groups[2]!.epoch).toBe(1);
    // Workers are not stored: their first heartbeat after the restart asks them to re-register.
    workers[0]!.client.close();
    const w = new FakeWorker(second.address, { id: 'w-a', host: 'host-a' });
    expect((await w.heartbeat()).reregister).toBe(true);
    w.close();
    for (const x of workers) x.close();
    expect(await second.stop('SIGTERM')).toBe(0);
  });
});
