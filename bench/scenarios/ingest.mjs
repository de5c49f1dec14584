// Scenarios 1–4, 6 and 7 of `npm run bench` (bench/README.md): the raw disk, push ingest with and
// without replication, reducers reading what was committed, ack latency under half load, and
// the batch size / partition count sweep. All of them push pre-built, incompressible 1 MiB
// (or --push-bytes) blocks from executor processes over the raw data protocol
// (bench/lib/executor.mjs), to worker processes of a ProcessCluster whose directories sit on
// the disk under test.
import { performance } from 'node:perf_hooks';
import { WorkerControlClient } from '../../dist/common/proto/worker-client.js';
import { measureDirectRead, measureDirectWrite } from '../lib/disk-baseline.mjs';
import { dropCaches } from '../lib/host.mjs';
import { processCpuSeconds } from '../lib/report.mjs';

/** Raw disk (scenario 1): O_DIRECT sequential write then read of `bytes` in `dir`. */
export async function measureDisk(dir, opts) {
  const write = await measureDirectWrite({
    dir,
    bytes: opts.bytes,
    bufferBytes: opts.diskBuffer,
    writesInFlight: opts.diskInflight,
    keep: true,
  });
  const read = await measureDirectRead({
    path: write.path,
    bytes: opts.bytes,
    bufferBytes: opts.diskBuffer,
    readsInFlight: opts.diskInflight,
  });
  return { writeGbps: write.gbps, readGbps: read.gbps, bytes: opts.bytes };
}

const controls = new Map();
/** The worker's control client, signing as a daemon and speaking TLS when `cluster` does. */
function control(cluster, worker) {
  const key = `127.0.0.1:${worker.controlPort}`;
  if (!controls.has(key))
    controls.set(
      key,
      new WorkerControlClient(key, {
        signer: cluster.signer,
        credentials: cluster.channelCredentials,
      }),
    );
  return controls.get(key);
}
export function closeControls() {
  for (const c of controls.values()) c.close();
  controls.clear();
}

let shuffles = 0;

/**
 * One ingest measurement (scenarios 2, 3, 6, 7): allocates a shuffle of `partitions`
 * partitions in one group on `workers` (1: replication off, 2: primary + replica), has every
 * executor push its share of `bytes`, commits on every worker, checks each committed exactly
 * `bytes`, optionally reads every partition back (scenario 4) and deletes the shuffle.
 * `ratePerSec` paces the pushes (open loop) and records each push's ack latency instead.
 * `ctx.dataAuth` (scenario 10: { credential, tls: { caFile, certFile, keyFile } }) is how the
 * executors open their data connections: the AUTH exchange as the app, TLS with those files.
 */
