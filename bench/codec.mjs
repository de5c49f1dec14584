// Block compression codecs compared on 1 MiB inputs (the issue: "lz4 blocks (npm `lz4`;
// measure it against alternatives and record the numbers in `bench/`)"; bench/README.md quotes the
// lz4 figures). Sluice's client compresses every block with lz4's block API
// (src/client/write/block-codec.ts); this measures it against what is installed without
// adding a dependency:
//
//   lz4-block        lz4.encodeBlock into a reused encodeBound scratch + copy out to an
//                    exact-size buffer / lz4.decodeBlock into a fresh buffer — what
//                    block-codec.ts does with compressible data (incompressible data it keeps
//                    raw, codec NONE: no copy and no decode; here lz4 is measured anyway)
//   lz4-block-reuse  the same calls into buffers reused across calls: the codec without the
//                    allocation (a fresh 1 MiB buffer can cost more than decoding into it: its
//                    pages are faulted in on first touch, depending on what malloc recycles)
//   lz4-frame        lz4.encode / lz4.decode (frame format through the package's stream code)
//   deflate-raw-1    zlib.deflateRawSync / inflateRawSync, level 1
//   gzip-1           zlib.gzipSync / gunzipSync, level 1
//   brotli-1         zlib.brotliCompressSync (BROTLI_PARAM_QUALITY 1) / brotliDecompressSync
//   none             memcpy into a preallocated buffer, both ways (the ceiling)
//
// on three kinds of data, generated from a fixed seed so every run sees the same bytes:
// terasort-like 100-byte records, JSON-ish text lines, and random bytes. For each codec and
// kind: compress GB/s (input bytes per second), decompress GB/s (output bytes per second) and
// ratio (compressed / raw; above 1 means the codec grew the data). GB = 10⁹ bytes, one thread.
//
// Every measurement repeats its operation for at least --seconds (0.5) of wall time; each
// cell is warmed up once, then measured --runs (5) times and the median is reported. The runs
// are interleaved (run 1 of every cell, then run 2, ... with the order rotated each run), so
// a burst of load from the machine's other tenants spreads over the codecs instead of landing
// on one. Each sample is given twice: over wall time, and over the time the thread was
// actually on a CPU (/proc/self/task/<tid>/schedstat, ns). With other tenants loading the
// 2 CPUs the thread waits in the run queue and the wall-clock rate drops; the on-CPU rate is
// the per-core rate and stays put (cache and memory-bandwidth contention it still shows). The
// share of the time spent waiting is printed at the end. Every round trip is
// checked byte for byte, outside the clock, after every measurement: a mismatch aborts.
//
// Needs no build (it does not import dist/). `node bench/codec.mjs --help` lists the options;
// results also go to bench/results/codec-<timestamp>.json.
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import zlib from 'node:zlib';
import { fmt, formatTable, median, writeResults } from './lib/report.mjs';

const require = createRequire(import.meta.url);
const lz4 = require('lz4'); // CommonJS, loaded as block-codec.ts loads it
const LZ4_VERSION = require('lz4/package.json').version;
const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
const MiB = 1024 ** 2;

const USAGE = `Usage: node bench/codec.mjs [options]

  --seconds S     minimum wall time of one measurement (default 0.5)
  --runs N        measurements per codec, kind and direction; the median is reported (default 5)
  --warmup S      warm-up time per codec, kind and direction before the runs (default 0.1)
  --size BYTES    input size (default 1048576, one 1 MiB block)
  --codecs LIST   comma-separated subset (default all): lz4-block, lz4-block-reuse,
                  lz4-frame, deflate-raw-1, gzip-1, brotli-1, none
  --results DIR   where the JSON goes (default bench/results)
`;

// ---------------------------------------------------------------------------------------
// Inputs

/** Deterministic 32-bit generator (mulberry32), so every run compresses the same bytes. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/**
 * Terasort-like: 100-byte records of 10 random key bytes, an 8-byte big-endian row id and 82
 * filler bytes of one letter (A..Z, cycling with the row id); the last record is cut at size.
 */
function terasort(size, rand) {
  const out = Buffer.allocUnsafe(Math.ceil(size / 100) * 100);
  for (let row = 0, off = 0; off < size; row++, off += 100) {
    for (let i = 0; i < 10; i++) out[off + i] = rand() & 0xff;
    out.writeBigUInt64BE(BigInt(row), off + 10);
    out.fill(0x41 + (row % 26), off + 18, off + 100);
  }
  return out.subarray(0, size);
}

