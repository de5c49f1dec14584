// An executor process of the benchmarks (`node bench/lib/executor.mjs`, forked with an IPC
// channel by bench/lib/executors.mjs). It imports only what an executor would (dist/client, and
// the raw data client of src/testing for the ingest scenarios, whose pushes bypass the client's
// batching so the worker sees exactly the pushes bench/README.md describes), so its CPU is not the measured
// worker's nor the bench driver's. One job at a time: the parent sends { id, job }, the child
// answers { id, result } or { id, error }.
//
//   job.kind   what it does
//   push       builds its blocks, answers { ready }, then on 'go' pushes them (optionally paced,
//              for ack latency) to one worker or to a primary + replica pair
//   read       opens streams on committed partitions and fetches every chunk with the library
//              reader's own fetch-and-verify code (dist/client/read/chunk-fetch.js): chunk
//              identity and length checked, every block's CRC verified (a reducer's data path)
//   map        runs map tasks with ShuffleClient writers (push or ESS mode)
//   reduce     reads partitions with ShuffleClient readers, checksumming every record
import { Buffer } from 'node:buffer';
import { randomFillSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { ShuffleClient } from '../../dist/client/index.js';
import { DataConnection } from '../../dist/client/net/data-connection.js';
import { fetchChunks, verifiedBlocks } from '../../dist/client/read/chunk-fetch.js';
import { AppCredential } from '../../dist/common/security/keys.js';
// The check sums every record on both sides: with the library's CRC (ISA-L where present) the
// harness's own cost, the same in push and ESS mode, weighs less on scenario 5's ratio.
import { crc32 } from '../../dist/common/wire/crc.js';
import {
  BLOCK_HEADER_BYTES,
  decodeStreamHandle,
  encodeCloseStreamFrame,
  encodeOpenStreamFrame,
} from '../../dist/common/wire/index.js';
import { RawDataClient } from '../../dist/testing/raw-data-client.js';
import { buildPayloads, pushAll } from './push-load.mjs';

let prepared;

/**
 * How to open data connections (scenario 10): job.auth = { credential, tls } with the app's
 * credential string and PEM file paths, as an executor is handed them; absent: plain TCP, no
 * AUTH exchange. The same options suit RawDataClient.connect and DataConnection.connect.
 */
function connectOptions(auth) {
  if (!auth) return {};
  const t = auth.tls;
  return {
    credential: auth.credential ? AppCredential.parse(auth.credential) : undefined,
    tls: t && {
      ca: readFileSync(t.caFile),
      cert: readFileSync(t.certFile),
      key: readFileSync(t.keyFile),
    },
  };
}

async function preparePush(job) {
  const clients = [];
  const options = connectOptions(job.auth);
  for (let i = 0; i < job.connections; i++) {
    const pair = [];
    for (const port of job.ports)
      pair.push(await RawDataClient.connect('127.0.0.1', port, options));
    clients.push(pair);
  }
  prepared = {
    job,
    clients,
    payloads: buildPayloads(job.pushBytes, job.connections, job.mapIdBase),
  };
  return { ready: true };
}

/** Open-loop pushes at job.ratePerSec (ack latency under load), one lane per in-flight slot. */
async function pacedPush({ job, clients, payloads }) {
  const latencies = [];
  const intervalMs = 1000 / job.ratePerSec;
  const started = performance.now();
  const pending = [];
  for (let i = 0; i < job.pushes; i++) {
    const due = started + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    const c = i % clients.length;
    const body = payloads[c][i % payloads[c].length];
    const partitionId = job.group.startPartition + ((i + job.partitionOffset) % job.partitions);
    const header = {
      appId: job.appId,
      shuffleId: job.shuffleId,
      mapId: job.mapIdBase + c,
      attemptId: 0,
      epoch: job.group.epoch,
      groupId: job.group.groupId,
      slices: [{ partitionId, bodyOffset: 0, length: body[0].length + body[1].length }],
    };
    const sent = performance.now();
    pending.push(
      Promise.all(clients[c].map((cl) => cl.push(header, body))).then(() =>
        latencies.push(performance.now() - sent),
      ),
    );
  }
  await Promise.all(pending);
  return { latencies, seconds: (performance.now() - started) / 1000 };
}

async function runPush() {
  const p = prepared;
  const cpu = process.cpuUsage();
  const started = performance.now();
  let result;
  if (p.job.ratePerSec) result = await pacedPush(p);
  else {
    const statuses = await pushAll({
      clients: p.clients,
      inflight: p.job.inflight,
      pushes: p.job.pushes,
      payloads: p.payloads,
      appId: p.job.appId,
      shuffleId: p.job.shuffleId,
      group: p.job.group,
      mapIdBase: p.job.mapIdBase,
      partitions: p.job.partitions,
      partitionOffset: p.job.partitionOffset,
    });
    result = { statuses, seconds: (performance.now() - started) / 1000 };
  }
  const used = process.cpuUsage(cpu);
  await Promise.all(p.clients.flat().map((c) => c.close().catch(() => undefined)));
  prepared = undefined;
  return { ...result, cpuSeconds: (used.user + used.system) / 1e6 };
}

/** What ShuffleClient's fetch pool and ShuffleReader use (options.ts, shuffle-client.ts). */
const FETCH_TIMEOUT_MS = 60_000;
const MAX_ANSWER_FRAME_BYTES = 1024 ** 3;

/**
 * A reducer's data path (scenario 4): one connection to the worker, as a ShuffleClient's fetch
 * pool has, `job.streams` partitions read at once, each stream's chunks fetched and every
 * block verified by the same functions ShuffleReader reads with (fetchChunks, verifiedBlocks).
 * What the reader does after that (winners, dedupe, records) scenario 5 measures; the pushes
 * of scenario 2 repeat (mapId, batchId), so a ledger would drop most of them as duplicates.
 */
async function readPartitions(job) {
  const cpu = process.cpuUsage();
  const conn = await DataConnection.connect({
    host: '127.0.0.1',
    port: job.port,
    peer: 'bench-worker',
    connectTimeoutMs: 10_000,
    maxFrameBytes: MAX_ANSWER_FRAME_BYTES,
    ...connectOptions(job.auth),
  });
  let bytes = 0;
  let blocks = 0;
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < job.partitions.length; i = next++) {
      const open = {
        appId: job.appId,
        shuffleId: job.shuffleId,
        partition: job.partitions[i],
        epoch: job.epoch,
        startChunk: 0,
      };
      const frame = await conn.request((id) => encodeOpenStreamFrame(id, open), FETCH_TIMEOUT_MS);
      const handle = decodeStreamHandle(frame.header);
      try {
        let offset = 0;
        const chunks = fetchChunks(conn, handle, {
          window: job.window,
          timeoutMs: FETCH_TIMEOUT_MS,
        });
        for await (const body of chunks) {
          for (const block of verifiedBlocks(body, offset)) {
            blocks++;
            bytes += BLOCK_HEADER_BYTES + block.header.storedLength;
          }
          offset += body.length;
        }
      } finally {
        conn.send((id) => encodeCloseStreamFrame(id, { streamId: handle.streamId }));
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: job.streams }, lane));
  } finally {
    conn.close();
  }
  return { bytes, blocks, cpuSeconds: cpuSecondsSince(cpu) };
}

