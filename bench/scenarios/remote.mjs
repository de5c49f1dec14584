// Scenario 8 of `npm run bench` (bench/README.md): the remote tiers. For HDFS and for S3, each
// started here from the test harnesses (dist/testing/hdfs.js: a MiniDFSCluster; dist/testing/
// ceph.js: Ceph's RADOS Gateway on memstore OSDs) and stopped at the end, every run measures
//
//   raw     the endpoint itself, from this process, with the request size and concurrency a
//           worker uses: HDFS, one file per partition, CREATE then APPENDs of
//           storage.remoteBufferBytes, storage.remoteWritesInFlight of them in flight, then
//           OPENs of worker.chunkBytes at offsets; S3, one multipart upload of
//           storage.s3.partBytes parts, storage.remoteWritesInFlight in flight, completed,
//           then ranged GETs of worker.chunkBytes. Reads run as many at once as the worker's
//           read server would have in flight for scenario 4's reducers. Same total bytes.
//   sluice  one remote-only worker (no --dir) on that tier, replication off: scenario 2's
//           pushes of pre-built blocks to a commit, then scenario 4's reducers reading every
//           committed partition back through the worker (measureIngest with readBack).
//
// The raw side goes through the clients the storage itself uses (WebHdfsClient over node:http;
// the S3 SDK client with the storage's settings, S3Requests), without Sluice's buffering,
// memory accounting, index or commit: what the endpoint gives a Node client. The order of raw
// and Sluice alternates between runs, so neither always meets a warmer endpoint. On S3, RGW's
// garbage collector is run after every measurement: the OSD holds 1 GiB in memory, and RGW
// would free deleted objects' data only hours later.
import { randomBytes } from 'node:crypto';
import { loadavg, userInfo } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { loadConfig } from '../../dist/common/config/index.js';
import { WebHdfsClient } from '../../dist/worker/storage/hdfs/webhdfs-client.js';
import { S3Requests } from '../../dist/worker/storage/s3/s3-requests.js';
import { cephAvailable, startCephRgw } from '../../dist/testing/ceph.js';
import { runTool } from '../../dist/testing/ceph-processes.js';
import { hdfsAvailable, startMiniHdfs } from '../../dist/testing/hdfs.js';
import { ProcessCluster } from '../../dist/testing/process-cluster.js';
import { dropCaches } from '../lib/host.mjs';
import { workerMemory } from '../lib/worker-memory.mjs';
import { measureIngest } from './ingest.mjs';

const BUCKET = 'sluice-bench';
/** The test Ceph's OSD keeps objects in memory: memstore_device_bytes (dist/testing/ceph.js). */
const MEMSTORE_BYTES = 1024 ** 3;
/** Distinct random request bodies the raw writes cycle through. */
const RAW_VARIANTS = 4;

/** The storage and read settings the worker will run with (defaults, then --set). */
export function remoteSettings(opts) {
  const overrides = {};
  for (const kv of opts.set) {
    const at = kv.indexOf('=');
    overrides[kv.slice(0, at)] = kv.slice(at + 1);
  }
  const c = loadConfig({ overrides });
  // Scenario 4's reducers: one connection per executor, readStreams × fetchWindow chunk
  // fetches wanted, at most worker.fetchWindow of them served at once per connection.
  const readsInFlight =
    opts.executors * Math.min(c['worker.fetchWindow'], opts.readStreams * opts.fetchWindow);
  return {
    bufferBytes: c['storage.remoteBufferBytes'],
    partBytes: c['storage.s3.partBytes'],
    writesInFlight: c['storage.remoteWritesInFlight'],
    chunkBytes: c['worker.chunkBytes'],
    readsInFlight,
  };
}

/** Why a tier cannot run here, or undefined. */
function unavailable(tier, opts) {
  if (tier === 'hdfs' && !hdfsAvailable())
    return 'HDFS launcher not built (run .ci/install-hdfs; needs java and maven)';
  if (tier === 's3' && !cephAvailable())
    return 'Ceph not installed (run .ci/install-ceph: ceph-mon, ceph-osd, radosgw)';
  // Raw and Sluice copies are never stored at once, but RGW frees deleted objects only when
  // its garbage collector runs; leave room for that and for the index and bucket pools.
  if (tier === 's3' && opts.remoteBytes > MEMSTORE_BYTES / 2)
    return `--remote-size ${Math.round(opts.remoteBytes / 2 ** 20)} MiB: the test Ceph's OSD holds ${Math.round(MEMSTORE_BYTES / 2 ** 20)} MiB in memory (at most half of it per measurement)`;
  return undefined;
}

