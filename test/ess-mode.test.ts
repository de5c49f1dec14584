// ESS mode end to end (docs/architecture.md#ess-mode, issue 6): the same client API with `mode: 'ess'`. Map tasks
// on two "nodes" (each with its own ESS daemon and directory) write one data file + index per
// map attempt and register it; readers fetch every winning map's partition region from the
// node that wrote it. Records read back must equal exactly the winners' records.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { mkdir, open, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ShuffleClient,
  ShuffleDriver,
  type SluiceError,
  type ShuffleClientOptions,
} from '../src/client/index.js';
import type { AppId, ShuffleId } from '../src/common/ids.js';
import { encodeMapOutputIndex, mapOutputBase } from '../src/common/map-output.js';
import { encodeFetchBlocksFrame } from '../src/common/wire/index.js';
import { RawDataClient } from '../src/testing/raw-data-client.js';
import { waitFor } from '../src/testing/wait-for.js';
import type { EssServer } from '../src/ess/server.js';
import { startCluster, type Cluster } from '../src/testing/cluster.js';
import { outputsOf, startEss } from '../src/testing/ess.js';

const PARTITIONS = 12;
let cluster: Cluster;
let root: string;
const nodes: { dir: string; ess: EssServer }[] = [];

beforeAll(async () => {
  cluster = await startCluster({ workers: 0 });
  root = mkdtempSync(join(tmpdir(), 'sluice-ess-test-'));
  for (const name of ['node-a', 'node-b']) {
    const dir = join(root, name);
    nodes.push({ dir, ess: await startEss({ dir }) });
  }
});
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.ess.close()));
  await cluster?.close();
  rmSync(root, { recursive: true, force: true });
});

let apps = 0;
async function withEssApp(
  numMappers: number,
  fn: (app: {
    appId: string;
    driver: ShuffleDriver;
    client: (node: number, o?: Partial<ShuffleClientOptions>) => ShuffleClient;
  }) => Promise<void>,
): Promise<void> {
  const appId = `ess-${process.pid}-${++apps}`;
  const driver = await ShuffleDriver.start({ manager: cluster.managerAddress, appId, mode: 'ess' });
  const clients: ShuffleClient[] = [];
  try {
    await driver.registerShuffle({ shuffleId: 0, numMappers, numPartitions: PARTITIONS });
    await fn({
      appId,
      driver,
      client: (node, o = {}) => {
        const c = new ShuffleClient({
          driver: driver.driverAddress,
          mode: 'ess',
          ess: { address: nodes[node]!.ess.address, dir: nodes[node]!.dir },
          ...o,
        });
        clients.push(c);
        return c;
      },
    });
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await driver.close();
  }
}

function records(mapId: number, attemptId: number, n: number): [number, Buffer][] {
  return Array.from({ length: n }, (_, i) => {
    const seed = createHash('sha256').update(`${mapId}/${attemptId}/${i}`).digest();
    return [seed.readUInt32BE(0) % PARTITIONS, Buffer.concat([seed, randomBytes(i % 300)])];
  });
}

async function readAll(client: ShuffleClient, appId: string): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>();
  for (let p = 0; p < PARTITIONS; p++) {
    const got: string[] = [];
    for await (const r of client.reader({ appId, shuffleId: 0, partitionId: p }))
      got.push(r.toString('hex'));
    out.set(p, got.sort());
  }
  return out;
}

