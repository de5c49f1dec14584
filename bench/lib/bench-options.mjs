// Command-line options of bench/run.mjs (`npm run bench -- --help` prints USAGE). --quick
// swaps in the small sizes CI uses (bench:quick); any flag given explicitly still wins.
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const KiB = 1024;
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const BENCH_DIR = fileURLToPath(new URL('..', import.meta.url));

export const USAGE = `Usage: npm run bench -- [options]     (or: npm run build && node bench/run.mjs [options])

  --quick               small sizes, one run, for CI (< 2 min; what bench:quick runs)
  --scenarios LIST      which scenarios, e.g. 1,2,5 (default 1-8,10)
  --runs N              repetitions of scenarios 1-6, 8 and 10; the table shows medians (default 3)
  --dir PATH            directory on the disk under test (default ./.sluice)
  --dir2 PATH           the second worker's directory for scenario 3 (default: under --dir)
  Scenarios 1-4, 6, 7 (raw pushes of pre-built incompressible blocks):
  --size SIZE           bytes per ingest measurement and per disk baseline (default 1GiB)
  --executors N         executor processes (default 2)
  --connections N       push connections per executor (default 2)
  --inflight N          pushes in flight per connection (default 8)
  --push-bytes SIZE     bytes per push (default 1MiB)
  --partitions N        partitions of the ingest shuffle, one group (default 64)
  --read-streams N      partitions each executor reads at once in scenario 4 (default 4)
  --fetch-window N      chunk fetches in flight per stream in scenario 4 (default 4)
  --latency-seconds N   length of each scenario 6 measurement (default 8)
  --sweep-size SIZE     bytes per scenario 7 point (default 512MiB)
  --sweep-push LIST     push sizes of the sweep (default 64KiB,256KiB,1MiB,4MiB)
  --sweep-partitions LIST  partition counts of the sweep (default 64,1000,10000)
  --memory SIZE         worker memory budget (default 1GiB)
  --disk-buffer SIZE    baseline I/O size (default 4MiB); --disk-inflight N (default 4)
  --set key=value       worker configuration, repeatable
  Scenario 5 (end-to-end shuffle, push vs ESS):
  --maps N              map tasks (default 200)
  --e2e-partitions N    partitions (default 1000)
  --block-bytes SIZE    bytes each map writes to each partition (default 10KiB)
  --record-bytes SIZE   record size (default 1KiB)
  --map-concurrency N   map tasks at once per executor (default 2)
  --reduce-concurrency N  partitions read at once per executor (default 8)
  --e2e-push-bytes SIZE client pushBatchBytes (default 1MiB)
  --e2e-replicate       push mode with replication (default off: ESS keeps one copy too)
  --spark-blocks-per-request N  blocks per fetch request of the Spark ESS reader (default 1,
                        as our ESS reader fetches one map's region per request; Spark's
                        own reducers put up to ~9.6 MB of one host's blocks in a request)
  Scenario 8 (remote tiers: HDFS and S3 started by the bench, when installed):
  --remote-size SIZE    bytes per tier and measurement, raw and through the worker (default 256MiB)
  --remote-partitions N partitions of the remote ingest shuffle, files of the raw HDFS write
                        (default 8)
  --remote-tiers LIST   hdfs,s3 or one of them (default hdfs,s3)
  Scenario 10 (what authentication and mutual TLS cost; --size, --partitions and the push
  and read options above apply): plain, auth and auth + TLS clusters, interleaved per run;
  no options of its own
  --results DIR         where the JSON and SVG go (default bench/results)
`;

const QUICK = {
  runs: '1',
  size: '64MiB',
  'latency-seconds': '2',
  'sweep-size': '32MiB',
  'sweep-push': '64KiB,1MiB',
  'sweep-partitions': '256',
  maps: '8',
  'e2e-partitions': '50',
  'block-bytes': '4KiB',
  memory: '256MiB',
  'remote-size': '32MiB',
  'remote-partitions': '4',
};

const DEFAULTS = {
  runs: '3',
  size: '1GiB',
  executors: '2',
  connections: '2',
  inflight: '8',
  'push-bytes': '1MiB',
  partitions: '64',
  'read-streams': '4',
  'fetch-window': '4',
  'latency-seconds': '8',
  'sweep-size': '512MiB',
  'sweep-push': '64KiB,256KiB,1MiB,4MiB',
  'sweep-partitions': '64,1000,10000',
  memory: '1GiB',
  'disk-buffer': '4MiB',
  'disk-inflight': '4',
  maps: '200',
  'e2e-partitions': '1000',
  'block-bytes': '10KiB',
  'record-bytes': '1KiB',
  'map-concurrency': '2',
  'reduce-concurrency': '8',
  'e2e-push-bytes': '1MiB',
  'spark-blocks-per-request': '1',
  'remote-size': '256MiB',
  'remote-partitions': '8',
  'remote-tiers': 'hdfs,s3',
  scenarios: '1,2,3,4,5,6,7,8,10',
};

