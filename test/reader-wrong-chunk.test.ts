// A worker that answers a FETCH_CHUNK with the wrong bytes (docs/architecture.md#reads-and-failover reader failover). The
// reader does not CRC whole chunks (workers send none; every block has its own CRC, so a
// damaged byte fails its block), but a chunk missing or cut at a block boundary, or another
// chunk's valid blocks, pass the block checks. The reader
// checks that each CHUNK is the chunk it asked for, at the length the stream handle indexed,
// and fails over to the other replica at once. (Without that check a missing chunk is still
// noticed, later: the winner ledger's block counts fall short at the end of the read and the
// other replica is read too, or with both replicas damaged the data is reported lost instead
// of corrupt; these tests fail on the failover count and the error class then.)
// The wrong answers come from a FakeNetworkLink that rewrites the worker's frames, which a
// real worker does not produce on demand; both workers of the replica pair are behind one.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CorruptShuffleDataError,
  ShuffleClient,
  ShuffleDriver,
  type ShuffleReader,
} from '../src/client/index.js';
import { encodeFrame, FrameType, type Frame } from '../src/common/wire/frame.js';
import { decodeChunk, encodeChunk } from '../src/common/wire/stream-messages.js';
import type { WorkerServer } from '../src/worker/server.js';
import { startCluster, type Cluster } from '../src/testing/cluster.js';
import { FakeNetworkLink } from '../src/testing/fake-network.js';
import { waitFor } from '../src/testing/wait-for.js';
import { startWorker } from '../src/testing/worker.js';

const CHUNK_BYTES = 16 * 1024;

let cluster: Cluster;
const links: FakeNetworkLink[] = [];
const workers: WorkerServer[] = [];
/** What the links do to CHUNK frames now; undefined: nothing. */
let tamper: ((frame: Frame) => readonly Buffer[] | undefined) | undefined;

beforeAll(async () => {
  cluster = await startCluster({ workers: 0 });
  for (const id of ['worker-a', 'worker-b']) {
    const link = await FakeNetworkLink.listen();
    links.push(link);
    link.rewriteAnswers((frame) => (frame.type === FrameType.CHUNK ? tamper?.(frame) : undefined));
    const worker = await startWorker({
      manager: cluster.managerAddress,
      dirs: [join(cluster.root, id)],
      id,
      config: { 'worker.chunkBytes': CHUNK_BYTES, 'test.advertiseDataPort': link.port },
    });
    workers.push(worker);
    link.target('127.0.0.1', worker.dataPort);
  }
  await waitFor(() => cluster.manager.manager.workers.candidates().length >= 2, {
    what: 'two workers to register',
  });
});
afterAll(async () => {
  await Promise.allSettled(workers.map((w) => w.close()));
  await Promise.allSettled(links.map((l) => l.close()));
  await cluster?.close();
});

/** CHUNK `index`, on either worker, rewritten by `change` the first `times` times it passes. */
function rewriteChunk(index: number, change: (frame: Frame) => readonly Buffer[], times: number) {
  const state = { rewritten: 0 };
  tamper = (frame) => {
    if (state.rewritten >= times || decodeChunk(frame.header).chunkIndex !== index)
      return undefined;
    state.rewritten++;
    return change(frame);
  };
  return state;
}

const withoutBody = (f: Frame) => encodeFrame(f.type, f.flags, f.requestId, f.header);
/** The same bytes, labelled as the chunk after it (what a worker mixing up chunks would send). */
const labelledNext = (f: Frame) => {
  const h = decodeChunk(f.header);
  return encodeFrame(
    f.type,
    f.flags,
    f.requestId,
    encodeChunk({ ...h, chunkIndex: h.chunkIndex + 1 }),
    f.bodyParts,
  );
};
/** Only the first half of the body: a chunk cut short. */
const halfBody = (f: Frame) =>
  encodeFrame(f.type, f.flags, f.requestId, f.header, f.body.subarray(0, f.bodyLength >> 1));
/** One bit flipped in the middle of the body, frame unchanged (no chunk CRC to catch it). */
const flippedBit = (f: Frame) => {
  const body = Buffer.from(f.body);
  body[body.length >> 1]! ^= 0x10;
  return encodeFrame(f.type, f.flags, f.requestId, f.header, body);
};

let apps = 0;

/** One committed, replicated partition of small records over many chunks; then `fn`. */
async function withCommitted(
  fn: (
    read: () => Promise<{ records: string[]; reader: ShuffleReader }>,
    expected: string[],
  ) => Promise<void>,
): Promise<void> {
  tamper = undefined;
  const appId = `wrong-chunk-${process.pid}-${++apps}`;
  const driver = await ShuffleDriver.start({ manager: cluster.managerAddress, appId });
  const client = new ShuffleClient({ driver: driver.driverAddress, pushBatchBytes: 16 * 1024 });
  try {
    await driver.registerShuffle({ shuffleId: 0, numMappers: 1, numPartitions: 1 });
    const w = client.writer({ appId, shuffleId: 0, mapId: 0, attemptId: 0, numPartitions: 1 });
    const expected: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const record = randomBytes(64 + (i % 64)); // incompressible: many chunks
      w.write(0, record);
      expected.push(record.toString('hex'));
      if (i % 64 === 63) await w.flushIfNeeded();
    }
    await w.close();
    const outcome = await driver.commitShuffle(0, 10_000);
    expect(outcome.lost).toEqual([]);
    const replicas = outcome.files.get(0)!.get(0)!;
    expect(replicas.length).toBe(2);
    for (const r of replicas) expect(r.chunkCount).toBeGreaterThan(8);
    const read = async () => {
      const reader = client.reader({ appId, shuffleId: 0, partitionId: 0 });
      const records: string[] = [];
      for await (const r of reader) records.push(r.toString('hex'));
      return { records: records.sort(), reader };
    };
    await fn(read, expected.sort());
  } finally {
    tamper = undefined;
    await client.close();
    await driver.close();
  }
}

describe('a worker answering the wrong chunk', () => {
  it.each([
    { what: 'a CHUNK without its body', change: withoutBody },
    { what: 'a chunk cut in half', change: halfBody },
    { what: 'the right bytes labelled as the next chunk', change: labelledNext },
    { what: 'a bit flipped in the body (caught by the block CRC)', change: flippedBit },
  ])('$what: the reader fails over and returns exactly the records', async ({ change }) => {
    await withCommitted(async (read, expected) => {
      const tampered = rewriteChunk(2, change, 1);
      const { records, reader } = await read();
      expect(tampered.rewritten).toBe(1);
      expect(records).toEqual(expected);
      expect(reader.stats.failovers).toBe(1);
    });
  });

  it('on both replicas: CorruptShuffleDataError, never records missing', async () => {
    await withCommitted(async (read) => {
      const tampered = rewriteChunk(2, withoutBody, Infinity);
      const err = await read().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(tampered.rewritten).toBe(2);
      expect(err).toBeInstanceOf(CorruptShuffleDataError);
      expect((err as CorruptShuffleDataError).partition).toBe(0);
    });
  });
});
