// ESS mode end to end (design §9, issue 6): the same client API with `mode: 'ess'`. Map tasks
// on two "nodes" (each with its own ESS daemon and directory) write one data file + index per
// map attempt and register it; readers fetch every winning map's partition region from the
// node that wrote it. Records read back must equal exactly the winners' records.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ShuffleClient,
  ShuffleDriver,
  type SluiceError,
  type ShuffleClientOptions,
} from '../src/client/index.js';
import { mapOutputBase } from '../src/common/map-output.js';
import type { EssServer } from '../src/ess/server.js';
import { startCluster, type Cluster } from '../src/testing/cluster.js';
import { startEss } from '../src/testing/ess.js';

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
