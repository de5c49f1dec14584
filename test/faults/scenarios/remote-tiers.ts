// Remote tiers under faults (docs/architecture.md#storage-tiers, docs/architecture.md#storage-health,
// docs/architecture.md#restart-shutdown-and-decommission, docs/operations.md#remote-tiers):
// worker processes keeping partition files on a real HDFS (a MiniDFSCluster,
// src/testing/hdfs.ts) and a real S3 (Ceph RGW, src/testing/ceph.ts) behind `--remote`.
//
//   remoteOnlyWorkers  worker-1 HDFS-only, worker-2 S3-only, worker-3 a local disk: committed
//                      files are where the commit says (WebHDFS LISTSTATUS, ListObjectsV2);
//                      then a remote-only worker is killed -9 in the middle of the map stage.
//   remoteCrash(tier)  a remote-only worker killed -9 with files written but not committed
//                      (open HDFS files / unfinished multipart uploads), restarted with the same
//                      id and ports: its committed shuffle is served again, the other is lost
//                      (SHUFFLE_DATA_LOST, never served) and its remote data goes with the app.
//   diskFillsToRemote  a small local disk passes storage.diskHighWatermark: later files go to
//                      HDFS.
//   appExpiryRemote    an app on HDFS-only and S3-only workers expires: nothing of it is left
//                      on either tier, unfinished uploads included.
//
// Every job reads back exactly (harness.ts). HDFS and Ceph take ~10 s to start: a test file
// starts one of each (startRemoteTiers) and shares them (shareRemoteTiers) — each scenario
// run writes under a path and prefix of its own. A run without shared tiers (the chaos
// runner) starts what it needs and stops it afterwards.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ListMultipartUploadsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { CommitOutcome } from '../../../src/client/index.js';
import type { ConfigKey } from '../../../src/common/config/index.js';
import type { AppId, ShuffleId } from '../../../src/common/ids.js';
import { WorkerControlClient } from '../../../src/common/proto/worker-client.js';
import { cephAvailable, startCephRgw, type CephRgw } from '../../../src/testing/ceph.js';
import { hdfsAvailable, startMiniHdfs, type MiniHdfs } from '../../../src/testing/hdfs.js';
import type {
  ProcessCluster,
  ProcessClusterOptions,
} from '../../../src/testing/process-cluster.js';
import { RawDataClient } from '../../../src/testing/raw-data-client.js';
import { waitFor } from '../../../src/testing/wait-for.js';
import {
  appIdFor,
  check,
  FaultJob,
  record,
  resultOf,
  ScenarioAssertionError,
  withClosing,
  withCluster,
  withJob,
  type JobShape,
  type Scenario,
  type ScenarioResult,
} from '../harness.js';

type ConfigOverrides = Partial<Record<ConfigKey, unknown>>;
type Tier = 'hdfs' | 's3';

const MiB = 1024 * 1024;
/** S3's smallest part: a partition's first write to S3 (and its multipart upload) waits for this much. */
const S3_PART_BYTES = 5 * MiB;
/** HDFS appends of 64 KiB: a remote worker writes to HDFS during the map stage, not only at commit. */
const HDFS_WRITE_BYTES = 64 * 1024;
const HDFS_USER = 'sluice';
const BUCKET = 'sluice-faults';

// ---------------------------------------------------------------------------------------------
// The remote tiers: started once per test file, or per run.

export interface RemoteTiers {
  readonly hdfs: MiniHdfs | undefined;
  readonly ceph: CephRgw | undefined;
  /** The bucket every scenario writes in, each under a prefix of its own. */
  readonly bucket: string;
  close(): Promise<void>;
}

interface Needs {
  readonly hdfs?: boolean;
  readonly s3?: boolean;
}

/** Why scenarios needing these tiers cannot run here, or undefined. */
export function remoteTiersSkipReason(needs: Needs = { hdfs: true, s3: true }): string | undefined {
  const missing = [
    needs.hdfs && !hdfsAvailable() ? 'HDFS (the MiniDFSCluster launcher: .ci/install-hdfs)' : '',
    needs.s3 && !cephAvailable() ? 'Ceph RGW (.ci/install-ceph)' : '',
  ].filter(Boolean);
  return missing.length > 0 ? `not installed: ${missing.join(', ')}` : undefined;
}

/** Starts a MiniHdfs (one DataNode) and a Ceph RGW (one OSD) with the bucket, in parallel. */
export async function startRemoteTiers(
  needs: Needs = { hdfs: true, s3: true },
): Promise<RemoteTiers> {
  const [h, c] = await Promise.allSettled([
    needs.hdfs ? startMiniHdfs({ dataNodes: 1 }) : undefined,
    needs.s3
      ? startCephRgw().then(async (ceph) => {
          try {
            await ceph.createBucket(BUCKET);
            return ceph;
          } catch (err) {
            await ceph.close();
            throw err;
          }
        })
      : undefined,
  ]);
  const hdfs = h.status === 'fulfilled' ? h.value : undefined;
  const ceph = c.status === 'fulfilled' ? c.value : undefined;
  const close = async () => {
    await Promise.allSettled([hdfs?.close(), ceph?.close()]);
  };
  if (h.status === 'rejected' || c.status === 'rejected') {
    await close();
    throw h.status === 'rejected' ? h.reason : (c as PromiseRejectedResult).reason;
  }
  return { hdfs, ceph, bucket: BUCKET, close };
}

