// MapperEnd through the driver's real DriverService over gRPC: an ESS address that is not
// host:port or sizes no writer produces are refused INVALID_ARGUMENT (not retriable, so an
// executor does not loop on it) and leave no winner; a proper report then wins.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShuffleDriver } from '../src/client/index.js';
import { DriverClient } from '../src/client/driver/driver-client.js';
import { SluiceError } from '../src/common/errors.js';
import type { ManagerServer } from '../src/manager/server.js';
import { startManager } from '../src/testing/manager.js';

describe('DriverService MapperEnd checks', () => {
  let manager: ManagerServer;
  let driver: ShuffleDriver;
  let client: DriverClient;

  beforeAll(async () => {
    manager = await startManager();
    driver = await ShuffleDriver.start({
      manager: manager.address,
      appId: 'app-mapper-end',
      mode: 'ess',
    });
    await driver.registerShuffle({ shuffleId: 0, numMappers: 1, numPartitions: 2 });
    client = new DriverClient(driver.driverAddress, 5_000);
  });

  afterAll(async () => {
    client?.close();
    await driver?.close();
    await manager?.close();
  });

  const report = (essAddress: string, bytes = 64, blocks = 1) =>
    client.mapperEnd({
      appId: 'app-mapper-end',
      shuffleId: 0,
      mapId: 0,
      attemptId: 0,
      executorId: 'exec-1',
      essAddress,
      partitions: [{ partition: 1, epochs: [0], bytes, blocks, crc32: 7 }],
    });

  it.each([
    ['evil.example.com', 64, 1, 'ess_address'],
    ['10.0.0.1:0', 64, 1, 'ess_address'],
    ['10.0.0.1:9398', 2 ** 53, 1, 'partitions[0].bytes'],
    ['10.0.0.1:9398', 64, 1_000_000, 'partitions[0].blocks'],
  ])(
    'refuses %j with %d bytes in %d blocks: INVALID_ARGUMENT naming %s',
    async (a, b, n, field) => {
      const err = await report(a, b, n).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SluiceError);
      expect(err).toMatchObject({ code: 'SLUICE_ERR_INVALID_ARGUMENT', retriable: false });
      expect((err as Error).message).toContain(`${field}:`);
      expect(driver.shuffle(0).winners.size).toBe(0);
    },
  );

  it('accepts a proper report after the refusals', async () => {
    expect(await report('10.0.0.1:9398')).toEqual({ winner: true, winningAttemptId: 0 });
    expect(driver.shuffle(0).winners.get(0)?.essAddress).toBe('10.0.0.1:9398');
  });
});