/** JSON-ish event lines, one object per line, values drawn from small vocabularies. */
function jsonLines(size, rand) {
  const pick = (xs) => xs[rand() % xs.length];
  const events = ['click', 'view', 'purchase', 'add_to_cart', 'search', 'logout', 'login'];
  const countries = ['DE', 'FR', 'US', 'BR', 'IN', 'JP', 'NG', 'SE', 'CA', 'AU'];
  const agents = ['Mozilla/5.0 (X11; Linux x86_64)', 'Mozilla/5.0 (Macintosh)', 'curl/8.5.0'];
  const words = ['red', 'blue', 'sale', 'new', 'gift', 'shoes', 'lamp', 'book', 'phone', 'desk'];
  const lines = [];
  let bytes = 0;
  let ts = Date.UTC(2026, 10, 22, 14, 0, 0);
  for (let id = 1_000_000; bytes < size; id++) {
    ts += rand() % 2000;
    const tags = Array.from({ length: rand() % 4 }, () => pick(words));
    const line = `${JSON.stringify({
      id,
      user: `user_${rand() % 50_000}`,
      session: (rand() >>> 0).toString(16).padStart(8, '0'),
      event: pick(events),
      ts: new Date(ts).toISOString(),
      country: pick(countries),
      amount: Math.round((rand() % 100_000) / 10) / 10,
      agent: pick(agents),
      tags,
      query: rand() % 3 === 0 ? `${pick(words)} ${pick(words)}` : null,
    })}\n`;
    lines.push(line);
    bytes += line.length;
  }
  return Buffer.from(lines.join(''), 'latin1').subarray(0, size);
}

/** Random bytes: incompressible for every codec here. */
function randomBytes(size, rand) {
  const out = Buffer.allocUnsafe(Math.ceil(size / 4) * 4);
  for (let off = 0; off < out.length; off += 4) out.writeUInt32LE(rand(), off);
  return out.subarray(0, size);
}

const KINDS = [
  { name: 'terasort', make: terasort, seed: 1 },
  { name: 'json', make: jsonLines, seed: 2 },
  { name: 'random', make: randomBytes, seed: 3 },
];

// ---------------------------------------------------------------------------------------
// Codecs: compress(raw) -> Buffer holding only the compressed bytes; decompress(c, rawLength)
// -> Buffer holding only the raw bytes. make(size) gives each codec its reusable buffers.

const CODECS = [
  {
    name: 'lz4-block',
    what: 'lz4.encodeBlock into a reused encodeBound scratch, copied out to an exact-size buffer; lz4.decodeBlock into a fresh raw-size buffer (as src/client/write/block-codec.ts does for compressible data; incompressible data it stores raw, codec NONE)',
    make(size) {
      const scratch = Buffer.allocUnsafe(lz4.encodeBound(size));
      return {
        compress(raw) {
          const n = lz4.encodeBlock(raw, scratch);
          if (n <= 0) throw new Error(`lz4.encodeBlock returned ${n}`);
          const out = Buffer.allocUnsafe(n);
          scratch.copy(out, 0, 0, n);
          return out;
        },
        decompress(c, rawLength) {
          const out = Buffer.allocUnsafe(rawLength);
          const n = lz4.decodeBlock(c, out);
          if (n !== rawLength) throw new Error(`lz4.decodeBlock returned ${n}, not ${rawLength}`);
          return out;
        },
      };
    },
  },
  {
    name: 'lz4-block-reuse',
    what: 'lz4.encodeBlock / lz4.decodeBlock into buffers reused across calls: the codec alone, without the per-block allocation of lz4-block',
    make(size) {
      const scratch = Buffer.allocUnsafe(lz4.encodeBound(size));
      const out = Buffer.allocUnsafe(size);
      return {
        compress(raw) {
          const n = lz4.encodeBlock(raw, scratch);
          if (n <= 0) throw new Error(`lz4.encodeBlock returned ${n}`);
          return scratch.subarray(0, n);
        },
        decompress(c, rawLength) {
          const n = lz4.decodeBlock(c, out);
          if (n !== rawLength) throw new Error(`lz4.decodeBlock returned ${n}, not ${rawLength}`);
          return out.subarray(0, n);
        },
      };
    },
  },
  {
    name: 'lz4-frame',
    what: 'lz4.encode / lz4.decode with the package defaults (4 MiB blocks, stream checksum on)',
    make: () => ({
      compress: (raw) => lz4.encode(raw),
      decompress: (c) => lz4.decode(c),
    }),
  },
  {
    name: 'deflate-raw-1',
    what: 'zlib.deflateRawSync level 1 / zlib.inflateRawSync',
    make: () => ({
      compress: (raw) => zlib.deflateRawSync(raw, { level: 1 }),
      decompress: (c) => zlib.inflateRawSync(c),
    }),
  },
  {
    name: 'gzip-1',
    what: 'zlib.gzipSync level 1 / zlib.gunzipSync',
    make: () => ({
      compress: (raw) => zlib.gzipSync(raw, { level: 1 }),
      decompress: (c) => zlib.gunzipSync(c),
    }),
  },
  {
    name: 'brotli-1',
    what: 'zlib.brotliCompressSync BROTLI_PARAM_QUALITY 1 (and SIZE_HINT) / zlib.brotliDecompressSync',
    make: (size) => {
      const params = {
        [zlib.constants.BROTLI_PARAM_QUALITY]: 1,
        [zlib.constants.BROTLI_PARAM_SIZE_HINT]: size,
      };
      return {
        compress: (raw) => zlib.brotliCompressSync(raw, { params }),
        decompress: (c) => zlib.brotliDecompressSync(c),
      };
    },
  },
  {
    name: 'none',
    what: 'memcpy (Buffer.copy) into a preallocated buffer, both directions',
    make(size) {
      const a = Buffer.allocUnsafe(size);
      const b = Buffer.allocUnsafe(size);
      return {
        compress(raw) {
          raw.copy(a);
          return a;
        },
        decompress(c) {
          c.copy(b);
          return b;
        },
      };
    },
  },
];

