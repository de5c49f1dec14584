// Scenario 10 of `npm run bench` (bench/README.md, "Security — scenario 10"): what
// authentication and TLS cost (docs/operations.md#security, #tls). Three one-worker clusters,
// replication off, each a ProcessCluster with its data directory under --dir:
//
//   plain  no cluster secret, no TLS: the baseline
//   auth   a cluster secret; every executor data connection opens with the AUTH exchange as
//          the app (docs/protocol.md#authentication), every gRPC call is signed
//   tls    auth + mutual TLS: tls.certFile / keyFile / caFile / requireClientCert on the
//          manager and the worker (a throwaway PKI made with openssl in the bench's temp dir);
//          the executors connect over TLS with a client certificate
//
// Each run measures scenario 2's ingest (pre-built 1 MiB pushes from the executors, first
// push to CommitFiles' answer) and scenario 4's read back (the library's fetch-and-verify
// code, caches dropped first) on every configuration in turn, interleaved run by run, so a
// slower stretch of the shared machine hits all three. The order rotates (plain, auth, tls;
// auth, tls, plain; tls, plain, auth; ...): no configuration always goes first, right after
// the previous run's last one deleted its files.
// The three clusters stay up for the whole scenario: none starts cold, and an idle one only
// heartbeats. Executors get the app's credential string and the PEM files' paths in the job.
import { mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { makeTestPki } from '../../dist/testing/certs.js';
import { ProcessCluster } from '../../dist/testing/process-cluster.js';
import { workerMemory } from '../lib/worker-memory.mjs';
import { measureIngest } from './ingest.mjs';

/** The configurations, in the order every run measures them. */
const CONFIGS = ['plain', 'auth', 'tls'];

function workerConfigOf(opts) {
  const workerConfig = { 'worker.memoryBudgetBytes': opts.memoryBytes };
  for (const kv of opts.set) {
    const at = kv.indexOf('=');
    workerConfig[kv.slice(0, at)] = kv.slice(at + 1);
  }
  return workerConfig;
}

/** One configuration's cluster, its app registered; `dataAuth` is what executors connect with. */
async function startConfig(ctx, name, pki) {
  const tls =
    name === 'tls'
      ? {
          certFile: pki.daemon.certFile,
          keyFile: pki.daemon.keyFile,
          caFile: pki.caFile,
          requireClientCert: true,
        }
      : undefined;
  const cluster = await ProcessCluster.start({
    workers: 1,
    workerConfig: workerConfigOf(ctx.opts),
    perWorkerDirs: { 'worker-1': [join(ctx.root, `security-${name}`)] },
    secure: name !== 'plain',
    tls,
  });
  try {
    const app = await cluster.client.registerApp({
      appId: ctx.appId,
      name: `sluice bench (security: ${name})`,
    });
    if (name !== 'plain' && !app.credential)
      throw new Error(`${name}: RegisterApp answered no credential (is the cluster secret on?)`);
    const dataAuth =
      name === 'plain'
        ? undefined
        : {
            credential: app.credential,
            tls: tls && {
              caFile: pki.caFile,
              certFile: pki.client.certFile,
              keyFile: pki.client.keyFile,
            },
          };
    return { name, cluster, dataAuth };
  } catch (err) {
    await cluster.close();
    throw err;
  }
}

/** Worker CPU-seconds per GB (10⁹ bytes) ingested and served, from one measureIngest result. */
function perGB(m) {
  return {
    ingestCpuSecondsPerGB: m.workerCpuSeconds[0] / (m.bytesIn / 1e9),
    pusherCpuSecondsPerGB: m.pusherCpuSeconds / (m.bytesIn / 1e9),
  };
}

/**
 * Scenario 10: `opts.runs` runs, each measuring every configuration (CONFIGS), the first
 * one rotating. Results go to res.security.runs[i][config name]; a failure is recorded in
 * res.security.error (the summary reports it and the bench exits 1) and the runs so far kept.
 */
export async function securityScenario(ctx, res) {
  res.security = { bytes: ctx.opts.bytes, partitions: ctx.opts.partitions, runs: [] };
  try {
    await measureSecurity(ctx, res);
  } catch (err) {
    res.security.error = String(err?.stack ?? err);
  }
}

async function measureSecurity(ctx, res) {
  const { opts, progress } = ctx;
  progress.step('10 security: certificates and three clusters (plain, auth, auth + TLS)', 1);
  const pkiDir = join(ctx.root, 'pki');
  mkdirSync(pkiDir, { mode: 0o700 });
  const pki = makeTestPki(pkiDir);
  const configs = [];
  try {
    for (const name of CONFIGS) configs.push(await startConfig(ctx, name, pki));
    for (let run = 1; run <= opts.runs; run++) {
      const r = { run, load1: loadavg()[0] };
      const first = (run - 1) % configs.length;
      const order = [...configs.slice(first), ...configs.slice(0, first)];
      r.order = order.map((c) => c.name);
      for (const c of order) {
        progress.step(`10 security: ${c.name}, ingest + read back`, run);
        const m = await measureIngest(
          { ...ctx, cluster: c.cluster, dataAuth: c.dataAuth },
          {
            workers: 1,
            bytes: opts.bytes,
            pushBytes: opts.pushBytes,
            partitions: opts.partitions,
            readBack: true,
          },
        );
        r[c.name] = { ...m, ...perGB(m) };
      }
      res.security.runs.push(r);
    }
    for (const c of configs)
      res.memory.push(
        ...(await workerMemory(c.cluster, [10])).map((w) => ({
          ...w,
          workerId: `${w.workerId} (${c.name})`,
        })),
      );
  } finally {
    await Promise.allSettled(configs.map((c) => c.cluster.close()));
  }
}
