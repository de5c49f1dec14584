// What a worker's commit costs per partition file (bench/README.md, "The commit, file by
// file"), without a cluster around it: one PartitionStore on one LocalDisk in this process,
// `--files` partitions of `--bytes` bytes each appended (a shuffle of many small partitions),
// then the commit timed: wall time and the process's CPU time (every thread: the event loop
// and libuv's pool). The files are checked afterwards (each data file has its length, each
// index decodes). `--dist` runs another build of the worker (a dist/ directory inside a
// checkout with node_modules and native/, for an A/B on the same machine); `--fallback` runs
// without the native addon.
//
//   npm run build && node bench/commit-files.mjs [--files 20000] [--bytes 40] [--runs 3]
//                                                [--fsync] [--fallback] [--dist DIR] [--dir DIR]
import { Buffer } from 'node:buffer';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { median } from './lib/report.mjs';

const { values: opt } = parseArgs({
  options: {
    files: { type: 'string', default: '20000' },
    bytes: { type: 'string', default: '40' },
    runs: { type: 'string', default: '3' },
    fsync: { type: 'boolean', default: false },
    fallback: { type: 'boolean', default: false },
    dist: { type: 'string', default: new URL('../dist', import.meta.url).pathname },
    dir: { type: 'string', default: tmpdir() },
  },
});
const files = Number(opt.files);
const bytes = Number(opt.bytes);
const runs = Number(opt.runs);
if (![files, bytes, runs].every((n) => Number.isInteger(n) && n > 0)) {
  console.error('--files, --bytes and --runs must be positive integers');
  process.exit(2);
}
const dist = pathToFileURL(resolve(opt.dist)).href;
const load = (path) => import(`${dist}/${path}`);
const { loadNative } = await load('common/native.js');
const { MemoryManager } = await load('worker/memory/memory-manager.js');
const { readIndexFile } = await load('worker/storage/index-file.js');
const { indexPath } = await load('worker/storage/layout.js');
const { LocalDisk } = await load('worker/storage/local-disk.js');
const { storeFixture } = await load('worker/storage/store-fixture.js');

async function run() {
  const root = mkdtempSync(join(opt.dir, 'sluice-commit-bench-'));
  const ops = loadNative({ disable: opt.fallback });
  const disk = new LocalDisk({
    dir: root,
    writesInFlight: 4,
    directIo: true,
    bufferBytes: 4 * 1024 * 1024,
    native: ops,
    syncMarkers: opt.fsync,
  });
  const { store } = storeFixture({
    storages: [disk],
    memory: new MemoryManager(2 * 1024 ** 3),
    chunkBytes: 8 * 1024 * 1024,
    fsyncOnCommit: opt.fsync,
    flushRatio: 1,
  });
  try {
    await store.accept('bench', 0);
    const slice = Buffer.alloc(bytes, 0x61);
    for (let p = 0; p < files; p++) {
      const r = store.append({ appId: 'bench', shuffleId: 0, partition: p, epoch: 0 }, slice);
      if (typeof r === 'string') throw new Error(`append: ${r}`);
    }
    const cpu = process.cpuUsage();
    const t = performance.now();
    const result = await store.commit('bench', 0);
    const ms = performance.now() - t;
    const { user, system } = process.cpuUsage(cpu);
    if (result.files.length !== files || result.failed.length > 0)
      throw new Error(`${result.files.length} committed, ${result.failed.length} failed`);
    for (const f of result.files) {
      if (statSync(f.location).size !== bytes) throw new Error(`${f.location}: wrong length`);
      const index = await readIndexFile(indexPath(root, f));
      if (index.fileLength !== bytes) throw new Error(`${f.location}: wrong index`);
    }
    return { ms, cpuMs: (user + system) / 1000 };
  } finally {
    await store.close();
    rmSync(root, { recursive: true, force: true });
  }
}

const results = [];
for (let i = 0; i < runs; i++) results.push(await run());
const wall = median(results.map((r) => r.ms));
const cpu = median(results.map((r) => r.cpuMs));
console.log(
  `${files} files of ${bytes} B, fsync ${opt.fsync ? 'on' : 'off'}, ${opt.fallback ? 'js fallback' : loadNative().kind}, ${opt.dist}: ` +
    `commit ${(wall / 1000).toFixed(2)} s wall (${((wall * 1000) / files).toFixed(0)} us/file), ` +
    `${(cpu / 1000).toFixed(2)} s CPU (${((cpu * 1000) / files).toFixed(0)} us/file); ` +
    `runs ${results.map((r) => (r.ms / 1000).toFixed(2)).join(' ')} s`,
);