// ---------------------------------------------------------------------------------------
// Measurement

/**
 * On-CPU and run-queue-wait nanoseconds of this thread (the main thread, where every codec
 * here runs) from /proc/self/task/<tid>/schedstat; undefined where there is no such file.
 */
/** Hypervisor steal and total ticks of all CPUs (/proc/stat), which schedstat counts as on-CPU. */
function cpuTicks() {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1);
    const n = f.map(Number);
    return { steal: n[7] ?? 0, total: n.reduce((a, b) => a + b, 0) };
  } catch {
    return undefined;
  }
}

const SCHEDSTAT = `/proc/self/task/${process.pid}/schedstat`;
function threadSched() {
  try {
    const [onCpu, waiting] = readFileSync(SCHEDSTAT, 'utf8').split(' ').map(Number);
    return { onCpu, waiting };
  } catch {
    return undefined;
  }
}

/**
 * Runs fn() until at least `seconds` of wall time passed; returns the sample and the last
 * output. gbps is over wall time; cpuGbps over the time this thread was on a CPU, which the
 * other tenants' load does not stretch (cache and memory-bandwidth contention it still shows).
 */
function timeLoop(fn, seconds, bytesPerOp) {
  const s0 = threadSched();
  const t0 = performance.now();
  const until = t0 + seconds * 1000;
  let ops = 0;
  let last;
  let now;
  do {
    last = fn();
    ops++;
    now = performance.now();
  } while (now < until);
  const s1 = threadSched();
  const wall = (now - t0) / 1000;
  const onCpu = s0 && s1 ? (s1.onCpu - s0.onCpu) / 1e9 : NaN;
  return {
    sample: {
      ops,
      seconds: wall,
      onCpuSeconds: onCpu,
      runQueueSeconds: s0 && s1 ? (s1.waiting - s0.waiting) / 1e9 : NaN,
      gbps: (ops * bytesPerOp) / wall / 1e9,
      cpuGbps: (ops * bytesPerOp) / onCpu / 1e9,
    },
    last,
  };
}

function mismatch(cell, direction, got, want) {
  let i = 0;
  const n = Math.min(got.length, want.length);
  while (i < n && got[i] === want[i]) i++;
  return new Error(
    `${cell.codec.name} on ${cell.kind.name}: round trip after ${direction} is not byte-exact ` +
      `(${got.length} bytes back for ${want.length}, first difference at byte ${i})`,
  );
}

