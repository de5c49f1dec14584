// The manager's control-plane latency with each state store (bench/README.md, "Manager
// control-plane latency"): the same sequence of ManagerService calls against a manager on
// SQLite, one on a standalone ZooKeeper server and one on a three-server ZooKeeper ensemble
// (what production runs; docs/architecture.md#high-availability), in the same run.
//
// Each manager is a child process of the built CLI (as in production; the client's event loop
// is not the manager's), with three workers registered through RegisterWorker calls (they
// heartbeat every second and hold no data) so placement works, and one app. Per iteration,
// from a ManagerClient: AllocateShuffle of a new shuffle (`--partitions`, replication on),
// ReallocateGroup of its group 0 away from its primary, and ReleaseShuffle, so every
// iteration finds the same number of live shuffles. Each call is timed from the client (send
// to answer). The stores take turns in batches of `--batch` iterations, the order rotating
// each round, so a change in the machine's load hits all of them alike; the first `--warmup`
// iterations of each store are not counted.
//
// ZooKeeper runs with fsync on (`forceSync=yes`, its default), as SQLite runs with
// `synchronous = FULL`: the test harness starts servers with fsync off, so each is restarted
// with it on before the measurement (`--zk-fsync off` keeps it off). Every data file is under
// the OS temp dir (TMPDIR), SQLite's and ZooKeeper's alike.
//
// Prints p50/p99/max per store and call, and the ratio ZooKeeper ÷ SQLite; writes
// bench/results/manager-latency-<timestamp>.json. Imports dist/: `npm run bench:manager` builds.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { clearInterval, setInterval } from 'node:timers';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ManagerClient } from '../dist/common/proto/manager-client.js';
import { FakeWorker } from '../dist/testing/fake-worker.js';
import { spawnManager } from '../dist/testing/manager.js';
import { waitFor } from '../dist/testing/wait-for.js';
import { startZooKeeper, zooKeeperAvailable } from '../dist/testing/zookeeper.js';
import { formatTable, processCpuSeconds, writeResults } from './lib/report.mjs';

const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
const USAGE = `Usage: node bench/manager-latency.mjs [options]   (npm run build first)

  --n N             timed iterations per store (default 500); each is AllocateShuffle,
                    ReallocateGroup and ReleaseShuffle of a new shuffle
  --partitions N    partitions per shuffle (default 1000; 100 per group)
  --warmup N        iterations per store run first and not counted (default 20)
  --batch N         iterations per store before the next store's turn (default 50)
  --stores LIST     any of sqlite,zk1,zk3 (default all three)
  --workers N       fake workers registered and heartbeating (default 3)
  --apps N          apps the iterations take turns with (default 1)
  --heartbeat-ms N  the workers' and apps' heartbeat interval (default 1000)
  --zk-fsync on|off ZooKeeper's forceSync (default on, like SQLite's synchronous=FULL)
  --results DIR     where the JSON goes (default bench/results)
`;

const OPS = ['AllocateShuffle', 'ReallocateGroup', 'ReleaseShuffle', 'WorkerHeartbeat'];
const STORE_NAMES = {
  sqlite: 'SQLite',
  zk1: 'ZooKeeper, 1 server',
  zk3: 'ZooKeeper, 3 servers',
};

