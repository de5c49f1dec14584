// The Kubernetes manifests in deploy/kubernetes, checked offline (no cluster, no kubectl):
// every object against the Kubernetes API schemas (the npm package kubernetes-models, and
// @kubernetes-models/prometheus-operator for the PodMonitor: types, required fields, formats;
// those schemas let unknown fields through), and against each other and Sluice itself: the
// kustomization lists every file, selectors select, named ports exist, each daemon's command
// line and ConfigMap file load with Sluice's own flag parser and configuration loader, and the
// worker's memory limit holds its memory budget (docs/operations.md#worker-memory).
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { AGENT_FLAGS } from '../../src/agent/main.js';
import { parseFlags, type FlagSpec } from '../../src/cli/flags.js';
import { loadConfig } from '../../src/common/config/index.js';
import { ESS_FLAGS } from '../../src/ess/main.js';
import { MANAGER_FLAGS } from '../../src/manager/main.js';
import { WORKER_FLAGS } from '../../src/worker/main.js';

const ROOT = join(import.meta.dirname, '../..');
const DIR = join(ROOT, 'deploy/kubernetes');
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped YAML */
type Obj = Record<string, any>;

function load(file: string): Obj[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((d) => {
    if (d.errors.length > 0) throw new Error(`${file}: ${d.errors.join('; ')}`);
    return d.toJS() as Obj;
  });
}

function resources(dir: string): { file: string; objects: Obj[] }[] {
  const k = load(join(dir, 'kustomization.yaml'))[0]!;
  return (k.resources as string[]).map((r) => ({ file: r, objects: load(join(dir, r)) }));
}

const main = resources(DIR);
const monitoring = resources(join(DIR, 'monitoring'));
const all = [...main, ...monitoring].flatMap((r) => r.objects);
const workloads = all.filter((o) => ['StatefulSet', 'Deployment', 'DaemonSet'].includes(o.kind));
const byKind = (kind: string) => all.filter((o) => o.kind === kind);
const named = (kind: string, name: string) => byKind(kind).find((o) => o.metadata.name === name);
const matches = (selector: Obj, labels: Obj) =>
  Object.entries(selector).every(([k, v]) => labels?.[k] === v);

/** Converts Kubernetes quantities (7Gi, 512Mi, 500m) to numbers. */
function quantity(q: string | number): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|m)?$/.exec(String(q));
  if (!m) throw new Error(`not a quantity: ${q}`);
  const unit = { Ki: 1024, Mi: MiB, Gi: GiB, Ti: 1024 * GiB, m: 0.001 }[m[2] ?? ''] ?? 1;
  return Number(m[1]) * unit;
}

