// The systemd units in deploy/systemd pass `systemd-analyze verify` (every key known, every
// value parsed, the ExecStart binary executable) with no warning at all, and the readiness
// check their ExecStartPost runs really waits for /healthz.
// verify insists that ExecStart's binary exists on this machine, and the units name the
// installed paths (/usr/bin/node, the package in /opt/sluice). So the test verifies copies in
// a temp dir with /usr/bin/node replaced by the node running the test and /opt/sluice by this
// repository; every /opt/sluice/<path> a unit names must exist here too.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { startManager } from '../../src/testing/manager.js';

const ROOT = join(import.meta.dirname, '../..');
const UNITS = join(ROOT, 'deploy/systemd');
const ANALYZE = '/usr/bin/systemd-analyze';
const READY = join(UNITS, 'sluice-ready.mjs');
const run = promisify(execFile);

const available = existsSync(ANALYZE);
if (!available && process.env.CI)
  throw new Error(`${ANALYZE} is missing: .ci/run must install the Debian systemd package`);
if (!available) console.warn(`skipping the systemd unit checks: no ${ANALYZE}`);

const tmp = mkdtempSync(join(tmpdir(), 'sluice-units-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.skipIf(!available)('deploy/systemd', () => {
  const units = readdirSync(UNITS).filter((f) => f.endsWith('.service'));

  it('has the four units', () => {
    expect(units.sort()).toEqual([
      'sluice-agent.service',
      'sluice-ess.service',
      'sluice-manager.service',
      'sluice-worker@.service',
    ]);
  });

  it('systemd-analyze verify accepts every unit without a warning', () => {
    const copies: string[] = [];
    for (const unit of units) {
      const text = readFileSync(join(UNITS, unit), 'utf8');
      for (const [, path] of text.matchAll(/\/opt\/sluice\/(\S+)/g))
        expect(existsSync(join(ROOT, path!)), `${unit} names /opt/sluice/${path}`).toBe(true);
      expect(text).toMatch(/^KillSignal=SIGTERM$/m);
      expect(text).toMatch(/^TimeoutStopSec=\d+$/m);
      expect(text).toMatch(/^ProtectSystem=strict$/m);
      expect(text).toMatch(/^NoNewPrivileges=yes$/m);
      expect(text).toMatch(/^LimitNOFILE=\d+$/m);
      expect(text).toMatch(/^LoadCredential=cluster\.secret:/m);
      const copy = join(tmp, unit.replace('@.service', '@a.service'));
      writeFileSync(
        copy,
        text.replaceAll('/usr/bin/node', process.execPath).replaceAll('/opt/sluice', ROOT),
      );
      copies.push(copy);
    }
    let out = '';
    try {
      out = execFileSync(ANALYZE, ['verify', '--man=no', ...copies], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string };
      throw new Error(`systemd-analyze verify failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
    }
    expect(out).toBe('');
  });

  it('the worker stops within TimeoutStopSec: longer than its graceful shutdown', () => {
    const text = readFileSync(join(UNITS, 'sluice-worker@.service'), 'utf8');
    const stopSec = Number(/^TimeoutStopSec=(\d+)$/m.exec(text)![1]);
    expect(stopSec).toBeGreaterThan(30); // worker.shutdownTimeoutMs default, 30 s
  });
});

describe('deploy/systemd/sluice-ready.mjs', () => {
  it('exits 0 once /healthz answers, 1 when nothing answers in time', async () => {
    const manager = await startManager();
    try {
      const config = join(tmp, 'manager.json');
      writeFileSync(
        config,
        JSON.stringify({ 'manager.host': '127.0.0.1', 'manager.httpPort': manager.httpPort }),
      );
      await run(process.execPath, [READY, 'manager', config, '10']);
    } finally {
      await manager.close();
    }
    const closed = join(tmp, 'closed.json');
    writeFileSync(closed, JSON.stringify({ manager: { host: '127.0.0.1', httpPort: 1 } }));
    const err = (await run(process.execPath, [READY, 'manager', closed, '1']).catch(
      (e: unknown) => e,
    )) as { code?: number; stderr?: string };
    expect(err.code).toBe(1);
    expect(err.stderr).toContain('http://127.0.0.1:1/healthz did not answer 200 within 1 s');
  });
});