function options() {
  const { values } = parseArgs({
    options: {
      n: { type: 'string', default: '500' },
      partitions: { type: 'string', default: '1000' },
      warmup: { type: 'string', default: '20' },
      batch: { type: 'string', default: '50' },
      stores: { type: 'string', default: 'sqlite,zk1,zk3' },
      workers: { type: 'string', default: '3' },
      apps: { type: 'string', default: '1' },
      'heartbeat-ms': { type: 'string', default: '1000' },
      'zk-fsync': { type: 'string', default: 'on' },
      results: { type: 'string', default: join(BENCH_DIR, 'results') },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const int = (name, min) => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}`);
    return n;
  };
  const stores = values.stores.split(',').map((s) => s.trim());
  for (const s of stores) if (!(s in STORE_NAMES)) throw new Error(`--stores: unknown ${s}`);
  if (!['on', 'off'].includes(values['zk-fsync'])) throw new Error('--zk-fsync must be on or off');
  return {
    n: int('n', 1),
    partitions: int('partitions', 1),
    warmup: int('warmup', 0),
    batch: int('batch', 1),
    stores,
    workers: int('workers', 3),
    apps: int('apps', 1),
    heartbeatMs: int('heartbeat-ms', 100),
    zkFsync: values['zk-fsync'] === 'on',
    results: values.results,
  };
}

/** The nearest-rank percentile of sorted values. */
const percentile = (sorted, p) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];

function summary(samples) {
  if (samples.length === 0) return { n: 0, p50: NaN, p99: NaN, max: NaN, mean: NaN };
  const s = [...samples].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return { n: s.length, p50: percentile(s, 50), p99: percentile(s, 99), max: s.at(-1), mean };
}

/** Restarts every server of the ensemble with forceSync=yes (same ports and data). */
async function enableFsync(zk) {
  await Promise.all(zk.servers.map((s) => s.stop()));
  for (const s of zk.servers) {
    const path = join(zk.dir, `server-${s.id}`, 'zoo.cfg');
    const cfg = readFileSync(path, 'utf8');
    const next = /^forceSync=/m.test(cfg)
      ? cfg.replace(/^forceSync=.*$/m, 'forceSync=yes')
      : `${cfg}forceSync=yes\n`;
    writeFileSync(path, next);
  }
  await Promise.all(zk.servers.map((s) => s.start()));
}

/** Starts one store's manager, its workers and its app; returns what the loop needs. */
async function startStore(kind, tmp, opts, cleanups) {
  let args;
  let zk;
  if (kind === 'sqlite') {
    args = ['--state', 'sqlite', '--state-path', join(tmp, 'manager.db')];
  } else {
    zk = await startZooKeeper({ servers: kind === 'zk3' ? 3 : 1 });
    cleanups.push(() => zk.close());
    if (opts.zkFsync) await enableFsync(zk);
    args = ['--state', 'zookeeper', '--zk', zk.connectString, '--zk-root', '/sluice-bench'];
  }
  const manager = await spawnManager([
    ...args,
    '--set',
    'manager.minFreeDiskBytes=0',
    '--set',
    `manager.workerHeartbeatIntervalMs=${opts.heartbeatMs}`,
  ]);
  cleanups.push(() => manager.stop('SIGKILL'));
  await waitFor(
    async () => {
      const res = await globalThis
        .fetch(`http://127.0.0.1:${manager.httpPort}/readyz`)
        .catch(() => null);
      return res?.status === 200;
    },
    { timeoutMs: 30_000, intervalMs: 50, what: `the ${kind} manager to serve` },
  );
  // The fakes share one client (one channel): a thousand channels would measure this process.
  const fakes = new ManagerClient(manager.address, { deadlineMs: 10_000 });
  const workers = Array.from(
    { length: opts.workers },
    (_, i) =>
      new FakeWorker(manager.address, {
        id: `${kind}-w${i + 1}`,
        host: `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}`,
        dataPort: 7001 + i,
        client: fakes,
      }),
  );
  for (let i = 0; i < workers.length; i += 50)
    await Promise.all(workers.slice(i, i + 50).map((w) => w.register()));
  const client = new ManagerClient(manager.address, { deadlineMs: 10_000 });
  const appIds = Array.from({ length: opts.apps }, (_, i) => `bench-latency-${kind}-${i + 1}`);
  for (const appId of appIds)
    await client.registerApp({ appId, priority: 3, name: 'manager-latency', user: 'bench' });
  const store = {
    kind,
    client,
    appIds,
    manager,
    zkCfg: zk ? readFileSync(join(zk.dir, 'server-1', 'zoo.cfg'), 'utf8') : undefined,
    recording: false,
    next: 0,
    samples: Object.fromEntries(OPS.map((op) => [op, []])),
  };
  // Liveness is never written to a store; beats keep the workers healthy and the apps alive.
  // Each worker beats once per interval, the fleet spread over it as real workers' beats are.
  const ticks = 20;
  let tick = 0;
  const beat = setInterval(() => {
    const t = tick++ % ticks;
    for (let i = t; i < workers.length; i += ticks) {
      const t0 = performance.now();
      workers[i].heartbeat().then(
        () => store.recording && store.samples.WorkerHeartbeat.push(performance.now() - t0),
        () => undefined,
      );
    }
    if (t === 0) for (const appId of appIds) client.appHeartbeat({ appId }).catch(() => undefined);
  }, opts.heartbeatMs / ticks);
  cleanups.push(() => {
    clearInterval(beat);
    client.close();
    fakes.close();
  });
  return store;
}

/** One iteration against `store`: three calls, timed; checks each answer. */
async function iterate(store, opts, record) {
  const n = store.next++;
  const shuffleId = Math.floor(n / store.appIds.length);
  const appId = store.appIds[n % store.appIds.length];
  const { client } = store;
  const t0 = performance.now();
  const alloc = await client.allocateShuffle({
    appId,
    shuffleId,
    numMappers: 100,
    numPartitions: opts.partitions,
    replicate: true,
  });
  const t1 = performance.now();
  const group = alloc.groups[0];
  if (!alloc.replicated || alloc.groups.length !== Math.ceil(opts.partitions / 100))
    throw new Error(`${store.kind}: unexpected allocation ${JSON.stringify(alloc).slice(0, 300)}`);
  const failed = group.primary.workerId;
  const moved = await client.reallocateGroup({
    appId,
    shuffleId,
    groupId: 0,
    oldEpoch: group.epoch,
    failedWorkerIds: [failed],
  });
  const t2 = performance.now();
  if (moved.group?.epoch !== group.epoch + 1 || moved.group.primary.workerId === failed)
    throw new Error(`${store.kind}: unexpected reallocation ${JSON.stringify(moved.group)}`);
  await client.releaseShuffle({ appId, shuffleId });
  const t3 = performance.now();
  if (record) {
    store.samples.AllocateShuffle.push(t1 - t0);
    store.samples.ReallocateGroup.push(t2 - t1);
    store.samples.ReleaseShuffle.push(t3 - t2);
  }
}

