// A worker's bind address, advertised name and HTTP address are separate
// (docs/operations.md#host-identity): the manager hands out the advertised name, the ports
// listen where they were bound, and the command-line flags set the keys. The same split
// across real links (a worker bound to its namespace address, advertising a host name) runs in
// test/multihost-netns.test.ts.
import { connect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseFlags } from '../src/cli/flags.js';
import { readClusterState } from '../src/common/proto/cluster-state.js';
import { ManagerClient } from '../src/common/proto/manager-client.js';
import { MANAGER_FLAGS } from '../src/manager/main.js';
import { startManager } from '../src/testing/manager.js';
import { startWorker } from '../src/testing/worker.js';
import { WORKER_FLAGS } from '../src/worker/main.js';

function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

describe('worker host identity', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('registers the advertised name while its ports listen on the bind address', async () => {
    const manager = await startManager();
    cleanups.push(() => manager.close());
    const dir = mkdtempSync(join(tmpdir(), 'sluice-hostid-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const worker = await startWorker({
      manager: `127.0.0.1:${manager.grpcPort}`,
      dirs: [dir],
      id: 'w-advertised',
      config: {
        'worker.bind': '127.0.0.1',
        'worker.advertise': 'w-advertised.sluice.test',
        'worker.httpBind': '127.0.0.1',
      },
    });
    cleanups.push(() => worker.close());
    const client = new ManagerClient(`127.0.0.1:${manager.grpcPort}`);
    cleanups.push(() => client.close());
    const state = await readClusterState(client);
    const registered = state.workers.find((w) => w.address?.workerId === 'w-advertised');
    expect(registered?.address?.host).toBe('w-advertised.sluice.test');
    expect(registered?.address?.dataPort).toBe(worker.dataPort);
    for (const port of [worker.dataPort, worker.controlPort, worker.httpPort])
      expect(await reachable('127.0.0.1', port)).toBe(true);
  });

  it.each([
    {
      daemon: 'worker',
      flags: WORKER_FLAGS,
      want: ['worker.bind', 'worker.advertise', 'worker.httpBind'],
    },
    {
      daemon: 'manager',
      flags: MANAGER_FLAGS,
      want: ['manager.host', 'manager.advertiseHost', 'manager.httpBind'],
    },
  ])('$daemon: --bind, --advertise and --http-bind set $want', ({ flags, want }) => {
    const args = ['--bind', '0.0.0.0', '--advertise', 'h1.example.org', '--http-bind', '127.0.0.1'];
    expect(parseFlags(args, flags).config).toEqual({
      [want[0]!]: '0.0.0.0',
      [want[1]!]: 'h1.example.org',
      [want[2]!]: '127.0.0.1',
    });
  });
});
