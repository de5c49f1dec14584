// `sluice dev --ha` (docs/operations.md#sluice-dev-what-npm-start-runs): three managers electing a
// leader on a ZooKeeper server the command starts itself, three workers and the agent given
// every manager's address; a terasort through all three addresses works, and SIGTERM stops
// everything it started, the ZooKeeper child included, leaving no process behind.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI_PATH } from '../src/testing/manager.js';
import { waitFor } from '../src/testing/wait-for.js';
import { runSmallTerasort } from './small-terasort.js';
import { zooKeeperClasspath } from '../src/testing/zookeeper.js';

const available = zooKeeperClasspath() !== undefined;
if (!available && process.env.CI)
  throw new Error('ZooKeeper is not installed: .ci/run must install the Debian zookeeper package');
const SKIPPED = available
  ? ''
  : ' (skipped: ZooKeeper is not installed; apt-get install zookeeper or set ZOOKEEPER_HOME)';

/** PIDs whose parent is `ppid`, from /proc. */
function childrenOf(ppid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // The command may hold spaces and parentheses; the fields after its closing ')' do not.
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent === ppid) out.push(Number(name));
    } catch {
      // Exited meanwhile.
    }
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface ClusterView {
  role: string;
  leader: { grpc: string } | null;
  members: { grpc: string }[];
}

describe.skipIf(!available)(`sluice dev --ha${SKIPPED}`, () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs three managers on its own ZooKeeper, one leads, a terasort runs through all three, SIGTERM leaves no process', async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-dev-ha-'));
    const child = spawn(
      process.execPath,
      [CLI_PATH, 'dev', '--ha', '--dir', dir, '--port', '0', '--http-port', '0'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exited = once(child, 'exit');
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    let started: number[] = [];
    try {
      await waitFor(() => out.includes('try a job') || child.exitCode !== null, {
        timeoutMs: 40_000,
        intervalMs: 100,
        what: 'the dev --ha banner',
      });
      expect(out).toContain('Sluice dev cluster is up, highly available');

      // Its ZooKeeper: a java child listening where the banner says, by the PID it recorded.
      const zkPid = Number(readFileSync(join(dir, 'zk', 'zookeeper.pid'), 'utf8'));
      started = childrenOf(child.pid!);
      expect(started).toContain(zkPid);
      expect(readFileSync(`/proc/${zkPid}/cmdline`, 'utf8')).toContain(join(dir, 'zk', 'zoo.cfg'));
      const zkCfg = readFileSync(join(dir, 'zk', 'zoo.cfg'), 'utf8');
      expect(zkCfg).toContain('clientPortAddress=127.0.0.1');
      expect(zkCfg).toContain('admin.enableServer=false');
      expect(zkCfg).not.toContain('forceSync=no');
      const zkPort = /^clientPort=(\d+)$/m.exec(zkCfg)?.[1];
      expect(out).toMatch(new RegExp(`zookeeper +127\\.0\\.0\\.1:${zkPort}/sluice`));

      // Three managers; every one names the same leader, and exactly one says it leads.
      const https = [
        ...out.matchAll(/manager-\d +gRPC \S+ +HTTP (http:\/\/127\.0\.0\.1:\d+)/g),
      ].map((m) => m[1]!);
      expect(https).toHaveLength(3);
      const views = await Promise.all(
        https.map(
          async (url) => (await (await fetch(`${url}/api/v1/cluster`)).json()) as ClusterView,
        ),
      );
      expect(views.filter((v) => v.role === 'leader')).toHaveLength(1);
      const leader = views.find((v) => v.role === 'leader')!;
      expect(new Set(views.map((v) => v.leader?.grpc))).toEqual(new Set([leader.leader!.grpc]));
      expect(leader.members).toHaveLength(3);
      expect(out).toMatch(
        new RegExp(`leader +manager-\\d ${leader.leader!.grpc.replace(/\./g, '\\.')}`),
      );

      // The banner's job, through all three addresses, reaches the leader and validates.
      const managers = /try a job .* --manager (\S+)/.exec(out)?.[1];
      expect(managers?.split(',')).toHaveLength(3);
      const { code: jobCode, output: jobOut } = await runSmallTerasort(managers!);
      expect(jobOut).toMatch(/validation +OK: global order, 83886 records/);
      expect(jobCode).toBe(0);

      child.kill('SIGTERM');
      const [code] = await exited;
      expect(code).toBe(0);
      expect(started.filter(alive)).toEqual([]);
      expect(existsSync(join(dir, 'zk', 'zookeeper.pid'))).toBe(false);
      // The data stays for the next run.
      expect(existsSync(join(dir, 'zk', 'data', 'version-2'))).toBe(true);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- sluice dev --ha output:\n${out}`, {
        cause: err,
      });
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        started = [...new Set([...started, ...childrenOf(child.pid!)])];
        child.kill('SIGKILL');
        await exited;
      }
      for (const pid of started.filter(alive)) process.kill(pid, 'SIGKILL');
    }
  }, 60_000);
});
