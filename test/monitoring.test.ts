// The monitoring that ships in deploy/ (docs/operations.md#monitoring) against real daemons:
// promtool accepts prometheus.yml and alerts.yml; every metric the alerts and the Grafana
// dashboard name is exported by a live manager, worker, agent or ESS process; and a real
// Prometheus (Debian's), given prometheus.yml with the live ports in place of sluice dev's
// defaults, scrapes every target, evaluates every rule without error and stores the series.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_PATH } from '../src/testing/manager.js';
import { ProcessCluster } from '../src/testing/process-cluster.js';
import { waitFor } from '../src/testing/wait-for.js';
import { freePorts } from '../src/testing/zookeeper.js';
import { FaultJob } from './faults/harness.js';
import {
  dashboardQueries,
  GRAFANA_DASHBOARD,
  exportedNames,
  metricNames,
  PROMETHEUS_DIR,
  ruleExpressions,
} from './monitoring-files.js';

function installed(tool: string): boolean {
  try {
    execFileSync(tool, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const available = installed('prometheus') && installed('promtool');
if (!available && process.env.CI)
  throw new Error(
    'Prometheus is not installed: .ci/run must install the Debian prometheus package',
  );
const SKIPPED = available
  ? ''
  : ' (skipped: Prometheus is not installed; apt-get install --no-install-recommends prometheus)';

const CONFIG = join(PROMETHEUS_DIR, 'prometheus.yml');
const ALERTS = join(PROMETHEUS_DIR, 'alerts.yml');
const ALERT_TESTS = join(PROMETHEUS_DIR, 'alerts.test.yml');

describe('metric-name extraction', () => {
  it('finds the metrics of a query, not its functions, labels, strings or variables', () => {
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (le, worker) (rate(a_seconds_bucket{worker=~"$worker", x="b_total"}[$__rate_interval]))) / on (worker) b_total > 0 or vector(0)',
      ).sort(),
    ).toEqual(['a_seconds_bucket', 'b_total']);
    expect(
      ruleExpressions('  - expr: |\n      x_total\n        / y\n    for: 1m\n  - expr: z > 1\n'),
    ).toEqual(['      x_total\n        / y', 'z > 1']);
  });
});

describe('the Grafana dashboard', () => {
  type Panel = {
    id: number;
    type: string;
    title: string;
    gridPos: { x: number; y: number; w: number; h: number };
    datasource?: { uid: string };
    targets?: { refId: string; expr: string; datasource?: { uid: string } }[];
  };
  const dash = JSON.parse(readFileSync(GRAFANA_DASHBOARD, 'utf8')) as {
    uid: string;
    panels: Panel[];
    templating: { list: { name: string; type: string }[] };
  };

  it('lays its panels out without overlap, each querying the chosen data source', () => {
    expect(dash.uid).toBe('sluice-overview');
    const ids = dash.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const overlaps: string[] = [];
    for (const [i, a] of dash.panels.entries()) {
      expect(a.gridPos.x + a.gridPos.w, a.title).toBeLessThanOrEqual(24);
      for (const b of dash.panels.slice(i + 1)) {
        const apart =
          a.gridPos.x + a.gridPos.w <= b.gridPos.x ||
          b.gridPos.x + b.gridPos.w <= a.gridPos.x ||
          a.gridPos.y + a.gridPos.h <= b.gridPos.y ||
          b.gridPos.y + b.gridPos.h <= a.gridPos.y;
        if (!apart) overlaps.push(`${a.title} / ${b.title}`);
      }
    }
    expect(overlaps).toEqual([]);
    expect(dash.templating.list.map((v) => `${v.name}:${v.type}`)).toEqual([
      'datasource:datasource',
      'worker:query',
    ]);
    for (const p of dash.panels.filter((x) => x.type !== 'row')) {
      expect(p.datasource?.uid, p.title).toBe('${datasource}');
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      const refIds = p.targets!.map((t) => t.refId);
      expect(new Set(refIds).size, p.title).toBe(refIds.length);
    }
  });
});

