// `sluice dev --logs` (docs/operations.md#logs): every daemon's log on stdout as one stream,
// one line per entry prefixed with the daemon's name, each daemon in its own colour, while the
// JSON files under <dir>/logs stay as they are.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI_PATH } from '../src/testing/manager.js';
import { waitFor } from '../src/testing/wait-for.js';
import { formatEntry } from '../src/cli/dev-logs.js';

describe('sluice dev --logs', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('formats an entry: prefix, time, level, message, fields', () => {
    const json = JSON.stringify({
      level: 40,
      time: '2026-12-07T12:10:00.949Z',
      pid: 1,
      name: 'worker-2',
      msg: 'heartbeat failed',
      workerId: 'worker-2',
      err: { type: 'Error', message: 'connect ECONNREFUSED', stack: '...' },
      held: 3,
    });
    expect(formatEntry('worker-2', json, undefined)).toBe(
      'worker-2  12:10:00.949 WARN  heartbeat failed workerId=worker-2 err="connect ECONNREFUSED" held=3\n',
    );
    expect(formatEntry('worker-2', json, 35)).toBe(
      '\x1b[35mworker-2 \x1b[0m 12:10:00.949 \x1b[33mWARN \x1b[0m heartbeat failed workerId=worker-2 err="connect ECONNREFUSED" held=3\n',
    );
  });

  it("merges every daemon's log into one coloured stream and keeps the JSON files", async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-dev-logs-'));
    const child = spawn(
      process.execPath,
      [CLI_PATH, 'dev', '--dir', dir, '--port', '0', '--http-port', '0', '--logs'],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '1' } },
    );
    const exited = once(child, 'exit');
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    try {
      await waitFor(() => out.includes('Sluice dev cluster is up'), {
        timeoutMs: 30_000,
        what: 'the dev banner',
      });
      // Escapes shown as "<": "<36mmanager  <0m 12:29:09.576 INFO  ...".
      const shown = () => out.replaceAll('\x1b[', '<');
      const colourOf = new Map<string, string>();
      for (const m of shown().matchAll(/^<(\d+)m(\S+) *<0m \d\d:\d\d:\d\d\.\d{3} \S+/gm))
        colourOf.set(m[2]!, m[1]!);
      expect([...colourOf.keys()].sort()).toEqual([
        'agent',
        'manager',
        'worker-1',
        'worker-2',
        'worker-3',
      ]);
      expect(new Set(colourOf.values()).size).toBe(5);
      expect(shown()).toMatch(/manager {2}<0m \S+ INFO {2}manager started grpcPort=\d+/);
      expect(shown()).toMatch(/worker-2 <0m \S+ INFO {2}worker started workerId=worker-2 /);
      // The files still hold pino JSON.
      const first = readFileSync(join(dir, 'logs', 'worker-2.log'), 'utf8').split('\n')[0]!;
      expect(JSON.parse(first)).toMatchObject({ name: 'worker-2', workerId: 'worker-2' });

      child.kill('SIGINT');
      const [code] = await exited;
      expect(code).toBe(0);
      // Shutdown steps are in the stream too.
      expect(shown()).toMatch(/agent {4}<0m \S+ INFO {2}agent stopped/);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }, 60_000);
});
