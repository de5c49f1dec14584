// A reader's bound on a block's decompressed size (ShuffleClientOptions.maxBlockBytes,
// docs/client.md#options): a block claiming more than the reader accepts is refused as corrupt
// before anything is allocated for it, and a writer refuses a record that could make such a
// block.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShuffleClient, ShuffleDriver } from '../src/client/index.js';
import { startCluster, type Cluster } from '../src/testing/cluster.js';

const MIB = 1024 ** 2;

describe('maxBlockBytes', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({ workers: 2 });
  });
  afterAll(async () => cluster?.close());

  it('a reader refuses a block over its bound as corrupt; a writer refuses records over half of it', async () => {
    const driver = await ShuffleDriver.start({ manager: cluster.managerAddress, appId: 'blocks' });
    const handle = await driver.registerShuffle({ shuffleId: 0, numMappers: 1, numPartitions: 2 });
    const writerSide = new ShuffleClient({ driver: handle.driverAddress });
    const strict = new ShuffleClient({ driver: handle.driverAddress, maxBlockBytes: 2 * MIB });
    try {
      // 3 MiB of zeros: one block of ~3 MiB raw that LZ4 stores in a few KiB.
      const w = writerSide.writer({
        appId: 'blocks',
        shuffleId: 0,
        mapId: 0,
        attemptId: 0,
        numPartitions: 2,
      });
      w.write(0, Buffer.alloc(3 * MIB));
      w.write(1, Buffer.from('small'));
      await w.close();

      const read = async (client: ShuffleClient, partitionId: number) => {
        let bytes = 0;
        for await (const r of client.reader({ appId: 'blocks', shuffleId: 0, partitionId }))
          bytes += r.length;
        return bytes;
      };
      await expect(read(strict, 0)).rejects.toMatchObject({
        code: 'SLUICE_ERR_CORRUPT_DATA',
        message: expect.stringContaining('more than maxBlockBytes (2097152)'),
      });
      expect(await read(strict, 1)).toBe(5);
      expect(await read(writerSide, 0)).toBe(3 * MIB);

      const w2 = strict.writer({
        appId: 'blocks',
        shuffleId: 1,
        mapId: 0,
        attemptId: 0,
        numPartitions: 2,
      });
      expect(() => w2.write(0, Buffer.alloc(MIB + 1))).toThrow(/records are at most 1048576/);
      w2.abort();
      expect(() => new ShuffleClient({ driver: handle.driverAddress, maxBlockBytes: MIB })).toThrow(
        /pushBatchBytes: must be at most half of maxBlockBytes/,
      );
    } finally {
      await writerSide.close();
      await strict.close();
      await driver.close();
    }
  }, 60_000);
});