describe('ESS mode', () => {
  it('maps on two nodes, a speculative attempt and spills: exactly the winners come back', async () => {
    await withEssApp(8, async ({ appId, client }) => {
      const expected = new Map<number, string[]>();
      const run = async (c: ShuffleClient, mapId: number, attemptId: number, remember: boolean) => {
        const w = c.writer({ appId, shuffleId: 0, mapId, attemptId, numPartitions: PARTITIONS });
        for (const [i, [p, r]] of records(mapId, attemptId, 2000).entries()) {
          w.write(p, r);
          if (remember) expected.set(p, [...(expected.get(p) ?? []), r.toString('hex')]);
          if (i % 100 === 0) await w.flushIfNeeded();
        }
        return w.close();
      };
      const a = client(0, { maxBufferedBytesPerWriter: 64 * 1024 }); // spills several times
      const b = client(1);
      for (let m = 0; m < 8; m++)
        expect((await run(m % 2 ? b : a, m, 0, true)).discarded).toBe(false);
      const late = await run(a, 3, 1, false); // speculative copy of map 3 after it won
      expect(late.discarded).toBe(true);
      const got = await readAll(client(1), appId);
      for (let p = 0; p < PARTITIONS; p++)
        expect(got.get(p), `partition ${p}`).toEqual((expected.get(p) ?? []).sort());
      // Four outputs on each node were registered (and the late attempt's on node a).
      expect(
        (await nodes[0]!.ess.metrics.registered.get()).values[0]!.value,
      ).toBeGreaterThanOrEqual(5);
    });
  });

  it('an output whose file is damaged or gone is a FetchFailedError naming its node', async () => {
    await withEssApp(2, async ({ appId, client }) => {
      for (const m of [0, 1]) {
        const w = client(m).writer({
          appId,
          shuffleId: 0,
          mapId: m,
          attemptId: 0,
          numPartitions: PARTITIONS,
        });
        for (const [p, r] of records(m, 0, 500)) w.write(p, r);
        await w.close();
      }
      const reader = client(0);
      const read = async (p: number) => {
        try {
          for await (const _ of reader.reader({ appId, shuffleId: 0, partitionId: p })) void _;
          return undefined;
        } catch (err) {
          return err as SluiceError;
        }
      };
      // A flipped byte in map 1's file (node b): the block CRC catches it.
      const base = mapOutputBase(nodes[1]!.dir, { appId, shuffleId: 0, mapId: 1, attemptId: 0 });
      const fh = await open(`${base}.data`, 'r+');
      const byte = Buffer.alloc(1);
      await fh.read(byte, 0, 1, 100);
      byte[0]! ^= 0xff;
      await fh.write(byte, 0, 1, 100);
      await fh.close();
      const damaged = [];
      for (let p = 0; p < PARTITIONS; p++) damaged.push(await read(p));
      expect(damaged.some((e) => e?.code === 'SLUICE_ERR_FETCH_FAILED')).toBe(true);
      expect(damaged.every((e) => e === undefined || e.code === 'SLUICE_ERR_FETCH_FAILED')).toBe(
        true,
      );
      // The file gone: NOT_FOUND is not retried, the read fails at once naming node b.
      await rm(`${base}.data`);
      await rm(`${base}.index`);
      const gone = await read(0);
      expect(gone?.code).toBe('SLUICE_ERR_FETCH_FAILED');
      expect(gone?.message).toContain(nodes[1]!.ess.address);
    });
  });
});

describe('ESS mode, failures inside a writer and a flood of requests', () => {
  // Regression: a spill that failed had already emptied the buffers, yet close() succeeded
  // and readers got partitions without those records (the tally did not count them either).
  it('a failed spill fails the writer: close rejects and leaves no files', async () => {
    await withEssApp(1, async ({ appId, client }) => {
      const c = client(0, { maxBufferedBytesPerWriter: 1024 });
      const base = mapOutputBase(nodes[0]!.dir, { appId, shuffleId: 0, mapId: 0, attemptId: 0 });
      await mkdir(`${base}.spill0`, { recursive: true }); // a directory where the spill file goes
      const w = c.writer({
        appId,
        shuffleId: 0,
        mapId: 0,
        attemptId: 0,
        numPartitions: PARTITIONS,
      });
      for (const [p, r] of records(0, 0, 50)) w.write(p, r);
      await expect(w.flushIfNeeded()).rejects.toThrow(/EISDIR|illegal operation/);
      await expect(w.close()).rejects.toThrow();
      const left = await readdir(dirname(base));
      expect(left.filter((f) => f.startsWith('0-0') && f !== '0-0.spill0')).toEqual([]);
    });
  });

  // Regression: close() did not wait for a spill in progress, so that spill's blocks were
  // counted but never merged into the data file.
  it('close() right after a flushIfNeeded() that spills keeps every record', async () => {
    await withEssApp(1, async ({ appId, client }) => {
      const c = client(0, { maxBufferedBytesPerWriter: 1024 });
      const w = c.writer({
        appId,
        shuffleId: 0,
        mapId: 0,
        attemptId: 0,
        numPartitions: PARTITIONS,
      });
      const expected = new Map<number, string[]>();
      for (const [p, r] of records(0, 0, 300)) {
        w.write(p, r);
        expected.set(p, [...(expected.get(p) ?? []), r.toString('hex')]);
      }
      void w.flushIfNeeded();
      expect((await w.close()).records).toBe(300);
      const got = await readAll(c, appId);
      for (let p = 0; p < PARTITIONS; p++)
        expect(got.get(p)).toEqual((expected.get(p) ?? []).sort());
    });
  });

  // Regression: the per-connection limit only paused the socket, so hundreds of requests
  // decoded from one chunk were all served (and their buffers allocated) at once.
  it('one write of 300 fetches is served at most ess.maxInFlightPerConnection at a time', async () => {
    const dir = join(root, 'flood');
    const ess = await startEss({
      dir,
      config: { 'ess.maxInFlightPerConnection': 2, 'test.fetchDelayMs': 5 },
    });
    try {
      const appId = 'flood';
      const w = new ShuffleClient({
        driver: '127.0.0.1:1',
        mode: 'ess',
        ess: { address: ess.address, dir },
      });
      await w.close();
      // An output written by hand through the file format the writer uses.
      const base = mapOutputBase(dir, { appId, shuffleId: 0, mapId: 0, attemptId: 0 });
      await mkdir(dirname(base), { recursive: true });
      await writeFile(`${base}.data`, Buffer.alloc(64));
      await writeFile(`${base}.index`, encodeMapOutputIndex([0, 64]));
      const raw = await RawDataClient.connect('127.0.0.1', ess.dataPort);
      const frames = Array.from({ length: 300 }, (_, i) =>
        Buffer.concat(
          encodeFetchBlocksFrame(BigInt(i + 1), {
            appId: appId as AppId,
            shuffleId: 0 as ShuffleId,
            mapId: 0,
            attemptId: 0,
            partition: 0,
            offset: 0,
            maxLength: 64,
            priority: 3,
          }),
        ),
      );
      raw.writeRaw(Buffer.concat(frames));
      let most = 0;
      await waitFor(
        async () => {
          const queued =
            ess.fetchAdmission.snapshot().apps.find((a) => a.appId === appId)?.queued ?? 0;
          most = Math.max(most, queued);
          return (await ess.metrics.fetches.get()).values[0]!.value >= 300;
        },
        { what: '300 fetches answered', intervalMs: 2 },
      );
      expect(most).toBeGreaterThan(0);
      expect(most).toBeLessThanOrEqual(2);
      await raw.close();
    } finally {
      await ess.close();
    }
  });
});