export function parseBytes(text) {
  const m = /^(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB)?$/i.exec(String(text).trim());
  if (!m) throw new Error(`not a size: ${text}`);
  const mult = { b: 1, kib: KiB, mib: MiB, gib: GiB }[(m[2] ?? 'b').toLowerCase()];
  return Math.round(Number(m[1]) * mult);
}

function positiveInt(text, name) {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
  return n;
}

const STRING_OPTIONS = [...Object.keys(DEFAULTS), 'dir', 'dir2', 'results', 'set'];

/** Options from argv (or from an object of the same names, for the in-process test). */
export function parseOptions(argv) {
  const options = Object.fromEntries(STRING_OPTIONS.map((k) => [k, { type: 'string' }]));
  options.set.multiple = true;
  for (const b of ['quick', 'help', 'e2e-replicate', 'no-results'])
    options[b] = { type: 'boolean', default: false };
  const { values } = parseArgs({ args: argv, options });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  return resolveOptions(values);
}

export function resolveOptions(values) {
  const v = { ...DEFAULTS, ...(values.quick ? QUICK : {}), ...stripUndefined(values) };
  const int = (k) => positiveInt(v[k], k);
  const pushBytes = parseBytes(v['push-bytes']);
  // Whole pushes and whole 4 KiB blocks, so the disk and the worker write the same bytes.
  const unit = Math.max(4 * MiB, pushBytes);
  const roundSize = (bytes) => Math.max(unit, Math.floor(bytes / unit) * unit);
  const dir = v.dir ? resolve(v.dir) : join(process.cwd(), '.sluice');
  return {
    quick: Boolean(v.quick),
    scenarios: new Set(String(v.scenarios).split(',').map(Number)),
    runs: int('runs'),
    dir,
    dir2: v.dir2 ? resolve(v.dir2) : undefined,
    bytes: roundSize(parseBytes(v.size)),
    executors: int('executors'),
    connections: int('connections'),
    inflight: int('inflight'),
    pushBytes,
    partitions: int('partitions'),
    readStreams: int('read-streams'),
    fetchWindow: int('fetch-window'),
    latencySeconds: Number(v['latency-seconds']),
    sweepBytes: roundSize(parseBytes(v['sweep-size'])),
    sweepPush: String(v['sweep-push']).split(',').map(parseBytes),
    sweepPartitions: String(v['sweep-partitions']).split(',').map(Number),
    memoryBytes: parseBytes(v.memory),
    diskBuffer: parseBytes(v['disk-buffer']),
    diskInflight: int('disk-inflight'),
    set: v.set ?? [],
    maps: int('maps'),
    e2ePartitions: int('e2e-partitions'),
    blockBytes: parseBytes(v['block-bytes']),
    recordBytes: parseBytes(v['record-bytes']),
    mapConcurrency: int('map-concurrency'),
    reduceConcurrency: int('reduce-concurrency'),
    e2ePushBytes: parseBytes(v['e2e-push-bytes']),
    e2eReplicate: Boolean(v['e2e-replicate']),
    sparkBlocksPerRequest: int('spark-blocks-per-request'),
    remoteBytes: roundSize(parseBytes(v['remote-size'])),
    remotePartitions: int('remote-partitions'),
    remoteTiers: remoteTiers(v['remote-tiers']),
    resultsDir: v['no-results'] ? undefined : resolve(v.results ?? join(BENCH_DIR, 'results')),
  };
}

function remoteTiers(text) {
  const tiers = [
    ...new Set(
      String(text)
        .split(',')
        .map((t) => t.trim().toLowerCase()),
    ),
  ];
  const bad = tiers.filter((t) => t !== 'hdfs' && t !== 's3');
  if (bad.length || tiers.length === 0)
    throw new Error(`--remote-tiers: ${bad.join(',') || '(none)'}: not hdfs or s3`);
  return tiers;
}

function stripUndefined(o) {
  return Object.fromEntries(Object.entries(o).filter(([, x]) => x !== undefined));
}