/** `fn` over `items`, at most `limit` at once. */
async function lanes(items, limit, fn) {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
}

/** [offset, length] pieces of `size` bytes, `step` at a time. */
function pieces(size, step) {
  const out = [];
  for (let at = 0; at < size; at += step) out.push([at, Math.min(step, size - at)]);
  return out;
}

/** Bytes per file when `bytes` is split over `files` as evenly as whole 4 KiB pages allow. */
function fileSizes(bytes, files) {
  const each = Math.floor(bytes / files / 4096) * 4096;
  return Array.from({ length: files }, (_, i) => (i === files - 1 ? bytes - each * i : each));
}

/** CPU seconds of this process (user + system) since `from` (process.cpuUsage()). */
const cpuSince = (from) => {
  const u = process.cpuUsage(from);
  return (u.user + u.system) / 1e6;
};

function rate(bytes, t0, cpu0) {
  const seconds = (performance.now() - t0) / 1000;
  return {
    seconds,
    gbps: bytes / seconds / 1e9,
    clientCpuSecondsPerGB: cpuSince(cpu0) / (bytes / 1e9),
  };
}

/** Raw HDFS: one file per partition written CREATE + APPENDs, then ranged OPENs. */
async function rawHdfs(hdfs, s, p) {
  const client = new WebHdfsClient({
    baseUrl: hdfs.webhdfsUrl,
    user: process.env.HADOOP_USER_NAME || userInfo().username,
  });
  const dir = `/sluice-bench-raw/run-${p.run}`;
  const bodies = Array.from({ length: RAW_VARIANTS }, () => randomBytes(s.bufferBytes));
  const files = fileSizes(p.bytes, p.partitions).map((size, i) => ({
    path: `${dir}/${i}.data`,
    size,
  }));
  try {
    let n = 0;
    let t0 = performance.now();
    let cpu0 = process.cpuUsage();
    // A lane writes one file at a time, front to back: HDFS has one writer per file, and the
    // worker's files share its writesInFlight slots the same way.
    await lanes(files, s.writesInFlight, async (f) => {
      for (const [at, len] of pieces(f.size, s.bufferBytes)) {
        const body = [bodies[n++ % RAW_VARIANTS]];
        if (at === 0) await client.create(f.path, body, len, { overwrite: true });
        else await client.append(f.path, body, len, at);
      }
    });
    const write = rate(p.bytes, t0, cpu0);
    const cachesDropped = await dropCaches(); // the DataNode's blocks are files on this disk
    const reads = files.flatMap((f) => pieces(f.size, s.chunkBytes).map((r) => [f.path, ...r]));
    let got = 0;
    t0 = performance.now();
    cpu0 = process.cpuUsage();
    await lanes(reads, s.readsInFlight, async ([path, at, len]) => {
      const body = await client.open(path, at, len);
      if (body.length !== len) throw new Error(`HDFS OPEN ${path}@${at}: ${body.length} of ${len}`);
      got += body.length;
    });
    const read = rate(got, t0, cpu0);
    return { bytesIn: p.bytes, bytesOut: got, write, read, cachesDropped };
  } finally {
    await client.delete(dir, { recursive: true }).catch(() => undefined);
    client.close();
  }
}