async function main() {
  const opts = options();
  if (opts.stores.some((s) => s !== 'sqlite') && !zooKeeperAvailable())
    throw new Error('ZooKeeper is not installed (Debian package zookeeper); try --stores sqlite');
  const tmp = mkdtempSync(join(tmpdir(), 'sluice-mgrlat-'));
  const cleanups = [];
  const loadStart = loadavg();
  const started = new Date();
  try {
    const stores = [];
    for (const kind of opts.stores) stores.push(await startStore(kind, tmp, opts, cleanups));
    for (const s of stores) for (let i = 0; i < opts.warmup; i++) await iterate(s, opts, false);
    const measureStart = performance.now();
    for (const s of stores) {
      s.recording = true;
      s.cpu0 = processCpuSeconds(s.manager.pid);
    }
    // Rounds of one batch per store, the order rotating each round.
    let round = 0;
    while (stores.some((s) => s.samples.AllocateShuffle.length < opts.n)) {
      for (let k = 0; k < stores.length; k++) {
        const s = stores[(round + k) % stores.length];
        const left = opts.n - s.samples.AllocateShuffle.length;
        for (let i = 0; i < Math.min(opts.batch, left); i++) await iterate(s, opts, true);
      }
      round++;
      process.stderr.write(`\r${Math.min(round * opts.batch, opts.n)}/${opts.n} iterations`);
    }
    process.stderr.write('\n');
    const loadEnd = loadavg();
    const wall = (performance.now() - measureStart) / 1000;
    // Every store's manager ran (heartbeats included) for the whole measurement.
    const cpu = Object.fromEntries(
      stores.map((s) => {
        s.recording = false;
        const seconds = processCpuSeconds(s.manager.pid) - s.cpu0;
        return [s.kind, { seconds, pctOfCore: (seconds / wall) * 100 }];
      }),
    );

    const stats = Object.fromEntries(
      stores.map((s) => [
        s.kind,
        Object.fromEntries(OPS.map((op) => [op, summary(s.samples[op])])),
      ]),
    );
    const ms = (x) => x.toFixed(2);
    const rows = stores.flatMap((s) =>
      OPS.map((op) => {
        const x = stats[s.kind][op];
        return [STORE_NAMES[s.kind], op, x.n, ms(x.p50), ms(x.p99), ms(x.max), ms(x.mean)];
      }),
    );
    console.log(
      `Manager control-plane latency, ms (client send -> answer), ${opts.partitions} partitions, ` +
        `replication on, ZooKeeper fsync ${opts.zkFsync ? 'on' : 'off'}; ` +
        `load ${loadStart.map((l) => l.toFixed(2)).join(' ')} -> ${loadEnd.map((l) => l.toFixed(2)).join(' ')}`,
    );
    console.log(formatTable(['store', 'call', 'n', 'p50', 'p99', 'max', 'mean'], rows));
    console.log(
      `\n${opts.workers} workers heartbeating every ${opts.heartbeatMs} ms, ${opts.apps} apps; manager CPU over the ${wall.toFixed(1)} s measured: ` +
        stores
          .map((s) => `${STORE_NAMES[s.kind]} ${cpu[s.kind].pctOfCore.toFixed(0)}% of a core`)
          .join(', '),
    );
    const ratios = {};
    if (stats.sqlite) {
      const ratioRows = [];
      for (const kind of opts.stores.filter((k) => k !== 'sqlite')) {
        ratios[kind] = {};
        for (const op of OPS) {
          const r = {
            p50: stats[kind][op].p50 / stats.sqlite[op].p50,
            p99: stats[kind][op].p99 / stats.sqlite[op].p99,
          };
          ratios[kind][op] = r;
          ratioRows.push([`${STORE_NAMES[kind]} / SQLite`, op, r.p50.toFixed(2), r.p99.toFixed(2)]);
        }
      }
      if (ratioRows.length > 0) {
        console.log('');
        console.log(formatTable(['ratio', 'call', 'p50', 'p99'], ratioRows));
      }
    }
    const path = await writeResults(opts.results, 'manager-latency', {
      startedAt: started.toISOString(),
      host: {
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model,
        memBytes: totalmem(),
        kernel: release(),
        node: process.version,
        loadavgStart: loadStart,
        loadavgEnd: loadEnd,
        tmpdir: tmpdir(),
      },
      options: opts,
      zooCfg: stores.find((s) => s.zkCfg)?.zkCfg,
      stats,
      ratios,
      managerCpu: cpu,
      samples: Object.fromEntries(
        stores.map((s) => [
          s.kind,
          Object.fromEntries(
            OPS.map((op) => [op, s.samples[op].map((v) => Math.round(v * 1000) / 1000)]),
          ),
        ]),
      ),
    });
    console.log(`\nresults: ${path}`);
  } finally {
    for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