/** One measurement of one direction of one cell, its output checked against the input. */
function measure(cell, direction, seconds) {
  const { raw, impl } = cell;
  if (direction === 'compress') {
    const { sample, last } = timeLoop(() => impl.compress(raw), seconds, raw.length);
    const back = impl.decompress(Buffer.from(last), raw.length);
    if (!back.equals(raw)) throw mismatch(cell, direction, back, raw);
    return sample;
  }
  const { sample, last } = timeLoop(
    () => impl.decompress(cell.compressed, raw.length),
    seconds,
    raw.length,
  );
  if (!last.equals(raw)) throw mismatch(cell, direction, last, raw);
  return sample;
}

function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      seconds: { type: 'string', default: '0.5' },
      runs: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '0.1' },
      size: { type: 'string', default: String(MiB) },
      codecs: { type: 'string', default: CODECS.map((c) => c.name).join(',') },
      results: { type: 'string', default: join(BENCH_DIR, 'results') },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const num = (name, ok) => {
    const n = Number(values[name]);
    if (!ok(n)) throw new Error(`--${name}: bad value ${values[name]}`);
    return n;
  };
  const names = values.codecs.split(',').map((s) => s.trim());
  const unknown = names.filter((n) => !CODECS.some((c) => c.name === n));
  if (unknown.length > 0) throw new Error(`--codecs: unknown ${unknown.join(', ')}`);
  return {
    seconds: num('seconds', (n) => n > 0),
    runs: num('runs', (n) => Number.isInteger(n) && n >= 1),
    warmup: num('warmup', (n) => n >= 0),
    size: num('size', (n) => Number.isInteger(n) && n >= 1),
    codecs: CODECS.filter((c) => names.includes(c.name)),
    resultsDir: resolve(values.results),
  };
}

const HEADER = [
  'codec',
  'data',
  'ratio',
  'compress GB/s',
  '±',
  'on-CPU',
  '±',
  'decompress GB/s',
  '±',
  'on-CPU',
  '±',
];
/** Half the range of the runs, in % of their median. */
const spread = (xs) =>
  `${((100 * (Math.max(...xs) - Math.min(...xs))) / 2 / median(xs)).toFixed(0)}%`;
const sum = (xs) => xs.reduce((a, b) => a + b, 0);