/** Raw S3: one multipart upload of partBytes parts, completed, then ranged GETs. */
async function rawS3(rgw, s, p) {
  const requests = new S3Requests({
    bucket: BUCKET,
    endpoint: rgw.endpoint,
    region: rgw.region,
    forcePathStyle: true,
    credentials: { accessKeyId: rgw.accessKeyId, secretAccessKey: rgw.secretAccessKey },
    requestTimeoutMs: 60_000,
    retryBudgetMs: 120_000,
  });
  const { client } = requests;
  const Bucket = BUCKET;
  const Key = `raw/run-${p.run}.data`;
  const send = (what, command) =>
    requests.run(what, (abortSignal) => client.send(command, { abortSignal }));
  const bodies = Array.from({ length: RAW_VARIANTS }, () => randomBytes(s.partBytes));
  let UploadId;
  let completed = false;
  try {
    let t0 = performance.now();
    let cpu0 = process.cpuUsage();
    ({ UploadId } = await send(
      'CreateMultipartUpload',
      new CreateMultipartUploadCommand({ Bucket, Key }),
    ));
    const parts = pieces(p.bytes, s.partBytes).map(([, len], i) => ({ PartNumber: i + 1, len }));
    await lanes(parts, s.writesInFlight, async (part) => {
      const Body = bodies[part.PartNumber % RAW_VARIANTS].subarray(0, part.len);
      const out = await send(
        `UploadPart ${part.PartNumber}`,
        new UploadPartCommand({
          Bucket,
          Key,
          UploadId,
          PartNumber: part.PartNumber,
          Body,
          ContentLength: part.len,
        }),
      );
      part.ETag = out.ETag;
    });
    await send(
      'CompleteMultipartUpload',
      new CompleteMultipartUploadCommand({
        Bucket,
        Key,
        UploadId,
        MultipartUpload: { Parts: parts.map(({ PartNumber, ETag }) => ({ PartNumber, ETag })) },
      }),
    );
    completed = true;
    const write = rate(p.bytes, t0, cpu0);
    let got = 0;
    t0 = performance.now();
    cpu0 = process.cpuUsage();
    await lanes(pieces(p.bytes, s.chunkBytes), s.readsInFlight, async ([at, len]) => {
      const body = await requests.run(`GetObject ${at}`, async (abortSignal) => {
        const out = await client.send(
          new GetObjectCommand({ Bucket, Key, Range: `bytes=${at}-${at + len - 1}` }),
          { abortSignal },
        );
        return out.Body.transformToByteArray();
      });
      if (body.length !== len) throw new Error(`S3 GET ${Key}@${at}: ${body.length} of ${len}`);
      got += body.length;
    });
    const read = rate(got, t0, cpu0);
    return { bytesIn: p.bytes, bytesOut: got, write, read };
  } finally {
    const cleanup = completed
      ? new DeleteObjectCommand({ Bucket, Key })
      : UploadId && new AbortMultipartUploadCommand({ Bucket, Key, UploadId });
    if (cleanup) await send('cleanup', cleanup).catch(() => undefined);
    requests.destroy();
  }
}

/** The test endpoint of `tier`, and what the worker needs to use it. */
async function startEndpoint(tier) {
  const t0 = performance.now();
  if (tier === 'hdfs') {
    // One DataNode, replication 1: the bench compares the worker with a Node client of the
    // same endpoint; a second replica on loopback would only double the same disk's writes.
    const hdfs = await startMiniHdfs({ dataNodes: 1, replication: 1 });
    return {
      handle: hdfs,
      setup: { dataNodes: 1, replication: 1, blockSize: 'HDFS default (128 MiB)' },
      startSeconds: (performance.now() - t0) / 1000,
      workerConfig: { 'storage.remote': hdfs.url('sluice-bench') },
      workerEnv: {},
      raw: (s, p) => rawHdfs(hdfs, s, p),
      afterRun: async () => undefined,
    };
  }
  const rgw = await startCephRgw({ osds: 1 });
  try {
    await rgw.createBucket(BUCKET);
  } catch (err) {
    await rgw.close();
    throw err;
  }
  return {
    handle: rgw,
    setup: { osds: 1, objectStore: 'memstore', poolSize: 1 },
    startSeconds: (performance.now() - t0) / 1000,
    workerConfig: {
      'storage.remote': `s3://${BUCKET}/sluice`,
      'storage.s3.endpoint': rgw.endpoint,
      'storage.s3.region': rgw.region,
    },
    workerEnv: { AWS_ACCESS_KEY_ID: rgw.accessKeyId, AWS_SECRET_ACCESS_KEY: rgw.secretAccessKey },
    raw: (s, p) => rawS3(rgw, s, p),
    // RGW hands deleted objects' data to its garbage collector, which waits two hours by
    // default: collect now, or the memstore OSD fills up after a few runs.
    afterRun: () =>
      runTool(rgw.dir, 'radosgw-admin', [
        ...['-c', join(rgw.dir, 'ceph.conf'), 'gc', 'process', '--include-all'],
      ]),
  };
}

