// `sluice manager --agent` (docs/architecture.md#processes): the agent embedded in the manager's process, reading
// that manager for its guard; both stop cleanly on one SIGTERM.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, expect, it } from 'vitest';
import { CLI_PATH } from '../src/testing/manager.js';
import { waitFor } from '../src/testing/wait-for.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('sluice manager --agent serves the agent beside the manager and stops both on SIGTERM', async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-mgr-agent-'));
  const db = join(dir, 'agent.db');
  const child = spawn(
    process.execPath,
    [
      CLI_PATH,
      'manager',
      '--agent',
      '--port',
      '0',
      '--http-port',
      '0',
      '--state',
      'memory',
      '--set',
      'agent.grpcPort=0',
      '--set',
      'agent.httpPort=0',
      '--set',
      `agent.sqlitePath=${db}`,
      '--log-level',
      'info',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = once(child, 'exit');
  const lines: Record<string, unknown>[] = [];
  createInterface({ input: child.stdout }).on('line', (l) => {
    try {
      lines.push(JSON.parse(l) as Record<string, unknown>);
    } catch {
      // not JSON: ignore
    }
  });
  try {
    const agent = await waitFor(() => lines.find((l) => l.msg === 'agent started'), {
      what: 'the agent to start',
    });
    const manager = lines.find((l) => l.msg === 'manager started')!;
    expect(agent.manager).toBe(`127.0.0.1:${String(manager.grpcPort)}`);
    expect((await fetch(`http://127.0.0.1:${String(agent.httpPort)}/readyz`)).status).toBe(200);
    expect(existsSync(db)).toBe(true);
    child.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
});
