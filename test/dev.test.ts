// `sluice dev` (what `npm start` runs): starts the local cluster under the given directory,
// prints where everything is, serves, and stops cleanly on Ctrl-C (SIGINT).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI_PATH } from '../src/testing/manager.js';
import { waitFor } from '../src/testing/wait-for.js';
import { runSmallTerasort } from './small-terasort.js';

describe('sluice dev', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('starts a manager, three workers and the agent under --dir, prints their addresses and stops on SIGINT', async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-dev-'));
    const child = spawn(
      process.execPath,
      [CLI_PATH, 'dev', '--dir', dir, '--port', '0', '--http-port', '0'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const exited = once(child, 'exit');
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    try {
      const url = await waitFor(() => /manager HTTP\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1], {
        what: `dev banner in:\n${out}`,
      });
      expect(out).toMatch(/manager gRPC\s+127\.0\.0\.1:\d+/);
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      // The dashboard is at the root of the same port, bundled into the package.
      expect(out).toContain(`dashboard      ${url}/`);
      const page = await fetch(`${url}/`);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await page.text()).toContain('/dashboard/app.js');
      expect((await fetch(`${url}/dashboard/app.js`)).status).toBe(200);
      const { workers } = (await (await fetch(`${url}/api/v1/workers`)).json()) as {
        workers: { workerId: string; state: string }[];
      };
      expect(workers.map((w) => [w.workerId, w.state])).toEqual([
        ['worker-1', 'healthy'],
        ['worker-2', 'healthy'],
        ['worker-3', 'healthy'],
      ]);
      expect(out).toMatch(/worker-3 +data 127\.0\.0\.1:\d+/);
      expect(existsSync(join(dir, 'manager.db'))).toBe(true);
      const agentHttp = /agent gRPC +127\.0\.0\.1:\d+ +(http:\/\/\S+)\/metrics/.exec(out)?.[1];
      expect((await fetch(`${agentHttp}/readyz`)).status).toBe(200);
      expect(existsSync(join(dir, 'agent.db'))).toBe(true);
      expect(existsSync(join(dir, 'logs', 'manager.log'))).toBe(true);
      expect(existsSync(join(dir, 'logs', 'worker-1.log'))).toBe(true);

      // The banner's job runs against this cluster, validates and prints its throughput.
      const manager = /try a job .* --manager (\S+)/.exec(out)?.[1];
      expect(manager).toMatch(/^127\.0\.0\.1:\d+$/);
      const { code: jobCode, output: jobOut } = await runSmallTerasort(manager!);
      expect(jobOut).toMatch(/validation +OK: global order, 83886 records/);
      expect(jobOut).toMatch(/whole job +[\d.]+ s +[\d.]+ GB\/s/);
      expect(jobCode).toBe(0);

      child.kill('SIGINT');
      const [code] = await exited;
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