/** A one-worker cluster on the tier alone; `env` only while the worker process starts. */
async function startRemoteCluster(opts, endpoint) {
  const workerConfig = { 'worker.memoryBudgetBytes': opts.memoryBytes, ...endpoint.workerConfig };
  for (const kv of opts.set) {
    const at = kv.indexOf('=');
    workerConfig[kv.slice(0, at)] = kv.slice(at + 1);
  }
  // spawnWorker passes this process's environment on: the S3 credentials go in for the
  // spawn, as an operator's AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY would.
  const saved = Object.fromEntries(Object.keys(endpoint.workerEnv).map((k) => [k, process.env[k]]));
  Object.assign(process.env, endpoint.workerEnv);
  try {
    return await ProcessCluster.start({
      workers: 1,
      workerConfig,
      perWorkerDirs: { 'worker-1': [] }, // no --dir: a remote-only worker
    });
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** One tier: its endpoint and a remote-only worker up, `opts.runs` runs, both stopped. */
async function measureTier(ctx, tier, s) {
  const { opts, progress } = ctx;
  const label = tier === 'hdfs' ? 'HDFS' : 'S3';
  progress.step(`8 remote ${label}: starting the endpoint and a remote-only worker`, 1);
  const endpoint = await startEndpoint(tier);
  const out = { tier, setup: endpoint.setup, startSeconds: endpoint.startSeconds, runs: [] };
  let cluster;
  try {
    cluster = await startRemoteCluster(opts, endpoint);
    const c = { ...ctx, cluster };
    await cluster.client.registerApp({ appId: ctx.appId, name: `sluice bench (${label})` });
    const p = { bytes: opts.remoteBytes, partitions: opts.remotePartitions };
    for (let run = 1; run <= opts.runs; run++) {
      const r = { run, load1: loadavg()[0] };
      const order = run % 2 ? ['raw', 'sluice'] : ['sluice', 'raw'];
      for (const what of order) {
        if (what === 'raw') {
          progress.step(`8 remote ${label}: raw write + ranged read`, run);
          r.raw = await endpoint.raw(s, { ...p, run });
        } else {
          progress.step(`8 remote ${label}: Sluice ingest + read back`, run);
          r.ingest = await measureIngest(c, {
            workers: 1,
            bytes: p.bytes,
            pushBytes: opts.pushBytes,
            partitions: p.partitions,
            readBack: true,
          });
          const w = r.ingest;
          w.workerCpuSecondsPerGB =
            ((w.workerCpuPct[0] / 100) * w.secondsToCommit) / (w.bytesIn / 1e9);
        }
        await endpoint.afterRun();
      }
      out.runs.push(r);
    }
    ctx.res.memory.push(
      ...(await workerMemory(cluster, [8])).map((m) => ({
        ...m,
        workerId: `${m.workerId} (${tier})`,
      })),
    );
  } finally {
    await cluster?.close();
    await endpoint.handle.close();
  }
  return out;
}

/**
 * Scenario 8: every tier of `opts.remoteTiers`, one after the other (never both endpoints at
 * once on a small machine). A tier that cannot run here is recorded as skipped with the
 * reason; one that fails is recorded with its error and the others still run.
 */
export async function remoteScenario(ctx, res) {
  const s = remoteSettings(ctx.opts);
  res.remote = {
    settings: s,
    bytes: ctx.opts.remoteBytes,
    partitions: ctx.opts.remotePartitions,
    tiers: [],
  };
  for (const tier of ctx.opts.remoteTiers) {
    const skipped = unavailable(tier, ctx.opts);
    if (skipped) {
      res.remote.tiers.push({ tier, skipped });
      continue;
    }
    try {
      res.remote.tiers.push(await measureTier({ ...ctx, res }, tier, s));
    } catch (err) {
      res.remote.tiers.push({ tier, error: String(err?.stack ?? err) });
    }
  }
}
