// A real S3 for tests (docs/development.md#tests: real things, real child processes): a Ceph
// cluster with the RADOS Gateway, from Debian's packages (.ci/install-ceph). One monitor, one
// or three OSDs keeping objects in memory (memstore), no manager, and radosgw serving S3 on
// 127.0.0.1. Every daemon is a direct child in the foreground (`-f`): there is no systemd
// here, and killOsd() SIGKILLs one OSD by PID in the middle of an upload. The S3 storage is
// tested against it.
//
// Measured on a 2-core machine: serving in ~7 s (one or three OSDs), 80 MB uploaded in ~1.3 s;
// RSS ~40 MB for the monitor, ~50 MB per OSD idle (90-160 MB once 80 MB are stored twice),
// ~50 MB for radosgw idle (~100 MB busy). The configuration is for tests, and its pitfalls:
//   - cephx stays on: with `auth_*_required = none` radosgw fails (get_initial_auth_request
//     returned -13). Keys come from ceph-authtool; the OSDs' and radosgw's keys go into the
//     monitor's keyring at mkfs, so no `ceph auth` round trip is needed.
//   - public_addr/cluster_addr 127.0.0.1, msgr2 only, no IPv6, and a port window below the
//     kernel's ephemeral range: OSDs otherwise bind 0.0.0.0, and a port the kernel handed to
//     an outgoing connection could be taken from under us.
//   - Small pools (8 PGs, no autoscaler, OSDs as failure domain, size 2 of 3 OSDs, 1 of 1)
//     or radosgw cannot create its pools. They are created here, in one `ceph` session, with
//     a 50 ms paxos interval: radosgw creating them one by one at 1 s per map took ~11 s.
//   - OSD failures are reported per OSD (all run on one host) by one reporter, so a killed
//     OSD is marked down at once and writes go on with the other replica.
//   - The first bucket and multipart upload are slow while radosgw sets up; start() warms
//     both up.
//
// close() SIGTERMs every process it started (SIGKILL after 2 s), by PID, waits for each exit
// and removes the temp dir; call it in afterAll. A process-exit hook SIGKILLs whatever a
// crashed test left and removes its dir (ceph-processes.ts).
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { BIN, Daemon, installExitHook, LIVE_DIRS, runTool } from './ceph-processes.js';
import { waitFor } from './wait-for.js';

const HOST = '127.0.0.1';
const REGION = 'us-east-1';
const TOOLS = [
  'ceph-mon',
  'ceph-osd',
  'radosgw',
  'radosgw-admin',
  'ceph-authtool',
  'monmaptool',
  'ceph',
];
/** The whole start on a busy 2-core machine (idle: ~7 s). */
const START_TIMEOUT_MS = 120_000;
/** Radosgw's pools (default zone), created before it starts. */
const RGW_POOLS = [
  '.rgw.root',
  'default.rgw.control',
  'default.rgw.meta',
  'default.rgw.log',
  'default.rgw.buckets.index',
  'default.rgw.buckets.data',
  'default.rgw.buckets.non-ec',
];
/** Radosgw's cephx name; radosgw-admin runs as client.admin (one admin socket per name). */
const RGW_NAME = 'client.rgw.sluice';

/** True when the Ceph daemons and tools are installed (CI installs them: .ci/install-ceph). */
export function cephAvailable(): boolean {
  return TOOLS.every((tool) => existsSync(join(BIN, tool)));
}

export interface CephRgwOptions {
  /** 1, or 3 with every object on two of them (one may be killed). Default 1. */
  readonly osds?: 1 | 3;
  readonly startTimeoutMs?: number;
}

export interface CephRgw {
  /** http://127.0.0.1:port, radosgw's S3 endpoint (path-style buckets). */
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region: string;
  /** The temp dir holding the configuration, keys, daemon data and logs. */
  readonly dir: string;
  /** PID of each OSD process; undefined once it exited. */
  readonly osdPids: readonly (number | undefined)[];
  createBucket(name: string): Promise<void>;
  /** SIGKILLs OSD `i` (0-based) and waits for its exit. */
  killOsd(i: number): Promise<void>;
  /** OSDs the monitor counts as up (a killed one is marked down within seconds). */
  upOsds(): Promise<number>;
  /** Kills every process this harness started and removes `dir`. Idempotent. */
  close(): Promise<void>;
}