/** This process's user + system CPU seconds since `cpu` (a process.cpuUsage() sample). */
function cpuSecondsSince(cpu) {
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / 1e6;
}

function clientFor(job) {
  return new ShuffleClient({
    driver: job.driver,
    mode: job.mode,
    ess: job.ess,
    compression: 'none',
    pushBatchBytes: job.pushBatchBytes,
    executorId: job.executorId,
  });
}

/**
 * Map tasks: each writes `blockBytes` to every partition as records of `recordBytes` taken from
 * a pool of random records (incompressible, like pre-compressed data; built before the clock).
 */
async function runMaps(job) {
  const pool = Array.from({ length: 64 }, () =>
    randomFillSync(Buffer.allocUnsafe(job.recordBytes)),
  );
  const client = clientFor(job);
  let records = 0;
  let bytes = 0;
  let checksum = 0;
  const started = performance.now();
  try {
    let next = 0;
    const lane = async () => {
      for (let i = next++; i < job.maps.length; i = next++) {
        const mapId = job.maps[i];
        const w = client.writer({
          appId: job.appId,
          shuffleId: 0,
          mapId,
          attemptId: 0,
          numPartitions: job.partitions,
        });
        const perBlock = Math.max(1, Math.round(job.blockBytes / job.recordBytes));
        for (let p = 0; p < job.partitions; p++) {
          for (let r = 0; r < perBlock; r++) {
            const rec = pool[(mapId * 7 + p * 13 + r) % pool.length];
            w.write(p, rec);
            records++;
            bytes += rec.length;
            checksum = (checksum + crc32(rec)) >>> 0;
          }
          if (p % 16 === 15) await w.flushIfNeeded();
        }
        await w.close();
      }
    };
    await Promise.all(Array.from({ length: job.concurrency }, lane));
  } finally {
    await client.close();
  }
  return { records, bytes, checksum, seconds: (performance.now() - started) / 1000 };
}

async function runReduces(job) {
  const cpu = process.cpuUsage();
  const client = clientFor(job);
  let records = 0;
  let bytes = 0;
  let checksum = 0;
  const latencies = [];
  const started = performance.now();
  try {
    let next = 0;
    const lane = async () => {
      for (let i = next++; i < job.reduces.length; i = next++) {
        const reader = client.reader({
          appId: job.appId,
          shuffleId: 0,
          partitionId: job.reduces[i],
        });
        for await (const r of reader) {
          records++;
          bytes += r.length;
          checksum = (checksum + crc32(r)) >>> 0;
        }
        if (reader.fetchLatenciesMs) latencies.push(...reader.fetchLatenciesMs);
      }
    };
    await Promise.all(Array.from({ length: job.concurrency }, lane));
  } finally {
    await client.close();
  }
  return {
    records,
    bytes,
    checksum,
    fetches: latencies.length,
    seconds: (performance.now() - started) / 1000,
    cpuSeconds: cpuSecondsSince(cpu),
  };
}

const HANDLERS = {
  push: preparePush,
  go: runPush,
  read: readPartitions,
  map: runMaps,
  reduce: runReduces,
};

process.on('message', ({ id, job }) => {
  Promise.resolve()
    .then(() => HANDLERS[job.kind](job))
    .then(
      (result) => process.send({ id, result }),
      (err) => process.send({ id, error: String(err?.stack ?? err) }),
    );
});
process.on('disconnect', () => process.exit(0));