describe('ESS cleanup', () => {
  // The driver remembers which ESS daemons each shuffle's map attempts wrote to and asks them to
  // delete the outputs when the shuffle is unregistered (REMOVE_OUTPUTS of that shuffle) and
  // when the app ends (REMOVE_OUTPUTS of all its shuffles). Before, they stayed for ever.
  const CLEANUP_PARTITIONS = 4;
  const CLEANUP_MAPS = 4;
  it("a shuffle's outputs go when it is unregistered, the app's when it ends", async () => {
    const appId = `ess-cleanup-${process.pid}`;
    // Other tests' apps here end too (and are removed): count from now.
    const removed = () =>
      Promise.all(
        nodes.map(async (n) => (await n.ess.metrics.removed.get()).values[0]?.value ?? 0),
      );
    const removedBefore = await removed();
    const driver = await ShuffleDriver.start({
      manager: cluster.managerAddress,
      appId,
      mode: 'ess',
    });
    const clients = nodes.map(
      (n) =>
        new ShuffleClient({
          driver: driver.driverAddress,
          mode: 'ess',
          ess: { address: n.ess.address, dir: n.dir },
        }),
    );
    try {
      for (const shuffleId of [0, 1]) {
        await driver.registerShuffle({
          shuffleId,
          numMappers: CLEANUP_MAPS,
          numPartitions: CLEANUP_PARTITIONS,
        });
        for (let m = 0; m < CLEANUP_MAPS; m++) {
          const w = clients[m % 2]!.writer({
            appId,
            shuffleId,
            mapId: m,
            attemptId: 0,
            numPartitions: CLEANUP_PARTITIONS,
          });
          for (let p = 0; p < CLEANUP_PARTITIONS; p++)
            w.write(p, Buffer.from(`s${shuffleId} m${m} p${p}`));
          await w.close();
        }
      }
      for (const n of nodes) {
        expect(await outputsOf(n.dir, appId, 0)).toBe(CLEANUP_MAPS / 2);
        expect(await outputsOf(n.dir, appId, 1)).toBe(CLEANUP_MAPS / 2);
      }

      await driver.unregisterShuffle(0);
      for (const n of nodes) {
        expect(existsSync(join(n.dir, appId, '0')), `${n.dir}: shuffle 0`).toBe(false);
        expect(await outputsOf(n.dir, appId, 1)).toBe(CLEANUP_MAPS / 2);
      }
      // Shuffle 1 is untouched: every record still reads back.
      const got: string[] = [];
      for (let p = 0; p < CLEANUP_PARTITIONS; p++)
        for await (const r of clients[0]!.reader({ appId, shuffleId: 1, partitionId: p }))
          got.push(r.toString());
      expect(got).toHaveLength(CLEANUP_MAPS * CLEANUP_PARTITIONS);

      await driver.close();
      for (const n of nodes) expect(existsSync(join(n.dir, appId)), n.dir).toBe(false);
      // Each ESS counted what it deleted: two outputs of shuffle 0, then two of shuffle 1.
      const after = await removed();
      expect(after.map((v, i) => v - removedBefore[i]!)).toEqual([CLEANUP_MAPS, CLEANUP_MAPS]);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      await driver.close();
    }
  }, 60_000);
});