/** The kernel's ephemeral ports start here; ours stay below so no outgoing socket takes one. */
function ephemeralLow(): number {
  try {
    const low = Number(
      readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').split(/\s+/)[0],
    );
    return Number.isInteger(low) && low > 12_000 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

async function listen(port: number): Promise<Server | undefined> {
  const server = createServer();
  server.listen(port, HOST);
  try {
    await Promise.race([
      once(server, 'listening'),
      once(server, 'error').then(([e]) => Promise.reject(e as Error)),
    ]);
    return server;
  } catch {
    return undefined;
  }
}

/** `n` consecutive ports free on 127.0.0.1 between 10000 and the ephemeral range. */
async function portWindow(n: number): Promise<number> {
  const high = ephemeralLow() - n;
  for (let attempt = 0; attempt < 100; attempt++) {
    const base = 10_000 + Math.floor(Math.random() * (high - 10_000));
    const held: Server[] = [];
    try {
      for (let p = base; p < base + n; p++) {
        const server = await listen(p);
        if (!server) break;
        held.push(server);
      }
      if (held.length === n) return base;
    } finally {
      await Promise.all(held.map((s) => new Promise((resolve) => s.close(resolve))));
    }
  }
  throw new Error(`no window of ${n} free ports on ${HOST}`);
}

interface Layout {
  readonly dir: string;
  readonly fsid: string;
  readonly osds: number;
  readonly monPort: number;
  readonly rgwPort: number;
  /** OSDs bind their four msgr2 ports (public, cluster, two heartbeats) in [min, max]. */
  readonly bindMin: number;
  readonly bindMax: number;
}

function cephConf(l: Layout): string {
  const d = l.dir;
  return `[global]
fsid = ${l.fsid}
mon_host = v2:${HOST}:${l.monPort}
public_addr = ${HOST}
cluster_addr = ${HOST}
ms_bind_ipv4 = true
ms_bind_ipv6 = false
ms_bind_msgr1 = false
ms_bind_port_min = ${l.bindMin}
ms_bind_port_max = ${l.bindMax}
auth_cluster_required = cephx
auth_service_required = cephx
auth_client_required = cephx
keyring = ${d}/keyring
run_dir = ${d}/run
admin_socket = ${d}/run/$name.asok
log_file = ${d}/log/$name.log
pid_file = ${d}/run/$name.pid
crash_dir = ${d}/crash
log_to_stderr = false
err_to_stderr = true
mon_data = ${d}/mon
mon_data_avail_crit = 1
mon_data_avail_warn = 2
paxos_propose_interval = 0.05
paxos_min_wait = 0.01
osd_data = ${d}/osd$id
osd_objectstore = memstore
memstore_device_bytes = ${1024 * 1024 * 1024}
osd_memory_target = ${256 * 1024 * 1024}
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
mon_max_pg_per_osd = 1000
osd_crush_chooseleaf_type = 0
osd_pool_default_size = ${l.osds === 1 ? 1 : 2}
osd_pool_default_min_size = 1
mon_allow_pool_size_one = true
mon_warn_on_pool_no_redundancy = false
mon_osd_min_down_reporters = 1
mon_osd_reporter_subtree_level = osd
osd_heartbeat_interval = 1
osd_heartbeat_grace = 5
[mon]
keyring = ${d}/mon/keyring
[osd]
keyring = ${d}/osd$id/keyring
[${RGW_NAME}]
keyring = ${d}/rgw.keyring
rgw_frontends = beast endpoint=${HOST}:${l.rgwPort}
rgw_data = ${d}/rgw
rgw_thread_pool_size = 32
rgw_enable_usage_log = false
rgw_dynamic_resharding = false
`;
}

class CephCluster implements CephRgw {
  readonly endpoint: string;
  readonly accessKeyId = `SLUICE${randomBytes(7).toString('hex').toUpperCase()}`;
  readonly secretAccessKey = randomBytes(20).toString('hex');
  readonly region = REGION;
  readonly dir: string;
  readonly #layout: Layout;
  readonly #conf: string;
  readonly #daemons: Daemon[] = [];
  readonly #osds: Daemon[] = [];
  #client: S3Client | undefined;
  /** While starting: when start() gives up. */
  #deadline: number | undefined;
  #closing: Promise<void> | undefined;

  constructor(layout: Layout) {
    this.#layout = layout;
    this.dir = layout.dir;
    this.#conf = join(layout.dir, 'ceph.conf');
    this.endpoint = `http://${HOST}:${layout.rgwPort}`;
  }

  get osdPids(): (number | undefined)[] {
    return this.#osds.map((osd) => osd.pid);
  }

  async start(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    this.#deadline = deadline;
    const { dir, osds } = this.#layout;
    const monKeyring = join(dir, 'mon.keyring');
    for (const sub of ['log', 'run', 'crash', 'rgw', 'mon']) mkdirSync(join(dir, sub));
    for (let i = 0; i < osds; i++) mkdirSync(join(dir, `osd${i}`));
    writeFileSync(this.#conf, cephConf(this.#layout));
    await this.#makeKeys(monKeyring);
    const monmap = join(dir, 'monmap');
    await this.#tool('ceph-mon', [
      '--mkfs',
      '-i',
      'a',
      '--monmap',
      monmap,
      '--keyring',
      monKeyring,
    ]);
    const uuids = Array.from({ length: osds }, () => randomUUID());
    await Promise.all(
      uuids.map((uuid, i) =>
        this.#tool('ceph-osd', ['-i', String(i), '--mkfs', '--no-mon-config', '--osd-uuid', uuid]),
      ),
    );
    this.#spawn('mon.a', 'ceph-mon', ['-i', 'a']);
    await this.#registerOsdsAndPools(uuids);
    for (let i = 0; i < osds; i++)
      this.#osds.push(this.#spawn(`osd.${i}`, 'ceph-osd', ['-i', `${i}`]));
    this.#spawn(RGW_NAME, 'radosgw', ['-n', RGW_NAME]);
    await this.#until(deadline, 'radosgw to answer HTTP', () => this.#rgwAnswers());
    await this.#tool('radosgw-admin', [
      ...['user', 'create', '--uid', 'sluice', '--display-name', 'sluice tests'],
      ...['--access-key', this.accessKeyId, '--secret', this.secretAccessKey],
    ]);
    await this.#until(deadline, `all ${osds} OSDs up`, async () => (await this.upOsds()) === osds);
    await this.#warmUp();
    this.#deadline = undefined;
  }

  async createBucket(name: string): Promise<void> {
    await this.#s3().send(new CreateBucketCommand({ Bucket: name }));
  }

  async killOsd(i: number): Promise<void> {
    const osd = this.#osds[i];
    if (osd === undefined) throw new RangeError(`no OSD ${i} (there are ${this.#osds.length})`);
    osd.kill('SIGKILL');
    await osd.exited();
  }

  async upOsds(): Promise<number> {
    const out = await this.#tool('ceph', ['--connect-timeout', '30', 'osd', 'stat', '-f', 'json']);
    return (JSON.parse(out) as { num_up_osds?: number }).num_up_osds ?? 0;
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#client?.destroy();
      await Promise.all(this.#daemons.map((d) => d.stop()));
      rmSync(this.dir, { recursive: true, force: true });
      LIVE_DIRS.delete(this.dir);
    })();
    return this.#closing;
  }

  /** Every daemon's log tail: what a failed start reports. */
  logTails(): string {
    return this.#daemons.map((d) => d.logTail()).join('\n');
  }

  /** Every daemon's key, all imported into the monitor's keyring; the monitor map. */
  async #makeKeys(monKeyring: string): Promise<void> {
    const d = this.dir;
    const key = (keyring: string, name: string, caps: Record<string, string>) =>
      this.#run('ceph-authtool', [
        ...['--create-keyring', keyring, '--gen-key', '-n', name],
        ...Object.entries(caps).flatMap(([service, cap]) => ['--cap', service, cap]),
      ]);
    await key(monKeyring, 'mon.', { mon: 'allow *' });
    await key(join(d, 'keyring'), 'client.admin', {
      mon: 'allow *',
      osd: 'allow *',
      mgr: 'allow *',
    });
    await key(join(d, 'rgw.keyring'), RGW_NAME, { mon: 'allow rw', osd: 'allow rwx' });
    const imports = ['keyring', 'rgw.keyring'];
    for (let i = 0; i < this.#layout.osds; i++) {
      const osdKeyring = join(d, `osd${i}`, 'keyring');
      await key(osdKeyring, `osd.${i}`, {
        mon: 'allow profile osd',
        osd: 'allow *',
        mgr: 'allow profile osd',
      });
      imports.push(join(`osd${i}`, 'keyring'));
    }
    for (const keyring of imports)
      await this.#run('ceph-authtool', [monKeyring, '--import-keyring', join(d, keyring)]);
    await this.#run('monmaptool', [
      ...['--create', '--addv', 'a', `[v2:${HOST}:${this.#layout.monPort}]`],
      ...['--fsid', this.#layout.fsid, join(d, 'monmap')],
    ]);
  }

  /** `osd new` for each OSD and radosgw's pools, in one `ceph` session (it reads stdin). */
  async #registerOsdsAndPools(uuids: readonly string[]): Promise<void> {
    const commands = [
      ...uuids.map((uuid) => `osd new ${uuid}`),
      ...RGW_POOLS.flatMap((p) => [
        `osd pool create ${p} 8 8`,
        `osd pool application enable ${p} rgw`,
      ]),
    ];
    const out = await this.#tool('ceph', ['--connect-timeout', '60'], `${commands.join('\n')}\n`);
    const ids = out.split('\n').filter((line) => /^\d+$/.test(line.trim()));
    if (ids.join(',') !== uuids.map((_, i) => i).join(','))
      throw new Error(`ceph osd new gave ids [${ids.join(',')}], not 0..${uuids.length - 1}`);
  }

  async #rgwAnswers(): Promise<boolean> {
    try {
      const res = await fetch(`${this.endpoint}/`, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      return res.ok;
    } catch {
      return false;
    }
  }

  /** The first bucket and multipart upload take seconds while radosgw sets up. */
  async #warmUp(): Promise<void> {
    const s3 = this.#s3();
    const Bucket = 'sluice-warm-up';
    const Key = 'warm-up';
    await s3.send(new CreateBucketCommand({ Bucket }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    await s3.send(
      new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: Buffer.alloc(1) }),
    );
    await s3.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId }));
    await s3.send(new DeleteBucketCommand({ Bucket }));
  }

  async #until(deadline: number, what: string, ready: () => Promise<boolean>): Promise<void> {
    await waitFor(
      async () => {
        const gone = this.#daemons.find((d) => !d.running);
        if (gone) throw new Error(`${gone.name} exited while starting`);
        return ready();
      },
      { timeoutMs: Math.max(0, deadline - Date.now()), intervalMs: 200, what },
    );
  }

  #spawn(name: string, command: string, args: readonly string[]): Daemon {
    const out = join(this.dir, 'log', `${name}.out`);
    const log = join(this.dir, 'log', `${name}.log`);
    const daemon = new Daemon(name, command, ['-c', this.#conf, '-f', ...args], [out, log]);
    this.#daemons.push(daemon);
    return daemon;
  }

  /** A Ceph tool run with this cluster's configuration. */
  #tool(command: string, args: readonly string[], input?: string): Promise<string> {
    return this.#run(command, ['-c', this.#conf, ...args], input);
  }

  /** A tool run, bounded by the start's deadline while starting. */
  #run(command: string, args: readonly string[], input?: string): Promise<string> {
    const leftMs = this.#deadline === undefined ? Infinity : this.#deadline - Date.now();
    return runTool(this.dir, command, args, input, Math.max(1_000, leftMs));
  }

  #s3(): S3Client {
    this.#client ??= new S3Client({
      endpoint: this.endpoint,
      region: REGION,
      forcePathStyle: true,
      credentials: { accessKeyId: this.accessKeyId, secretAccessKey: this.secretAccessKey },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    return this.#client;
  }
}