describe.skipIf(!available)(`promtool${SKIPPED}`, () => {
  it('accepts deploy/prometheus/prometheus.yml (with its rule file) and alerts.yml', () => {
    const config = execFileSync('promtool', ['check', 'config', CONFIG], { encoding: 'utf8' });
    expect(config).toContain('SUCCESS: 1 rule files found');
    const rules = execFileSync('promtool', ['check', 'rules', ALERTS], { encoding: 'utf8' });
    const [, n] = /SUCCESS: (\d+) rules found/.exec(rules) ?? [];
    expect(Number(n)).toBe(ruleExpressions(readFileSync(ALERTS, 'utf8')).length);
  });

  it('passes the unit tests of alerts.test.yml, which make every alert fire', () => {
    const out = execFileSync('promtool', ['test', 'rules', ALERT_TESTS], { encoding: 'utf8' });
    expect(out).toContain('SUCCESS');
    const alerts = [...readFileSync(ALERTS, 'utf8').matchAll(/- alert: (\w+)/g)].map((m) => m[1]);
    const firing = new Set(
      readFileSync(ALERT_TESTS, 'utf8')
        .split('- eval_time:')
        .filter((c) => c.includes('exp_alerts:'))
        .map((c) => /alertname: (\w+)/.exec(c)?.[1]),
    );
    expect(alerts.filter((a) => !firing.has(a))).toEqual([]);
  });
});

interface Daemon {
  readonly child: ChildProcess;
  readonly httpPort: number;
}

/** Runs `sluice <args>` and waits for the info line `started`, which names its HTTP port. */
async function spawnDaemon(args: readonly string[], started: string): Promise<Daemon> {
  const child = spawn(process.execPath, [CLI_PATH, ...args, '--log-level', 'info'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`sluice ${args[0]} exited (${String(code)}) before starting`);
  });
  const port = new Promise<number>((resolve) =>
    lines.on('line', (line) => {
      if (line.includes(`"${started}"`))
        resolve((JSON.parse(line) as { httpPort: number }).httpPort);
    }),
  );
  return { child, httpPort: await Promise.race([port, exited]) };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