let shared: RemoteTiers | undefined;

/** Every later run uses `tiers` (undefined: each run starts its own). */
export function shareRemoteTiers(tiers: RemoteTiers | undefined): void {
  shared = tiers;
}

function withTiers<T>(needs: Needs, fn: (t: RemoteTiers) => Promise<T>): Promise<T> {
  if (shared && (!needs.hdfs || shared.hdfs) && (!needs.s3 || shared.ceph)) return fn(shared);
  return withClosing(() => startRemoteTiers(needs), fn);
}

let runs = 0;
/** A path / key prefix of its own for one scenario run. */
function runRoot(scenario: string): string {
  return `faults/${scenario}-${process.pid}-${++runs}-${randomBytes(3).toString('hex')}`;
}

// ---------------------------------------------------------------------------------------------
// Workers on a tier, and what is stored there.

interface WorkerSetup {
  readonly config: ConfigOverrides;
  readonly env?: Record<string, string>;
}

function tierWorker(t: RemoteTiers, tier: Tier, root: string): WorkerSetup {
  if (tier === 'hdfs') {
    return {
      config: {
        'storage.remote': t.hdfs!.url(root),
        'storage.hdfs.user': HDFS_USER,
        'storage.remoteBufferBytes': HDFS_WRITE_BYTES,
      },
    };
  }
  const ceph = t.ceph!;
  return {
    config: {
      'storage.remote': `s3://${t.bucket}/${root}`,
      'storage.s3.endpoint': ceph.endpoint,
      'storage.s3.region': ceph.region,
      'storage.s3.partBytes': S3_PART_BYTES,
    },
    // The worker's credentials come from the standard AWS environment variables.
    env: { AWS_ACCESS_KEY_ID: ceph.accessKeyId, AWS_SECRET_ACCESS_KEY: ceph.secretAccessKey },
  };
}

/** Cluster options with `remote` workers remote-only (no --dir) on their tiers. */
function clusterWith(
  t: RemoteTiers,
  root: string,
  remote: Readonly<Record<string, Tier>>,
  opts: ProcessClusterOptions,
): ProcessClusterOptions {
  const perWorkerConfig: Record<string, ConfigOverrides> = { ...opts.perWorkerConfig };
  const perWorkerDirs: Record<string, readonly string[]> = { ...opts.perWorkerDirs };
  const perWorkerEnv: Record<string, Record<string, string>> = {};
  for (const [id, tier] of Object.entries(remote)) {
    const w = tierWorker(t, tier, root);
    perWorkerConfig[id] = { ...w.config, ...perWorkerConfig[id] };
    perWorkerDirs[id] ??= [];
    if (w.env) perWorkerEnv[id] = w.env;
  }
  return {
    ...opts,
    // Predictable placement: every worker gets primaries and replicas.
    managerConfig: { 'manager.allocationPolicy': 'round-robin', ...opts.managerConfig },
    perWorkerConfig,
    perWorkerDirs,
    perWorkerEnv,
  };
}

/** A file as a tier lists it: its path or key under the listed prefix, and its size. */
interface Stored {
  readonly name: string;
  readonly bytes: number;
}

interface WebHdfsListing {
  FileStatuses: { FileStatus: { pathSuffix: string; type: string; length: number }[] };
}

/** Every file under `path`, recursively, by WebHDFS LISTSTATUS; [] when there is no `path`. */
async function hdfsFiles(hdfs: MiniHdfs, path: string): Promise<Stored[]> {
  const out: Stored[] = [];
  const walk = async (dir: string): Promise<void> => {
    const res = await fetch(
      `${hdfs.webhdfsUrl}/webhdfs/v1${dir}?op=LISTSTATUS&user.name=${HDFS_USER}`,
    );
    if (res.status === 404) {
      await res.body?.cancel();
      return;
    }
    if (!res.ok) throw new Error(`LISTSTATUS ${dir}: HTTP ${res.status} ${await res.text()}`);
    const listing = (await res.json()) as WebHdfsListing;
    for (const s of listing.FileStatuses.FileStatus) {
      const p = `${dir}/${s.pathSuffix}`;
      if (s.type === 'DIRECTORY') await walk(p);
      else out.push({ name: p.slice(path.length + 1), bytes: s.length });
    }
  };
  await walk(path);
  return out;
}