export async function measureIngest(ctx, p) {
  const { cluster, executors, appId } = ctx;
  const shuffleId = ++shuffles;
  const replicate = p.workers === 2;
  const perExec = ctx.opts.connections;
  const { groups } = await cluster.client.allocateShuffle({
    appId,
    shuffleId,
    numMappers: executors.size * perExec,
    numPartitions: p.partitions,
    replicate,
    maxPartitionsPerGroup: p.partitions,
  });
  const g = groups[0];
  if (groups.length !== 1 || (replicate && !g.replica))
    throw new Error(`expected one ${replicate ? 'replicated ' : ''}group, got ${groups.length}`);
  const workers = [g.primary, g.replica].filter(Boolean).map((a) => cluster.worker(a.workerId));
  const pushes = p.bytes / p.pushBytes;
  const group = {
    startPartition: g.startPartition,
    endPartition: g.endPartition,
    epoch: g.epoch,
    groupId: g.groupId,
  };
  const jobs = Array.from({ length: executors.size }, (_, i) => ({
    kind: 'push',
    ports: workers.map((w) => w.dataPort),
    connections: perExec,
    inflight: ctx.opts.inflight,
    pushes: Math.floor(pushes / executors.size) + (i < pushes % executors.size ? 1 : 0),
    pushBytes: p.pushBytes,
    mapIdBase: i * perExec,
    partitions: p.partitions,
    partitionOffset: Math.floor((i * p.partitions) / executors.size),
    ratePerSec: p.ratePerSec ? p.ratePerSec / executors.size : undefined,
    group,
    appId,
    shuffleId,
    auth: ctx.dataAuth,
  }));
  await executors.all(jobs);
  const cpu0 = workers.map((w) => processCpuSeconds(w.pid));
  const started = performance.now();
  const pushed = await executors.all(jobs.map(() => ({ kind: 'go' })));
  const acked = performance.now();
  const commits = await Promise.all(
    workers.map((w) => control(cluster, w).commitFiles({ appId, shuffleId })),
  );
  const committed = performance.now();
  const cpu1 = workers.map((w) => processCpuSeconds(w.pid));
  for (const [i, c] of commits.entries()) {
    const stored = c.files.reduce((n, f) => n + Number(f.length), 0);
    if (c.failed.length > 0 || stored !== p.bytes)
      throw new Error(
        `${workers[i].workerId}: ${c.failed.length} failed, ${stored} bytes committed of ${p.bytes}`,
      );
  }
  const seconds = (committed - started) / 1000;
  const out = {
    bytesIn: p.bytes,
    bytesCommitted: commits.map((c) => c.files.reduce((n, f) => n + Number(f.length), 0)),
    secondsToLastAck: (acked - started) / 1000,
    secondsToCommit: seconds,
    gbps: p.bytes / seconds / 1e9,
    workerCpuPct: workers.map((w, i) => ((cpu1[i] - cpu0[i]) / seconds) * 100),
    workerCpuSeconds: workers.map((w, i) => cpu1[i] - cpu0[i]),
    pusherCpuSeconds: pushed.reduce((n, r) => n + r.cpuSeconds, 0),
    latenciesMs: pushed.flatMap((r) => r.latencies ?? []),
  };
  if (p.readBack) {
    const parts = commits[0].files.map((f) => f.partition);
    out.read = await readBack(ctx, workers[0], group.epoch, parts, p.bytes, shuffleId);
  }
  await Promise.all(workers.map((w) => control(cluster, w).destroyShuffle({ appId, shuffleId })));
  return out;
}

/**
 * Scenario 4: every committed partition read back by the executors, caches dropped first, with
 * the library reader's fetch-and-verify code (bench/lib/executor.mjs `read`). CPU-seconds of
 * the worker process (all its threads, /proc) and of the executors' read jobs are recorded.
 */
async function readBack(ctx, worker, epoch, parts, committedBytes, shuffleId) {
  const { executors, appId } = ctx;
  const cachesDropped = await dropCaches();
  const cpu0 = processCpuSeconds(worker.pid);
  const started = performance.now();
  const results = await executors.all(
    Array.from({ length: executors.size }, (_, i) => ({
      kind: 'read',
      port: worker.dataPort,
      appId,
      shuffleId,
      epoch,
      partitions: parts.filter((_, j) => j % executors.size === i),
      streams: ctx.opts.readStreams,
      window: ctx.opts.fetchWindow,
      auth: ctx.dataAuth,
    })),
  );
  const seconds = (performance.now() - started) / 1000;
  const workerCpuSeconds = processCpuSeconds(worker.pid) - cpu0;
  const bytes = results.reduce((n, r) => n + r.bytes, 0);
  if (bytes !== committedBytes)
    throw new Error(`read back ${bytes} of ${committedBytes} committed bytes (verified blocks)`);
  const readerCpuSeconds = results.reduce((n, r) => n + r.cpuSeconds, 0);
  return {
    bytesOut: bytes,
    blocks: results.reduce((n, r) => n + r.blocks, 0),
    seconds,
    gbps: bytes / seconds / 1e9,
    cachesDropped,
    workerCpuSeconds,
    readerCpuSeconds,
    workerCpuSecondsPerGB: workerCpuSeconds / (bytes / 1e9),
    readerCpuSecondsPerGB: readerCpuSeconds / (bytes / 1e9),
  };
}
