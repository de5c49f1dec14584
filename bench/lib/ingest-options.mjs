// Command-line options of bench/worker-ingest.mjs (`--help` prints USAGE).
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const GiB = 1024 ** 3;
const BENCH_DIR = fileURLToPath(new URL('..', import.meta.url));

export const USAGE = `Usage: node bench/worker-ingest.mjs [options]   (npm run build first)

  --size N            GiB written per measurement, baseline and ingest alike (default 2;
                      also accepts 512MiB, 4GiB)
  --runs N            baseline + ingest pairs (default 3)
  --dir PATH          directory on the disk under test; a temp dir is made inside it
                      (default ./.sluice/bench-XXXXXX)
  --connections N     push connections (default 4)
  --inflight N        pushes in flight per connection (default 8)
  --push-bytes SIZE   bytes per push, block header included (default 1MiB)
  --partitions N      partitions of the shuffle, one group (default 64)
  --memory SIZE       worker memory budget (default 1GiB)
  --disk-buffer SIZE  baseline write size (default 4MiB)
  --disk-inflight N   baseline writes in flight (default 4)
  --set key=value     worker configuration, repeatable (e.g. worker.writesInFlight=8)
  --worker-cpu-prof DIR   write the worker's CPU profile to DIR (read it with
                      node bench/cpuprofile-top.mjs DIR/<pid>.cpuprofile)
  --results DIR       where the JSON goes (default bench/results)
`;

function parseBytes(text, unitIfBare) {
  const m = /^(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB)?$/i.exec(String(text).trim());
  if (!m) throw new Error(`not a size: ${text}`);
  const unit = (m[2] ?? unitIfBare).toLowerCase();
  const mult = { b: 1, kib: 1024, mib: 1024 ** 2, gib: GiB }[unit];
  return Math.round(Number(m[1]) * mult);
}

function positiveInt(text, name) {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
  return n;
}

export function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      size: { type: 'string', default: '2' },
      runs: { type: 'string', default: '3' },
      dir: { type: 'string' },
      connections: { type: 'string', default: '4' },
      inflight: { type: 'string', default: '8' },
      'push-bytes': { type: 'string', default: '1MiB' },
      partitions: { type: 'string', default: '64' },
      memory: { type: 'string', default: '1GiB' },
      'disk-buffer': { type: 'string', default: '4MiB' },
      'disk-inflight': { type: 'string', default: '4' },
      set: { type: 'string', multiple: true, default: [] },
      'worker-cpu-prof': { type: 'string' },
      results: { type: 'string', default: join(BENCH_DIR, 'results') },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const pushBytes = parseBytes(values['push-bytes'], 'b');
  const diskBuffer = parseBytes(values['disk-buffer'], 'b');
  // Whole pushes and whole 4 KiB blocks, so both sides write exactly the same bytes.
  const gcd = (a, b) => (b === 0 ? a : gcd(b, a % b));
  const unit = (pushBytes / gcd(pushBytes, 4096)) * 4096;
  const bytes = Math.floor(parseBytes(values.size, 'gib') / unit) * unit;
  if (bytes <= 0) throw new Error(`--size must be at least one push (${pushBytes} bytes)`);
  const writesInFlight = values.set
    .map((kv) => /^worker\.writesInFlight=(\d+)$/.exec(kv)?.[1])
    .filter(Boolean)
    .map(Number)
    .at(-1);
  return {
    bytes,
    runs: positiveInt(values.runs, 'runs'),
    dir: values.dir ? resolve(values.dir) : join(process.cwd(), '.sluice'),
    connections: positiveInt(values.connections, 'connections'),
    inflight: positiveInt(values.inflight, 'inflight'),
    pushBytes,
    partitions: positiveInt(values.partitions, 'partitions'),
    memoryBytes: parseBytes(values.memory, 'b'),
    diskBuffer,
    diskInflight: positiveInt(values['disk-inflight'], 'disk-inflight'),
    set: values.set,
    workerWritesInFlight: writesInFlight ?? 4, // worker.writesInFlight's default
    cpuProfDir: values['worker-cpu-prof'] ? resolve(values['worker-cpu-prof']) : undefined,
    resultsDir: resolve(values.results),
  };
}