/**
 * Starts a Ceph cluster with radosgw on 127.0.0.1 and an S3 user, and resolves once S3
 * requests succeed (bucket and multipart upload warmed up) with every OSD up. Throws, leaving
 * nothing behind, if that takes longer than `startTimeoutMs` (default 120 s); the message
 * holds the end of every daemon's log.
 */
export async function startCephRgw(options: CephRgwOptions = {}): Promise<CephRgw> {
  const osds = options.osds ?? 1;
  if (!cephAvailable()) {
    throw new Error(`Ceph is not installed (${TOOLS.join(', ')} in ${BIN}): run .ci/install-ceph`);
  }
  const ports = 2 + 4 * osds + 8;
  const base = await portWindow(ports);
  const dir = mkdtempSync(join(tmpdir(), 'sluice-ceph-'));
  LIVE_DIRS.add(dir);
  installExitHook();
  const cluster = new CephCluster({
    dir,
    fsid: randomUUID(),
    osds,
    monPort: base,
    rgwPort: base + 1,
    bindMin: base + 2,
    bindMax: base + ports - 1,
  });
  try {
    await cluster.start(options.startTimeoutMs ?? START_TIMEOUT_MS);
    return cluster;
  } catch (err) {
    const message = `Ceph with radosgw did not start: ${(err as Error).message}\n${cluster.logTails()}`;
    await cluster.close();
    throw new Error(message, { cause: err });
  }
}