async function main() {
  const opts = parseOptions(process.argv.slice(2));
  const host = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryBytes: totalmem(),
    kernel: release(),
    node: process.version,
    zlib: process.versions.zlib,
    brotli: process.versions.brotli,
    lz4Package: LZ4_VERSION,
  };
  const load1Start = loadavg()[0];
  process.stderr.write(
    `codecs on ${opts.size}-byte inputs; ${host.cpus} CPU ${host.cpuModel}, Node ${host.node}, ` +
      `npm lz4 ${host.lz4Package}, zlib ${host.zlib}, brotli ${host.brotli}; load1 ${load1Start.toFixed(2)}\n` +
      `${opts.runs} runs x >= ${opts.seconds} s per codec, kind and direction, ` +
      `${opts.warmup} s warm-up each\n`,
  );

  // Cells: every codec on every kind, with its compressed form checked once up front.
  const inputs = KINDS.map((k) => ({ kind: k, raw: k.make(opts.size, prng(k.seed)) }));
  const cells = [];
  for (const codec of opts.codecs) {
    for (const { kind, raw } of inputs) {
      const impl = codec.make(opts.size);
      const compressed = Buffer.from(impl.compress(raw)); // a copy: `none` reuses its buffer
      const cell = {
        codec,
        kind,
        raw,
        impl,
        compressed,
        samples: { compress: [], decompress: [] },
      };
      const back = impl.decompress(compressed, raw.length);
      if (!back.equals(raw)) throw mismatch(cell, 'the first compression', back, raw);
      cells.push(cell);
    }
  }

  const started = performance.now();
  const ticks0 = cpuTicks();
  const jobs = cells.flatMap((cell) => ['compress', 'decompress'].map((dir) => [cell, dir]));
  if (opts.warmup > 0) {
    process.stderr.write('warm-up');
    for (const [cell, dir] of jobs) measure(cell, dir, opts.warmup);
    process.stderr.write(` done (${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
  }
  for (let run = 0; run < opts.runs; run++) {
    // Rotate the order each run so no cell always follows the same neighbour.
    const shift = Math.round((run * jobs.length) / opts.runs);
    const order = [...jobs.slice(shift), ...jobs.slice(0, shift)];
    for (const [cell, dir] of order) cell.samples[dir].push(measure(cell, dir, opts.seconds));
    const elapsed = (performance.now() - started) / 1000;
    const lz4Cells = cells.filter((c) => c.codec.name === 'lz4-block');
    process.stderr.write(
      `run ${run + 1}/${opts.runs} done at ${elapsed.toFixed(1)} s, load1 ${loadavg()[0].toFixed(2)}; lz4-block on-CPU ` +
        lz4Cells
          .map(
            (c) =>
              `${c.kind.name} ${fmt(c.samples.compress.at(-1).cpuGbps, 2)}/${fmt(c.samples.decompress.at(-1).cpuGbps, 2)}`,
          )
          .join(', ') +
        ' GB/s (compress/decompress)\n',
    );
  }

  const results = cells.map((cell) => {
    const m = (dir, key) => median(cell.samples[dir].map((x) => x[key]));
    return {
      codec: cell.codec.name,
      data: cell.kind.name,
      rawBytes: cell.raw.length,
      compressedBytes: cell.compressed.length,
      ratio: cell.compressed.length / cell.raw.length,
      median: {
        compressGbps: m('compress', 'gbps'),
        compressCpuGbps: m('compress', 'cpuGbps'),
        decompressGbps: m('decompress', 'gbps'),
        decompressCpuGbps: m('decompress', 'cpuGbps'),
      },
      samples: cell.samples,
    };
  });
  const rows = results.map((r, i) => {
    const xs = (dir, key) => cells[i].samples[dir].map((x) => x[key]);
    return [
      r.codec,
      r.data,
      fmt(r.ratio),
      fmt(r.median.compressGbps),
      spread(xs('compress', 'gbps')),
      fmt(r.median.compressCpuGbps),
      spread(xs('compress', 'cpuGbps')),
      fmt(r.median.decompressGbps),
      spread(xs('decompress', 'gbps')),
      fmt(r.median.decompressCpuGbps),
      spread(xs('decompress', 'cpuGbps')),
    ];
  });
  const ticks1 = cpuTicks();
  const steal =
    ticks0 && ticks1 ? (ticks1.steal - ticks0.steal) / (ticks1.total - ticks0.total) : NaN;
  const all = cells.flatMap((c) => [...c.samples.compress, ...c.samples.decompress]);
  const measured = sum(all.map((x) => x.seconds));
  const waited = sum(all.map((x) => x.runQueueSeconds)) / measured;
  process.stdout.write(
    `\nmedians of ${opts.runs} runs of >= ${opts.seconds} s on ${opts.size}-byte inputs ` +
      `(GB = 10⁹ bytes, one thread; compress counts input bytes, decompress output bytes;\n` +
      `GB/s over wall time, on-CPU over the time the thread ran; ratio = compressed/raw; ` +
      `± = half the range of the runs over the median)\n${formatTable(HEADER, rows)}\n` +
      `the thread waited for a CPU ${fmt(waited * 100, 0)}% of the measured time ` +
      `(load1 ${load1Start.toFixed(2)} at the start, ${loadavg()[0].toFixed(2)} at the end, ` +
      `${host.cpus} CPUs): wall-clock rates are low by about that share, on-CPU rates are not; ` +
      `hypervisor steal (counted as on-CPU) ${fmt(steal * 100, 1)}% of all CPU time\n`,
  );

  const path = await writeResults(opts.resultsDir, 'codec', {
    bench: 'codec',
    issue: 'lz4 blocks (npm lz4): measured against alternatives',
    finishedAt: new Date().toISOString(),
    host,
    load1: { start: load1Start, end: loadavg()[0] },
    setup: {
      inputBytes: opts.size,
      secondsPerMeasurement: opts.seconds,
      runs: opts.runs,
      warmupSeconds: opts.warmup,
      units:
        'GB/s = 1e9 bytes/s on one thread; compress counts input bytes, decompress output bytes; gbps over wall time, cpuGbps over the on-CPU time of the thread (/proc schedstat); ratio = compressed/raw',
      kinds: {
        terasort:
          '100-byte records: 10 random key bytes, 8-byte big-endian row id, 82 bytes of one letter (A..Z cycling)',
        json: 'newline-separated JSON event objects, values from small vocabularies and a seeded PRNG',
        random: 'seeded PRNG bytes (mulberry32), incompressible',
      },
      codecs: Object.fromEntries(opts.codecs.map((c) => [c.name, c.what])),
    },
    runQueueWaitShare: waited,
    stealShare: steal,
    results,
  });
  process.stdout.write(`results: ${path}\n`);
}

await main();