const tmp = mkdtempSync(join(tmpdir(), 'sluice-k8s-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('deploy/kubernetes', () => {
  it('the kustomizations list every manifest in their directories', () => {
    for (const [dir, listed] of [
      [DIR, main],
      [join(DIR, 'monitoring'), monitoring],
    ] as const) {
      const files = readdirSync(dir).filter(
        (f) => f.endsWith('.yaml') && f !== 'kustomization.yaml',
      );
      expect(listed.map((r) => r.file).sort()).toEqual(files.sort());
    }
  });

  it('every object is valid against the Kubernetes API schemas', async () => {
    expect(all.length).toBeGreaterThan(15);
    for (const o of all) {
      const module = o.apiVersion.startsWith('monitoring.coreos.com/')
        ? `@kubernetes-models/prometheus-operator/${o.apiVersion}`
        : `kubernetes-models/${o.apiVersion}`;
      const Model = ((await import(module)) as Record<string, new (o: Obj) => Obj>)[o.kind];
      expect(Model, `${o.apiVersion} ${o.kind}`).toBeDefined();
      const what = `${o.kind}/${o.metadata?.name}`;
      expect(() => new Model!(o).validate(), what).not.toThrow();
    }
  });

  it('has HA managers on ZooKeeper, workers with a decommissioning preStop, an ESS per node, the agent, PDBs and a PodMonitor', () => {
    const manager = named('StatefulSet', 'sluice-manager')!;
    expect(manager.spec.replicas).toBe(3);
    expect(named('Service', manager.spec.serviceName)?.spec.clusterIP).toBe('None');
    const worker = named('StatefulSet', 'sluice-worker')!;
    const prestop = worker.spec.template.spec.containers[0].lifecycle.preStop.exec.command;
    expect(prestop[1]).toBe('/app/deploy/kubernetes/worker-prestop.mjs');
    expect(existsSync(join(ROOT, prestop[1].replace('/app/', '')))).toBe(true);
    expect(named('DaemonSet', 'sluice-ess')).toBeDefined();
    expect(named('Deployment', 'sluice-agent')).toBeDefined();
    expect(byKind('PodDisruptionBudget').map((p) => p.metadata.name)).toEqual(
      expect.arrayContaining(['sluice-manager', 'sluice-worker']),
    );
    expect(byKind('PodMonitor')).toHaveLength(1);
    const config = JSON.parse(named('ConfigMap', 'sluice-config')!.data['manager.json']);
    expect(config.manager.state).toBe('zookeeper');
  });

  it('selectors select, and every named port a Service, probe or monitor uses exists', () => {
    const pods = workloads.map((w) => w.spec.template);
    for (const w of workloads)
      expect(matches(w.spec.selector.matchLabels, w.spec.template.metadata.labels)).toBe(true);
    const portsOf = (selector: Obj) =>
      pods
        .filter((p) => matches(selector, p.metadata.labels))
        .flatMap((p) => p.spec.containers.flatMap((c: Obj) => c.ports ?? []))
        .map((p: Obj) => p.name);
    for (const s of byKind('Service')) {
      const ports = portsOf(s.spec.selector);
      expect(ports.length, `Service ${s.metadata.name} selects no pod`).toBeGreaterThan(0);
      for (const p of s.spec.ports) expect(ports).toContain(p.targetPort ?? p.name);
    }
    for (const p of [...byKind('PodDisruptionBudget'), ...byKind('PodMonitor')])
      expect(portsOf(p.spec.selector.matchLabels).length, p.metadata.name).toBeGreaterThan(0);
    for (const m of byKind('PodMonitor'))
      for (const e of m.spec.podMetricsEndpoints)
        expect(portsOf(m.spec.selector.matchLabels)).toContain(e.port);
    for (const pod of pods)
      for (const c of pod.spec.containers)
        for (const probe of [c.readinessProbe, c.livenessProbe].filter(Boolean)) {
          const port = probe.httpGet?.port ?? probe.tcpSocket?.port;
          expect(c.ports.map((p: Obj) => p.name)).toContain(port);
        }
  });

  it("each Sluice container's command line and ConfigMap file load with Sluice's own parser", () => {
    const flags: Record<string, readonly FlagSpec[]> = {
      manager: MANAGER_FLAGS,
      worker: WORKER_FLAGS,
      ess: ESS_FLAGS,
      agent: AGENT_FLAGS,
    };
    const files = named('ConfigMap', 'sluice-config')!.data as Record<string, string>;
    const seen = new Set<string>();
    for (const w of workloads) {
      for (const c of w.spec.template.spec.containers) {
        if (c.image !== 'sluice') continue;
        const [command, ...args] = (c.args as string[]).map((a) =>
          a.replaceAll('$(POD_NAME)', 'pod-0').replaceAll('$(POD_NAMESPACE)', 'sluice'),
        );
        seen.add(command!);
        const parsed = parseFlags(args, flags[command!]!);
        const file = parsed.configFile!.replace('/etc/sluice/', '');
        expect(Object.keys(files)).toContain(file);
        writeFileSync(join(tmp, file), files[file]!);
        const config = loadConfig({ file: join(tmp, file), flags: parsed.config });
        expect(config['security.clusterSecretFile']).toBe('/secrets/cluster.secret');
        const mounted = c.volumeMounts.map((m: Obj) => m.mountPath);
        expect(mounted).toEqual(expect.arrayContaining(['/etc/sluice', '/secrets']));
        if (command === 'worker') {
          expect(config['worker.dirs']).toBe('/data');
          expect(mounted).toContain('/data');
          expect(config['worker.advertise']).toBe(
            'pod-0.sluice-worker-hs.sluice.svc.cluster.local',
          );
        }
      }
    }
    expect([...seen].sort()).toEqual(['agent', 'ess', 'manager', 'worker']);
  });

  it("the worker's memory limit holds its budget and what the budget does not count", () => {
    const worker = named('StatefulSet', 'sluice-worker')!.spec.template.spec.containers[0];
    const files = named('ConfigMap', 'sluice-config')!.data as Record<string, string>;
    writeFileSync(join(tmp, 'budget.json'), files['worker.json']!);
    const budget = loadConfig({ file: join(tmp, 'budget.json') })['worker.memoryBudgetBytes'];
    expect(budget).toBeGreaterThan(0);
    const { requests, limits } = worker.resources;
    expect(quantity(requests.memory)).toBe(quantity(limits.memory)); // not evicted first
    // 1.2 x budget + runtime + one disk + read pool + 32 fetch connections of 32 MiB
    const resident = 1.2 * budget + 100 * MiB + 20 * MiB + 64 * MiB + 32 * 32 * MiB;
    expect(quantity(limits.memory)).toBeGreaterThanOrEqual(resident);
    expect(quantity(limits.memory)).toBeLessThan(2 * budget); // but not wasted
  });
});
