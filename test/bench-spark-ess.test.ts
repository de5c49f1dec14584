// The quick variant of bench scenario 5's Spark peer (bench/spark-ess, bench/README.md): Spark's
// own External Shuffle Service (4.0.1's TransportServer + ExternalBlockHandler) in one JVM,
// serving 20 maps x 100 partitions x 10 KiB written in Spark's sort-shuffle layout, read by a
// second JVM with Spark's ExternalBlockStoreClient. Checks that every block comes back with the
// bytes written, that the reader notices a block whose bytes differ, and the on-disk layout.
// Needs java and mvn (the first build downloads Spark's jars into ~/.m2; .ci/run builds it).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../src/testing/manager.js';

interface SparkEss {
  pid: number;
  port: number;
  stop(): Promise<void>;
}
interface Shape {
  dir: string;
  shuffleId: number;
  maps: number;
  partitions: number;
  blockBytes: number;
}
interface ReadOptions extends Shape {
  warmupShuffle: number;
  warmupMaps: number;
  reducers: number;
  inFlight: number;
}
interface ReadResult {
  bytesOut: number;
  fetches: number;
  readSeconds: number;
  serverCpuSeconds: number;
}
interface SparkEssModule {
  startSparkEss(): Promise<SparkEss>;
  writeSparkShuffle(o: Shape): Promise<number>;
  readWithSpark(ess: SparkEss, o: ReadOptions): Promise<ReadResult>;
  sparkEssReadPhase(
    ess: SparkEss,
    o: Shape & { reducers: number; inFlight: number },
  ): Promise<ReadResult & { writtenBytes: number }>;
}

const onPath = (tool: string) => {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`]);
    return true;
  } catch {
    return false;
  }
};
const available = onPath('java') && onPath('mvn');
if (process.env.CI && !available)
  throw new Error('CI: java or mvn is missing (.ci/run needs them for the Maven-built peers)');
if (!available) console.warn('skipping the Spark ESS peer: java or mvn is not installed');

/** Every file under `dir`, as paths relative to it. */
function walk(dir: string, rel = ''): string[] {
  return readdirSync(join(dir, rel), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(dir, join(rel, e.name)) : [join(rel, e.name)],
  );
}

describe.skipIf(!available)("Spark's ESS as the bench peer", () => {
  let spark: SparkEssModule;
  let ess: SparkEss;
  let root: string;

  beforeAll(async () => {
    const url = pathToFileURL(join(PACKAGE_ROOT, 'bench/lib/spark-ess.mjs')).href;
    spark = (await import(url)) as SparkEssModule;
    root = await mkdtemp(join(tmpdir(), 'sluice-spark-ess-'));
    ess = await spark.startSparkEss();
  }, 600_000);

  afterAll(async () => {
    await ess?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('reads back all 2000 blocks of 20 maps x 100 partitions x 10 KiB, each checked', async () => {
    const dir = join(root, 'phase');
    const r = await spark.sparkEssReadPhase(ess, {
      dir,
      shuffleId: 1,
      maps: 20,
      partitions: 100,
      blockBytes: 10 * 1024,
      reducers: 16,
      inFlight: 16,
    });
    expect(r.fetches).toBe(2000);
    expect(r.bytesOut).toBe(20 * 100 * 10 * 1024);
    expect(r.writtenBytes).toBe(r.bytesOut);
    expect(r.readSeconds).toBeGreaterThan(0);
    expect(r.serverCpuSeconds).toBeGreaterThan(0);
    expect(existsSync(dir)).toBe(false);
  }, 120_000);

  it('writes Spark sort-shuffle files in hashed subdirectories', async () => {
    const dir = join(root, 'layout');
    await spark.writeSparkShuffle({ dir, shuffleId: 3, maps: 2, partitions: 5, blockBytes: 100 });
    const files = walk(dir).sort();
    expect(files).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^blockmgr-sluice\/[0-9a-f]{2}\/shuffle_3_0_0\.data$/),
        expect.stringMatching(/^blockmgr-sluice\/[0-9a-f]{2}\/shuffle_3_0_0\.index$/),
        expect.stringMatching(/^blockmgr-sluice\/[0-9a-f]{2}\/shuffle_3_1_0\.data$/),
        expect.stringMatching(/^blockmgr-sluice\/[0-9a-f]{2}\/shuffle_3_1_0\.index$/),
        'crc-3.bin',
      ]),
    );
    expect(files).toHaveLength(5);
    const index = readFileSync(
      join(
        dir,
        files.find((f) => f.endsWith('_3_1_0.index'))!,
      ),
    );
    const offsets = Array.from({ length: index.length / 8 }, (_, i) =>
      index.readBigUInt64BE(i * 8),
    );
    expect(offsets).toEqual([0n, 100n, 200n, 300n, 400n, 500n]);
    expect(
      readFileSync(
        join(
          dir,
          files.find((f) => f.endsWith('_3_1_0.data'))!,
        ),
      ),
    ).toHaveLength(500);
  }, 60_000);

  it('fails the read when a block does not hold the bytes written', async () => {
    const dir = join(root, 'corrupt');
    const shape = { dir, maps: 2, partitions: 10, blockBytes: 1024 };
    await spark.writeSparkShuffle({ ...shape, shuffleId: 2 });
    await spark.writeSparkShuffle({ ...shape, shuffleId: 1002, maps: 1 });
    const data = join(
      dir,
      walk(dir).find((f) => f.endsWith('shuffle_2_1_0.data'))!,
    );
    const bytes = readFileSync(data);
    bytes[3 * 1024 + 5] ^= 0xff; // map 1, partition 3
    writeFileSync(data, bytes);
    await expect(
      spark.readWithSpark(ess, {
        ...shape,
        shuffleId: 2,
        warmupShuffle: 1002,
        warmupMaps: 1,
        reducers: 4,
        inFlight: 4,
      }),
    ).rejects.toThrow(/shuffle_2_1_3: CRC-32 differs from what was written/);
  }, 60_000);
});