describe(`monitoring against a cluster of processes${SKIPPED}`, () => {
  let cluster: ProcessCluster;
  let dir: string;
  const daemons: Daemon[] = [];
  /** sluice dev's default HTTP port of each daemon -> the port it has here. */
  const ports = new Map<number, number>();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-monitoring-'));
    cluster = await ProcessCluster.start({
      workers: 3,
      // A killed worker is declared lost within seconds.
      managerConfig: { 'manager.workerLostTimeoutMs': 2_000 },
    });
    const agent = await spawnDaemon(
      [
        'agent',
        '--port',
        '0',
        '--http-port',
        '0',
        '--manager',
        cluster.managerAddress,
        '--state-path',
        join(dir, 'agent.db'),
      ],
      'agent started',
    );
    daemons.push(agent);
    const ess = await spawnDaemon(
      ['ess', '--dir', join(dir, 'ess'), '--set', 'ess.dataPort=0', '--set', 'ess.httpPort=0'],
      'ess started',
    );
    daemons.push(ess);
    ports.set(9098, cluster.manager.httpPort);
    ports.set(9199, cluster.worker('worker-1').httpPort);
    ports.set(9209, cluster.worker('worker-2').httpPort);
    ports.set(9219, cluster.worker('worker-3').httpPort);
    ports.set(9298, agent.httpPort);
    ports.set(9399, ess.httpPort);
  }, 90_000);

  afterAll(async () => {
    await Promise.allSettled(daemons.map((d) => stop(d.child)));
    await cluster?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Every metric name the live daemons export. */
  async function exported(): Promise<Set<string>> {
    const all = new Set<string>();
    for (const port of ports.values()) {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      for (const n of exportedNames(text)) all.add(n);
    }
    return all;
  }

  it('every metric the Grafana dashboard queries is exported by a daemon', async () => {
    const names = await exported();
    const queries = dashboardQueries();
    expect(queries.length).toBeGreaterThan(30);
    const unknown = queries.flatMap((q) =>
      metricNames(q.expr)
        .filter((n) => !names.has(n))
        .map((n) => `${q.where}: ${n}`),
    );
    expect(unknown).toEqual([]);
    // Each daemon's metrics appear on the dashboard.
    const used = new Set(queries.flatMap((q) => metricNames(q.expr)));
    for (const prefix of ['sluice_manager_', 'sluice_worker_', 'sluice_agent_', 'sluice_ess_'])
      expect(
        [...used].some((n) => n.startsWith(prefix)),
        prefix,
      ).toBe(true);
  });

  it('every metric the alert rules use is exported by a daemon', async () => {
    const names = await exported();
    const exprs = ruleExpressions(readFileSync(ALERTS, 'utf8'));
    expect(exprs.length).toBeGreaterThan(10);
    // `up` is Prometheus's own series for each target.
    const unknown = exprs.flatMap((e) => metricNames(e).filter((n) => n !== 'up' && !names.has(n)));
    expect(unknown).toEqual([]);
  });

  it.skipIf(!available)(
    'a real Prometheus scrapes every target, evaluates every rule and stores the series',
    async () => {
      const promDir = join(dir, 'prometheus');
      mkdirSync(promDir);
      // The shipped file with the live ports for sluice dev's defaults, scraped every second.
      let config = readFileSync(CONFIG, 'utf8').replace(
        /(scrape|evaluation)_interval: \d+s/g,
        '$1_interval: 1s',
      );
      for (const [from, to] of ports) {
        expect(config).toContain(`'127.0.0.1:${from}'`);
        config = config.replace(`'127.0.0.1:${from}'`, `'127.0.0.1:${to}'`);
      }
      writeFileSync(join(promDir, 'prometheus.yml'), config);
      copyFileSync(ALERTS, join(promDir, 'alerts.yml'));
      const [port] = await freePorts(1);
      const base = `http://127.0.0.1:${port}`;
      const prometheus = spawn(
        'prometheus',
        [
          `--config.file=${join(promDir, 'prometheus.yml')}`,
          `--storage.tsdb.path=${join(promDir, 'data')}`,
          `--web.listen-address=127.0.0.1:${port}`,
          '--log.level=warn',
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let log = '';
      prometheus.stderr!.on('data', (b: Buffer) => (log += b.toString()));
      const api = async <T>(path: string): Promise<T> => {
        const body = (await (await fetch(`${base}${path}`)).json()) as { status: string; data: T };
        expect(body.status).toBe('success');
        return body.data;
      };
      const query = async (q: string) =>
        api<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(
          `/api/v1/query?query=${encodeURIComponent(q)}`,
        ).then((d) => d.result);
      try {
        await waitFor(
          async () => (await fetch(`${base}/-/ready`).catch(() => undefined))?.status === 200,
          { timeoutMs: 60_000, intervalMs: 200, what: `Prometheus to be ready (log: ${log})` },
        );
        type Target = {
          labels: { job: string; instance: string };
          health: string;
          lastError: string;
        };
        const targets = await waitFor(
          async () => {
            const t = (await api<{ activeTargets: Target[] }>('/api/v1/targets')).activeTargets;
            return t.length === 6 && t.every((x) => x.health === 'up') && t;
          },
          { timeoutMs: 60_000, intervalMs: 500, what: 'every target to be up' },
        );
        expect(targets.map((t) => t.labels.job).sort()).toEqual([
          'sluice-agent',
          'sluice-ess',
          'sluice-manager',
          'sluice-worker',
          'sluice-worker',
          'sluice-worker',
        ]);

        // Every rule evaluates without error and, once the targets are scraped, none is
        // pending or firing on this healthy cluster.
        type Rule = { name: string; health: string; lastError?: string; state: string };
        let rules: Rule[] = [];
        const settled = () =>
          rules
            .filter((r) => r.health !== 'ok' || r.state !== 'inactive')
            .map((r) => `${r.name}: ${r.state} ${r.health} ${r.lastError ?? ''}`);
        await waitFor(
          async () => {
            const groups = (await api<{ groups: { rules: Rule[] }[] }>('/api/v1/rules')).groups;
            rules = groups.flatMap((g) => g.rules);
            return settled().length === 0;
          },
          { timeoutMs: 30_000, intervalMs: 500, what: 'every rule to evaluate to nothing' },
        ).catch(() => undefined);
        expect(settled()).toEqual([]);
        expect(rules.length).toBe(ruleExpressions(readFileSync(ALERTS, 'utf8')).length);

        // Key series arrive, per worker and per daemon.
        const healthy = await query('sluice_manager_workers{state="healthy"}');
        expect(healthy.map((r) => r.value[1])).toEqual(['3']);
        const budgets = await query('sluice_worker_memory_budget_bytes');
        expect(budgets.map((r) => r.metric.worker).sort()).toEqual([
          'worker-1',
          'worker-2',
          'worker-3',
        ]);
        expect((await query('sluice_agent_history_stages')).length).toBe(1);
        expect((await query('sluice_ess_map_outputs')).length).toBe(1);
        expect((await query('sum(sluice_manager_is_leader)'))[0]?.value[1]).toBe('1');

        // A job's pushes: Prometheus ends up with exactly the bytes the workers counted.
        const job = await FaultJob.start(cluster.managerAddress, 'monitoring');
        try {
          await job.runMaps();
          expect((await job.commit()).lost).toEqual([]);
        } finally {
          await job.close();
        }
        let direct = 0;
        for (const id of ['worker-1', 'worker-2', 'worker-3']) {
          const text = await (
            await fetch(`http://127.0.0.1:${cluster.worker(id).httpPort}/metrics`)
          ).text();
          direct += Number(/^sluice_worker_push_bytes_total\{[^}]*\} (\S+)$/m.exec(text)?.[1]);
        }
        expect(direct).toBeGreaterThan(0);
        await waitFor(
          async () =>
            Number((await query('sum(sluice_worker_push_bytes_total)'))[0]?.value[1]) === direct,
          { timeoutMs: 30_000, intervalMs: 500, what: `Prometheus to hold ${direct} pushed bytes` },
        );
        const pushes = await query('sum by (status) (sluice_worker_pushes_total)');
        expect(pushes.find((r) => r.metric.status === 'OK')).toBeDefined();

        // kill -9 worker-3: its target goes down and the manager declares it lost, which
        // raises SluiceDaemonDown and SluiceWorkerLost (pending: each waits a minute to fire).
        const victim = cluster.worker('worker-3');
        await victim.stop('SIGKILL');
        type Alert = { labels: Record<string, string>; state: string };
        const raised = await waitFor(
          async () => {
            const alerts = (await api<{ alerts: Alert[] }>('/api/v1/alerts')).alerts;
            const names = alerts.map((a) => a.labels.alertname).sort();
            return (
              names.includes('SluiceDaemonDown') && names.includes('SluiceWorkerLost') && alerts
            );
          },
          { timeoutMs: 60_000, intervalMs: 500, what: 'SluiceDaemonDown and SluiceWorkerLost' },
        );
        expect(raised.find((a) => a.labels.alertname === 'SluiceDaemonDown')?.labels).toMatchObject(
          {
            job: 'sluice-worker',
            instance: `127.0.0.1:${victim.httpPort}`,
          },
        );
        // Two managers or none would be another failure; a busy machine may add SluiceSlowAcks.
        const names = raised.map((a) => a.labels.alertname);
        expect(names.filter((n) => /Leader/.test(n))).toEqual([]);
      } finally {
        const exited = once(prometheus, 'exit');
        prometheus.kill('SIGTERM');
        await exited;
      }
    },
    180_000,
  );
});