async function withS3<T>(t: RemoteTiers, fn: (s3: S3Client) => Promise<T>): Promise<T> {
  const ceph = t.ceph!;
  const s3 = new S3Client({
    endpoint: ceph.endpoint,
    region: ceph.region,
    forcePathStyle: true,
    credentials: { accessKeyId: ceph.accessKeyId, secretAccessKey: ceph.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  try {
    return await fn(s3);
  } finally {
    s3.destroy();
  }
}

/** Every object under `prefix/` (ListObjectsV2), names relative to it. */
function s3Objects(t: RemoteTiers, prefix: string): Promise<Stored[]> {
  return withS3(t, async (s3) => {
    const out: Stored[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({
          Bucket: t.bucket,
          Prefix: `${prefix}/`,
          ContinuationToken: token,
        }),
      );
      for (const o of page.Contents ?? [])
        out.push({ name: o.Key!.slice(prefix.length + 1), bytes: o.Size ?? 0 });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  });
}

/** Keys (relative to `prefix/`) with a multipart upload begun and neither completed nor aborted. */
function s3Uploads(t: RemoteTiers, prefix: string): Promise<string[]> {
  return withS3(t, async (s3) => {
    const out: string[] = [];
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (;;) {
      const page = await s3.send(
        new ListMultipartUploadsCommand({
          Bucket: t.bucket,
          Prefix: `${prefix}/`,
          KeyMarker: keyMarker,
          UploadIdMarker: uploadIdMarker,
        }),
      );
      for (const u of page.Uploads ?? []) out.push(u.Key!.slice(prefix.length + 1));
      if (!page.IsTruncated) return out;
      keyMarker = page.NextKeyMarker;
      uploadIdMarker = page.NextUploadIdMarker;
    }
  });
}

/** What a worker keeps on its tier under `<root>/<workerId>/<sub>`: files, and unfinished uploads. */
async function storedUnder(
  t: RemoteTiers,
  tier: Tier,
  root: string,
  workerId: string,
  sub: string,
): Promise<{ files: Stored[]; uploads: string[] }> {
  const path = `${root}/${workerId}/${sub}`;
  if (tier === 'hdfs') return { files: await hdfsFiles(t.hdfs!, `/${path}`), uploads: [] };
  const [files, uploads] = await Promise.all([s3Objects(t, path), s3Uploads(t, path)]);
  return { files, uploads };
}

/** The URL prefix of a worker's shuffle directory on its tier. */
function tierPrefix(t: RemoteTiers, tier: Tier, root: string, workerId: string, appId: string) {
  const dir = `${root}/${workerId}/${appId}/0/`;
  return tier === 'hdfs' ? t.hdfs!.url(dir) : `s3://${t.bucket}/${dir}`;
}

interface Replica {
  readonly partition: number;
  readonly epoch: number;
  readonly path: string;
  readonly length: number;
}

/** The committed files a worker holds, as the commit outcome lists them. */
function replicasOn(outcome: CommitOutcome, workerId: string): Replica[] {
  const out: Replica[] = [];
  for (const [partition, epochs] of outcome.files)
    for (const [epoch, replicas] of epochs)
      for (const r of replicas)
        if (r.worker?.workerId === workerId)
          out.push({ partition, epoch, path: r.path ?? '', length: Number(r.length ?? 0) });
  return out;
}

/**
 * The worker's committed files of the job are on its tier: the commit lists them under the
 * worker's prefix, and the tier holds each `.data` with the committed length, its `.index`
 * and the shuffle's COMMITTED marker. Returns how many.
 */
async function checkCommittedOnTier(
  t: RemoteTiers,
  tier: Tier,
  root: string,
  workerId: string,
  job: FaultJob,
  outcome: CommitOutcome,
): Promise<number> {
  const replicas = replicasOn(outcome, workerId);
  check(replicas.length > 0, `${workerId} (${tier}-only) committed no file of ${job.appId}`);
  const prefix = tierPrefix(t, tier, root, workerId, job.appId);
  const stored = new Map(
    (await storedUnder(t, tier, root, workerId, `${job.appId}/0`)).files.map((f) => [
      f.name,
      f.bytes,
    ]),
  );
  check(stored.has('COMMITTED'), `no COMMITTED marker of ${job.appId} on ${workerId}'s ${tier}`);
  for (const r of replicas) {
    const base = `${r.partition}-${r.epoch}`;
    check(
      r.path === `${prefix}${base}.data`,
      `${workerId}'s file ${base} is at ${r.path}, not on its ${tier} tier under ${prefix}`,
    );
    check(
      stored.get(`${base}.data`) === r.length,
      `${tier}: ${base}.data of ${workerId} is ${stored.get(`${base}.data`)} bytes, committed ${r.length}`,
    );
    check(stored.has(`${base}.index`), `${tier}: no ${base}.index of ${workerId}`);
  }
  return replicas.length;
}

function sumResults(results: readonly ScenarioResult[], measures: ScenarioResult['measures']) {
  return {
    bytesVerified: results.reduce((n, r) => n + r.bytesVerified, 0),
    recordsVerified: results.reduce((n, r) => n + r.recordsVerified, 0),
    failedTasks: results.reduce((n, r) => n + r.failedTasks, 0),
    measures,
  };
}

/** Waits for `condition`; on a timeout the scenario fails with `detail()` (what is left). */
async function waitUntil(
  condition: () => Promise<boolean>,
  what: string,
  timeoutMs: number,
  detail: () => string,
): Promise<void> {
  try {
    await waitFor(condition, { timeoutMs, intervalMs: 100, what });
  } catch (err) {
    throw new ScenarioAssertionError(`${(err as Error).message}; ${detail()}`);
  }
}

const groupsOn = (job: FaultJob, workerId: string) =>
  job
    .driver!.shuffle(0)
    .groups.filter((g) => g.primary?.workerId === workerId || g.replica?.workerId === workerId);

// ---------------------------------------------------------------------------------------------
// 1. Remote-only workers.

export const remoteOnlyWorkers: Scenario = {
  name: 'remote-only workers (HDFS-only, S3-only, one disk), one killed -9 mid-map',
  skipReason: () => remoteTiersSkipReason(),
  run: (shape) =>
    withTiers({ hdfs: true, s3: true }, (t) => {
      const root = runRoot('remote-only');
      const tiers: Record<string, Tier> = { 'worker-1': 'hdfs', 'worker-2': 's3' };
      return withCluster(clusterWith(t, root, tiers, { workers: 3 }), async (cluster) => {
        const t0 = Date.now();
        // A clean job: each remote-only worker's committed files are on its tier.
        const clean = await withJob(
          cluster.managerAddress,
          'remote-only',
          { shape, client: { compression: 'none' } },
          async (job) => {
            await job.runMaps();
            const outcome = await job.commit();
            check(outcome.lost.length === 0, `lost partitions ${outcome.lost.join(',')}`);
            check(
              outcome.failedWorkers.size === 0,
              `commits failed: ${[...outcome.failedWorkers].join('; ')}`,
            );
            const onHdfs = await checkCommittedOnTier(t, 'hdfs', root, 'worker-1', job, outcome);
            const onS3 = await checkCommittedOnTier(t, 's3', root, 'worker-2', job, outcome);
            const disk = cluster.workerDirs('worker-3')[0]!;
            const local = replicasOn(outcome, 'worker-3');
            check(
              local.length > 0 && local.every((r) => r.path.startsWith(`${disk}/`)),
              `worker-3's files are not on its disk: ${local.map((r) => r.path).join(', ')}`,
            );
            return { onHdfs, onS3, result: resultOf(job, await job.readAndVerify()) };
          },
        );
        const cleanMs = Date.now() - t0;
        // The HDFS-only worker killed -9 a third into the map stage: the replicas carry its data.
        const killed = await withJob(
          cluster.managerAddress,
          'remote-only-kill',
          { shape, client: { compression: 'none' } },
          async (job) => {
            const victim = cluster.worker('worker-1');
            check(groupsOn(job, victim.workerId).length > 0, 'the victim holds no group');
            await job.runMaps(async (done) => {
              if (done === Math.ceil(shape.maps / 3)) await victim.stop('SIGKILL');
            });
            const outcome = await job.commit();
            check(outcome.lost.length === 0, `lost partitions ${outcome.lost.join(',')}`);
            check(outcome.failedWorkers.has(victim.workerId), 'the killed worker committed');
            check(
              job.driver!.shuffle(0).groups.some((g) => g.epoch > 0),
              'no group moved off the killed worker',
            );
            // The S3-only worker carried on.
            await checkCommittedOnTier(t, 's3', root, 'worker-2', job, outcome);
            return { appId: job.appId, result: resultOf(job, await job.readAndVerify()) };
          },
        );
        const killMs = Date.now() - t0 - cleanMs;
        // The app ended: the live S3-only worker deletes its files of it. What the dead worker
        // wrote under its own HDFS prefix stays: only a worker with its id deletes there.
        let left: Stored[] = [];
        await waitUntil(
          async () =>
            (left = (await storedUnder(t, 's3', root, 'worker-2', killed.appId)).files).length ===
            0,
          `worker-2 to delete its files of the ended app ${killed.appId}`,
          15_000,
          () => `left: ${left.map((f) => f.name).join(', ')}`,
        );
        const orphans = await storedUnder(t, 'hdfs', root, 'worker-1', killed.appId);
        return sumResults([clean.result, killed.result], {
          committedOnHdfs: clean.onHdfs,
          committedOnS3: clean.onS3,
          cleanJobMs: cleanMs,
          killJobMs: killMs,
          deadWorkerFilesLeftOnHdfs: orphans.files.length,
        });
      });
    }),
};

// ---------------------------------------------------------------------------------------------
// 2. Crash safety on the remote tiers.

/**
 * Job B's shape: three partitions in three one-partition groups, so with three workers each is
 * a primary (the victim holds data). On S3 a partition's first write is a whole part, so B
 * carries enough that every partition passes a part before its last map.
 */
function crashShape(shape: JobShape, tier: Tier): JobShape {
  const partitions = 3;
  const meanRecordBytes = 16 + 284 / 2;
  const recordsPerMap =
    tier === 'hdfs'
      ? shape.recordsPerMap
      : Math.ceil((1.2 * S3_PART_BYTES * partitions) / ((shape.maps - 1) * meanRecordBytes));
  return { ...shape, partitions, maxPartitionsPerGroup: 1, recordsPerMap };
}

/** The victim's uncommitted files of a shuffle on its tier, written and not committed. */
function uncommitted(stored: { files: Stored[]; uploads: string[] }, tier: Tier): string[] {
  const names = new Set(stored.files.map((f) => f.name));
  if (names.has('COMMITTED') || [...names].some((n) => n.endsWith('.index'))) return [];
  if (tier === 's3') return stored.uploads;
  return stored.files.filter((f) => f.name.endsWith('.data') && f.bytes > 0).map((f) => f.name);
}

function remoteCrash(tier: Tier): Scenario {
  const what = tier === 'hdfs' ? 'uncommitted HDFS files' : 'unfinished multipart uploads';
  return {
    name: `${tier.toUpperCase()}-only worker kill -9 with ${what}, restarted`,
    skipReason: () => remoteTiersSkipReason(tier === 'hdfs' ? { hdfs: true } : { s3: true }),
    run: (shape) =>
      withTiers(tier === 'hdfs' ? { hdfs: true } : { s3: true }, (t) => {
        const root = runRoot(`crash-${tier}`);
        const victimId = 'worker-1';
        const opts = clusterWith(t, root, { [victimId]: tier }, { workers: 3 });
        return withCluster(opts, (cluster) =>
          withJob(
            cluster.managerAddress,
            `crash-${tier}-a`,
            { shape, client: { compression: 'none' } },
            async (a) => {
              // A: committed on the victim before the kill.
              await a.runMaps();
              const aOutcome = await a.commit();
              check(aOutcome.lost.length === 0, `A: lost partitions ${aOutcome.lost.join(',')}`);
              await checkCommittedOnTier(t, tier, root, victimId, a, aOutcome);
              const aResult = resultOf(a, await a.readAndVerify());

              const bShape = crashShape(shape, tier);
              const all = Array.from({ length: bShape.maps }, (_, m) => m);
              let bAppId = '';
              let killedAt = 0;
              let restartMs = 0;
              let halfWritten: string[] = [];
              let refusal = '';
              const bResult = await withJob(
                cluster.managerAddress,
                `crash-${tier}-b`,
                { shape: bShape, client: { compression: 'none', pushBatchBytes: 256 * 1024 } },
                async (b) => {
                  bAppId = b.appId;
                  const victimGroups = groupsOn(b, victimId);
                  check(victimGroups.length > 0, 'B: the victim holds no group');
                  // Every map but the last: the driver does not commit yet.
                  await b.runMaps(undefined, all.slice(0, -1));
                  await waitFor(
                    async () =>
                      (halfWritten = uncommitted(
                        await storedUnder(t, tier, root, victimId, `${b.appId}/0`),
                        tier,
                      )).length > 0,
                    { timeoutMs: 20_000, what: `B's ${what} on the victim's ${tier}` },
                  );
                  const victim = cluster.worker(victimId);
                  await victim.stop('SIGKILL');
                  killedAt = Date.now();
                  const restarted = await cluster.startWorker(victimId, { samePorts: true });
                  restartMs = Date.now() - killedAt;
                  await waitFor(
                    () =>
                      restarted.output.some(
                        (l) => l.includes('marked lost') && l.includes(b.appId),
                      ),
                    { timeoutMs: 10_000, what: 'the restarted victim to mark B lost' },
                  );
                  await cluster.waitForWorkers(3);
                  // The last map: the victim answers its pushes HARD_SPLIT, its groups move.
                  await b.runMaps(undefined, all.slice(-1));
                  const outcome = await b.commit();
                  check(outcome.lost.length === 0, `B: lost partitions ${outcome.lost.join(',')}`);
                  refusal = outcome.failedWorkers.get(victimId) ?? '';
                  check(refusal !== '', "B: the restarted victim's commit did not fail");
                  // The same CommitFiles again, its error code seen.
                  const control = new WorkerControlClient(`127.0.0.1:${restarted.controlPort}`);
                  const code = await control
                    .commitFiles({ appId: b.appId, shuffleId: 0 })
                    .then(
                      () => 'committed',
                      (err: { code?: string }) => err.code ?? String(err),
                    )
                    .finally(() => control.close());
                  check(
                    code === 'SLUICE_ERR_SHUFFLE_DATA_LOST',
                    `B: the restarted victim's commit answered ${code} (${refusal}), not SHUFFLE_DATA_LOST`,
                  );
                  check(
                    replicasOn(outcome, victimId).length === 0,
                    'B: the commit lists a file of the restarted victim',
                  );
                  // Nothing half-written is served: the victim refuses to open B's files.
                  const c = await RawDataClient.connect('127.0.0.1', restarted.dataPort);
                  try {
                    for (const g of victimGroups) {
                      const opened = await c
                        .openStream({
                          appId: b.appId as AppId,
                          shuffleId: 0 as ShuffleId,
                          partition: g.startPartition,
                          epoch: g.epoch,
                          startChunk: 0,
                        })
                        .then(
                          () => true,
                          () => false,
                        );
                      check(!opened, `B: the victim opened partition ${g.startPartition}`);
                    }
                  } finally {
                    await c.close();
                  }
                  return resultOf(b, await b.readAndVerify());
                },
              );
              // B's app ended (its driver unregistered): the victim deletes what it left.
              const endedAt = Date.now();
              let left = { files: [] as Stored[], uploads: [] as string[] };
              await waitUntil(
                async () => {
                  left = await storedUnder(t, tier, root, victimId, bAppId);
                  return left.files.length === 0 && left.uploads.length === 0;
                },
                `B's files and uploads under ${root}/${victimId} to be deleted`,
                20_000,
                () =>
                  `left: ${[...left.files.map((f) => f.name), ...left.uploads.map((u) => `upload ${u}`)].join(', ')}`,
              );
              const deleteMs = Date.now() - endedAt;

              // A is served again by the restarted victim: with every other holder dead, its
              // partitions on the victim read back exactly.
              const mine = [...new Set(replicasOn(aOutcome, victimId).map((r) => r.partition))];
              await Promise.all(
                [...cluster.workers.keys()]
                  .filter((id) => id !== victimId)
                  .map((id) => cluster.worker(id).stop('SIGKILL')),
              );
              const v = a.verify(await a.read({ partitions: mine }), mine);
              check(v.records > 0, 'A: no record read from the restarted victim');
              return sumResults([aResult, bResult], {
                halfWrittenBeforeKill: halfWritten.length,
                restartMs,
                deleteAfterAppEndMs: deleteMs,
                servedAgainRecords: v.records,
                victimCommitAnswer: refusal.slice(0, 160),
                recordsPerMapB: bShape.recordsPerMap,
              });
            },
          ),
        );
      }),
  };
}

export const remoteCrashHdfs = remoteCrash('hdfs');
export const remoteCrashS3 = remoteCrash('s3');

// ---------------------------------------------------------------------------------------------
// 3. A local disk fills up: new files go to the remote tier.

function mountTmpfs(bytes: number): { dir: string; unmount(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-fill-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    dir,
    unmount() {
      execFileSync('umount', [dir], { stdio: 'pipe' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let tmpfsProbe: string | undefined | null = null;
function tmpfsSkipReason(): string | undefined {
  if (tmpfsProbe !== null) return tmpfsProbe;
  try {
    mountTmpfs(64 * 1024).unmount();
    tmpfsProbe = undefined;
  } catch (err) {
    tmpfsProbe = `cannot mount a tmpfs here (needs root): ${String(err).split('\n')[0]}`;
  }
  return tmpfsProbe;
}

const EPOCH_ROTATE_BYTES = 16 * 1024;

/** Bytes of records the job's winners write (every map's attempt 0). */
function jobBytes(shape: JobShape): number {
  let bytes = 0;
  for (let m = 0; m < shape.maps; m++)
    for (let i = 0; i < shape.recordsPerMap; i++)
      bytes += record(m, 0, i, shape.partitions).bytes.length;
  return bytes;
}

/** Used share of a filesystem, as a worker measures its disk (storage-health.ts). */
function usedShare(dir: string): number {
  const { bavail, blocks } = statfsSync(dir);
  return 1 - bavail / blocks;
}

/** HDFS's used share, as the worker's HDFS storage measures it (WebHDFS op=GETSTATUS). */
async function hdfsUsedShare(hdfs: MiniHdfs): Promise<number> {
  const res = await fetch(`${hdfs.webhdfsUrl}/webhdfs/v1/?op=GETSTATUS&user.name=${HDFS_USER}`);
  if (!res.ok) throw new Error(`GETSTATUS: HTTP ${res.status} ${await res.text()}`);
  const { FsStatus: s } = (await res.json()) as {
    FsStatus: { capacity: number; remaining: number };
  };
  return s.capacity > 0 ? 1 - s.remaining / s.capacity : 0;
}

/**
 * worker-2 has one small disk (a tmpfs) and HDFS behind it. Other data takes the disk to a
 * quarter of worker-2's share below storage.diskHighWatermark, so the worker's own writes
 * pass it in the first maps, leaving room for what the files then open on the disk still
 * get. The maps run a batch at a time until the disk is past the watermark; once the worker
 * reports it high-usage, the rest run: files rotate every 16 KiB on every worker (SOFT_SPLIT),
 * so groups keep moving back onto worker-2, whose new files go to HDFS.
 *
 * The watermark is the local disks' alone: HDFS's usage (its whole cluster's; for MiniHdfs the
 * host disk under the temp dir) does not make it high-usage. Both variants run: the watermark
 * below HDFS's usage (diskFillsHdfsAboveWatermark, the regression: HDFS used to count as
 * high-usage too, and the filling disk, preferred among equals, kept every new file) and above
 * it (diskFillsToRemote).
 */
function diskFills(hdfsAboveWatermark: boolean): Scenario {
  return {
    name: hdfsAboveWatermark
      ? 'local disk past its high watermark, HDFS fuller than the watermark: new files go to HDFS'
      : 'local disk past its high watermark: new files go to HDFS',
    skipReason: () => remoteTiersSkipReason({ hdfs: true }) ?? tmpfsSkipReason(),
    run: (shape) => diskFillsRun(shape, hdfsAboveWatermark),
  };
}

/** The watermark: above or below HDFS's own usage by at least 5 points, 0.5 when that will do. */
function watermarkFor(hdfsUsed: number, hdfsAboveWatermark: boolean): number {
  const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
  const where = `MiniHdfs keeps its blocks on the host disk under ${tmpdir()}`;
  if (hdfsAboveWatermark) {
    const w = Math.min(0.5, Math.floor((hdfsUsed - 0.05) * 20) / 20);
    check(w >= 0.05, `HDFS is only ${pct(hdfsUsed)} used (${where}): no watermark below it`);
    return w;
  }
  const w = Math.max(0.5, Math.ceil((hdfsUsed + 0.05) * 20) / 20);
  check(w <= 0.95, `HDFS is ${pct(hdfsUsed)} used (${where}): no watermark above it`);
  return w;
}

export const diskFillsToRemote = diskFills(false);
export const diskFillsHdfsAboveWatermark = diskFills(true);

function diskFillsRun(shape: JobShape, hdfsAboveWatermark: boolean): Promise<ScenarioResult> {
  return withTiers({ hdfs: true }, async (t) => {
    const root = runRoot('disk-fills');
    const hdfsUsed = await hdfsUsedShare(t.hdfs!);
    const watermark = watermarkFor(hdfsUsed, hdfsAboveWatermark);
    // worker-2 holds about two thirds of the data (two copies on three workers).
    const share = (jobBytes(shape) * 2) / 3;
    // At least 1 MiB above the watermark: room for the files open on the disk.
    const tmpfsBytes = Math.max(4 * MiB, Math.ceil(MiB / (1 - watermark) / 65_536) * 65_536);
    const fs = mountTmpfs(tmpfsBytes);
    try {
      const disk = join(fs.dir, 'd0');
      mkdirSync(disk);
      const filler = Math.max(0, Math.floor(watermark * tmpfsBytes - share / 4));
      writeFileSync(join(fs.dir, 'other-data'), Buffer.alloc(filler));
      const opts = clusterWith(
        t,
        root,
        {},
        {
          workers: 3,
          // Every worker rotates its files often, not only worker-2: a group that rotated
          // off worker-2 would otherwise stay off it for good, and groups drained away from
          // worker-2 before the switch (a CI run had none left to rotate after it).
          workerConfig: { 'worker.epochRotateBytes': EPOCH_ROTATE_BYTES },
          perWorkerDirs: { 'worker-2': [disk] },
          perWorkerConfig: {
            'worker-2': {
              ...tierWorker(t, 'hdfs', root).config,
              'storage.diskHighWatermark': watermark,
              'storage.probeIntervalMs': 200,
              'worker.flushBytes': 16 * 1024,
            },
          },
        },
      );
      return await withCluster(opts, (cluster) =>
        withJob(
          cluster.managerAddress,
          'disk-fills',
          { shape, client: { compression: 'none' } },
          async (job) => {
            const victim = cluster.worker('worker-2');
            const all = Array.from({ length: shape.maps }, (_, m) => m);
            let next = 0;
            while (next < all.length && usedShare(disk) <= watermark) {
              const batch = all.slice(next, next + shape.concurrency);
              await job.runMaps(undefined, batch);
              next += batch.length;
            }
            const usedAtSwitch = usedShare(disk);
            check(
              usedAtSwitch > watermark,
              `worker-2's disk never passed its watermark: ${(usedAtSwitch * 100).toFixed(0)}% used`,
            );
            check(next < all.length, 'the disk passed its watermark only with the last maps');
            await waitUntil(
              async () =>
                victim.output.some(
                  (l) =>
                    l.includes('storage not healthy') &&
                    l.includes('"to":"high-usage"') &&
                    l.includes(disk),
                ),
              'worker-2 to log its disk high-usage',
              5_000,
              () =>
                `its storage log:\n${victim.output
                  .filter((l) => l.includes('storage') || l.includes('failed'))
                  .slice(-20)
                  .join('\n')}`,
            );
            // Epochs from here on are files the worker creates after reporting its disk.
            const switchEpoch = (partition: number) =>
              job
                .driver!.shuffle(0)
                .groups.find((g) => g.startPartition <= partition && partition < g.endPartition)!
                .epoch;
            const epochsAtSwitch = Array.from({ length: shape.partitions }, (_, p) =>
              switchEpoch(p),
            );
            await job.runMaps(undefined, all.slice(next));
            const outcome = await job.commit();
            check(outcome.lost.length === 0, `lost partitions ${outcome.lost.join(',')}`);
            check(
              outcome.failedWorkers.size === 0,
              `commits failed: ${[...outcome.failedWorkers].join('; ')}`,
            );
            const files = replicasOn(outcome, victim.workerId);
            const local = files.filter((f) => f.path.startsWith(`${disk}/`));
            const remote = files.filter((f) =>
              f.path.startsWith(tierPrefix(t, 'hdfs', root, victim.workerId, job.appId)),
            );
            check(local.length > 0, 'worker-2 committed no file on its disk');
            check(
              remote.length > 0,
              `worker-2 committed no file on HDFS after its disk filled (${local.length} on the disk, now ${(usedShare(disk) * 100).toFixed(0)}% used); its storage states:\n${victim.output
                .filter((l) => l.includes('"storage not healthy'))
                .join('\n')}`,
            );
            check(
              local.length + remote.length === files.length,
              `worker-2 committed files elsewhere: ${files.map((f) => f.path).join(', ')}`,
            );
            // Files of epochs newer than the driver knew at the switch were created after it,
            // and must all be on HDFS. A loaded machine may give worker-2 none of them (its
            // groups rotated away first): the HDFS files above still show the switch, and
            // filesAfterSwitch reports how many files this check saw.
            const later = files.filter((f) => f.epoch > epochsAtSwitch[f.partition]!);
            const misplaced = later.filter((f) => !remote.includes(f));
            check(
              misplaced.length === 0,
              `files worker-2 created after reporting its disk high-usage are not on HDFS: ${misplaced.map((f) => f.path).join(', ')}`,
            );
            const count = (text: string) => victim.output.filter((l) => l.includes(text)).length;
            const result = resultOf(job, await job.readAndVerify());
            return {
              ...result,
              measures: {
                watermark,
                hdfsUsed: Number(hdfsUsed.toFixed(2)),
                tmpfsBytes,
                mapsBeforeWatermark: next,
                diskUsedAtSwitch: Number(usedAtSwitch.toFixed(2)),
                diskUsedAtEnd: Number(usedShare(disk).toFixed(2)),
                filesOnDisk: local.length,
                filesOnHdfs: remote.length,
                filesAfterSwitch: later.length,
                writeFailures: count('partition file write failed'),
                commitFailures: count('commit of a partition file failed'),
              },
            };
          },
        ),
      );
    } finally {
      fs.unmount();
    }
  });
}

// ---------------------------------------------------------------------------------------------
// 4. App expiry deletes remote data.

const APP_EXPIRY_MS = 2_000;
const APP_HEARTBEAT_MS = 300;
const WORKER_HEARTBEAT_MS = 200;
const SWEEP_MS = 100;
/** Scheduling slack, plus the remote deletes themselves (listings and requests). */
const SLACK_MS = 3_000;
const DRIVER_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'driver-process.mjs');

export const appExpiryRemote: Scenario = {
  name: 'app on HDFS-only and S3-only workers expires: nothing left on either tier',
  skipReason: () => remoteTiersSkipReason(),
  run: (shape) =>
    withTiers({ hdfs: true, s3: true }, (t) => {
      const root = runRoot('expiry');
      const tiers: Record<string, Tier> = { 'worker-1': 'hdfs', 'worker-2': 's3' };
      const opts = clusterWith(t, root, tiers, {
        workers: 2,
        managerConfig: {
          'manager.appExpiryMs': APP_EXPIRY_MS,
          'manager.appHeartbeatIntervalMs': APP_HEARTBEAT_MS,
          'manager.workerHeartbeatIntervalMs': WORKER_HEARTBEAT_MS,
          'manager.sweepIntervalMs': SWEEP_MS,
        },
      });
      return withCluster(opts, (cluster) => expireOnTiers(t, root, tiers, cluster, shape));
    }),
};

async function expireOnTiers(
  t: RemoteTiers,
  root: string,
  tiers: Record<string, Tier>,
  cluster: ProcessCluster,
  shape: JobShape,
): Promise<ScenarioResult> {
  const appId = appIdFor('expiry-remote');
  // The driver runs in a process of its own, killed -9: the app stops heartbeating.
  const child = spawn(
    process.execPath,
    [
      DRIVER_SCRIPT,
      cluster.managerAddress,
      appId,
      String(shape.maps),
      String(shape.partitions),
      String(shape.maxPartitionsPerGroup),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = once(child, 'exit');
  let job: FaultJob | undefined;
  try {
    const [line] = (await Promise.race([
      once(createInterface({ input: child.stdout! }), 'line'),
      exited.then(() => {
        throw new Error('the driver process exited before registering its shuffle');
      }),
    ])) as [string];
    const { driverAddress } = JSON.parse(line) as { driverAddress: string };
    job = await FaultJob.start(cluster.managerAddress, appId, {
      shape,
      driverAddress,
      client: { compression: 'none' },
    });
    const t0 = Date.now();
    await job.runMaps();
    const mapsMs = Date.now() - t0;
    const v = await job.readAndVerify();
    const readMs = Date.now() - t0 - mapsMs;
    const stored = () =>
      Promise.all(Object.entries(tiers).map(([id, tier]) => storedUnder(t, tier, root, id, appId)));
    const ids = Object.keys(tiers);
    for (const [i, s] of (await stored()).entries()) {
      const names = s.files.map((f) => f.name);
      check(
        names.includes('0/COMMITTED') && names.some((n) => n.endsWith('.data')),
        `the committed app is not on ${ids[i]}'s ${tiers[ids[i]!]}: ${names.join(', ')}`,
      );
    }

    child.kill('SIGKILL');
    await exited;
    const killedAt = Date.now();
    let left: string[] = [];
    await waitUntil(
      async () => {
        left = (await stored()).flatMap((s, i) =>
          [...s.files.map((f) => f.name), ...s.uploads.map((u) => `upload ${u}`)].map(
            (n) => `${ids[i]}: ${n}`,
          ),
        );
        return left.length === 0;
      },
      `the data of ${appId} to be deleted from HDFS and S3`,
      APP_EXPIRY_MS * 10,
      () => `left: ${left.slice(0, 10).join(', ')}`,
    );
    const took = Date.now() - killedAt;
    const bound = APP_EXPIRY_MS + WORKER_HEARTBEAT_MS + SWEEP_MS + SLACK_MS;
    check(took <= bound, `data deleted ${took} ms after the driver died (bound ${bound} ms)`);
    const early = APP_EXPIRY_MS - APP_HEARTBEAT_MS - SWEEP_MS;
    check(took >= early, `data deleted after ${took} ms, before the app expired`);
    return {
      ...resultOf(job, v),
      measures: { mapsMs, commitAndReadMs: readMs, deletedAfterMs: took },
    };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await job?.close();
  }
}
