// MapperEnd claims the driver refuses (INVALID_ARGUMENT naming the field): an ESS address that
// is not host:port, sizes no writer can produce. The driver has no metrics; the refusal
// reaches the executor, and a loser's report is checked too (executor rolling counts it).
import { describe, expect, it } from 'vitest';
import type { PartitionWritten__Output } from '../../common/proto/gen/sluice/v1/PartitionWritten.js';
import { MAX_MAP_OUTPUT_BYTES, checkEssAddress, checkSizes } from './mapper-end-check.js';
import { ShuffleState } from './shuffle-state.js';

const wrote = (bytes: number, blocks = 1, partition = 0): PartitionWritten__Output => ({
  partition,
  epochs: [0],
  bytes,
  crc32: 1,
  blocks,
});

describe('MapperEnd checks', () => {
  it.each(['127.0.0.1:9398', 'ess-3.rack2.example.com:1', 'h:65535'])('accepts %s', (a) => {
    expect(() => checkEssAddress(a)).not.toThrow();
  });

  it.each([
    'host',
    'host:',
    ':9398',
    'host:0',
    'host:65536',
    'host:9398:1',
    '[::1]:9398',
    'a b:1',
    'host:93x8',
    '-host:1',
    `${'a'.repeat(300)}:1`,
    'host:9398/path',
  ])('refuses the ESS address %j', (a) => {
    expect(() => checkEssAddress(a)).toThrow(
      expect.objectContaining({ code: 'SLUICE_ERR_INVALID_ARGUMENT', field: 'ess_address' }),
    );
  });

  it.each([
    [[wrote(MAX_MAP_OUTPUT_BYTES + 1)], 'partitions[0].bytes'],
    [[wrote(-1)], 'partitions[0].bytes'],
    [[wrote(2 ** 60)], 'partitions[0].bytes'],
    [[wrote(31, 1)], 'partitions[0].blocks'],
    [[wrote(100, 0)], 'partitions[0].blocks'],
    [[wrote(0, 1)], 'partitions[0].blocks'],
    [[wrote(MAX_MAP_OUTPUT_BYTES), wrote(1, 0, 1)], 'partitions[1].blocks'],
    [[wrote(MAX_MAP_OUTPUT_BYTES), wrote(64, 1, 1)], 'partitions'],
  ])('refuses absurd sizes %#: %s', (partitions, field) => {
    expect(() => checkSizes(partitions)).toThrow(
      expect.objectContaining({ code: 'SLUICE_ERR_INVALID_ARGUMENT', field }),
    );
  });

  it('accepts what writers report: no blocks and no bytes, or a header per block', () => {
    expect(() =>
      checkSizes([wrote(0, 0), wrote(32, 1, 1), wrote(MAX_MAP_OUTPUT_BYTES - 32, 9, 2)]),
    ).not.toThrow();
  });

  it('ShuffleState refuses them before the report counts, from a loser too', () => {
    const ess = new ShuffleState('app', 1, 2, 4, [], 'ess');
    const end = (mapId: number, attemptId: number, essAddress: string, bytes = 64) =>
      ess.mapperEnd({ mapId, attemptId, executorId: 'e', essAddress, partitions: [wrote(bytes)] });
    expect(() => end(0, 0, 'evil')).toThrow(expect.objectContaining({ field: 'ess_address' }));
    expect(ess.winners.size).toBe(0);
    expect(end(0, 0, '127.0.0.1:9398')).toMatchObject({ winner: true, firstReport: true });
    // A losing attempt with an absurd size is refused, not counted as a first report.
    expect(() => end(0, 1, '127.0.0.1:9398', 2 ** 55)).toThrow(
      expect.objectContaining({ field: 'partitions[0].bytes' }),
    );
    expect(end(0, 1, '127.0.0.1:9398')).toMatchObject({ winner: false, firstReport: true });
  });

  it('refuses more epochs than the group ever had', () => {
    const group = {
      groupId: 0,
      startPartition: 0,
      endPartition: 4,
      epoch: 1,
      primary: null,
      replica: null,
    };
    const push = new ShuffleState('app', 1, 1, 4, [group]);
    expect(() =>
      push.mapperEnd({
        mapId: 0,
        attemptId: 0,
        executorId: 'e',
        partitions: [{ ...wrote(64), epochs: [0, 1, 1, 0, 1] }],
      }),
    ).toThrow(expect.objectContaining({ field: 'partitions[0].epochs' }));
  });
});
