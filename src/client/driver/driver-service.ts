// DriverService handlers (proto/sluice/v1/driver.proto), served by ShuffleDriver to executors.
import type * as grpc from '@grpc/grpc-js';
import { InvalidArgumentError, SluiceError } from '../../common/errors.js';
import { parseAppId, parseShuffleId } from '../../common/ids.js';
import { unaryHandler } from '../../common/proto/rpc.js';
import type { CallRule } from '../../common/security/call-auth.js';
import type { DriverServiceHandlers } from '../../common/proto/gen/sluice/v1/DriverService.js';
import type { GetFileGroupsRequest__Output } from '../../common/proto/gen/sluice/v1/GetFileGroupsRequest.js';
import type { GetFileGroupsResponse } from '../../common/proto/gen/sluice/v1/GetFileGroupsResponse.js';
import { ShuffleDataLostError } from '../errors.js';
import { writtenOf } from './partition-columns.js';
import type { ShuffleDriver } from './shuffle-driver.js';
import type { ShuffleState } from './shuffle-state.js';

/** Who may call the driver: its own app's executors (docs/operations.md#security). */
export const DRIVER_RULES = {
  MapperEnd: { app: (r: { appId: string }) => r.appId },
  GetFileGroups: { app: (r: { appId: string }) => r.appId },
  Reallocate: { app: (r: { appId: string }) => r.appId },
  GetShuffleGroups: { app: (r: { appId: string }) => r.appId },
} satisfies Record<keyof DriverServiceHandlers, CallRule<{ appId: string }>>;

export function driverHandlers(
  driver: () => ShuffleDriver,
): DriverServiceHandlers & grpc.UntypedServiceImplementation {
  const observe = (): void => undefined;
  const shuffleOf = (req: { appId: string; shuffleId: number }): ShuffleState => {
    const d = driver();
    if (parseAppId(req.appId, 'app_id') !== d.appId)
      throw new InvalidArgumentError(
        'app_id',
        `this driver serves app ${d.appId}, not ${req.appId}`,
      );
    return d.shuffle(parseShuffleId(req.shuffleId, 'shuffle_id'));
  };
  const handlers: DriverServiceHandlers = {
    MapperEnd: unaryHandler(
      'MapperEnd',
      (req) => {
        const state = shuffleOf(req);
        const partitions = writtenOf(req);
        const result = state.mapperEnd({
          mapId: req.mapId,
          attemptId: req.attemptId,
          executorId: req.executorId,
          essAddress: req.essAddress,
          partitions,
        });
        const bytes = partitions.reduce((n, p) => n + Number(p.bytes), 0);
        driver().mapperEnded(state, req.executorId, result.firstReport ? bytes : 0, req.essAddress);
        return { winner: result.winner, winningAttemptId: result.winningAttemptId };
      },
      observe,
    ),
    GetFileGroups: unaryHandler(
      'GetFileGroups',
      (req) => fileGroups(driver(), shuffleOf(req), req),
      observe,
    ),
    Reallocate: unaryHandler(
      'Reallocate',
      async (req) => {
        const state = shuffleOf(req);
        const group = await driver().reallocate(
          state.shuffleId,
          req.groupId,
          req.oldEpoch,
          req.failedWorkerIds,
        );
        return { group };
      },
      observe,
    ),
    GetShuffleGroups: unaryHandler(
      'GetShuffleGroups',
      (req) => {
        const state = shuffleOf(req);
        return {
          numPartitions: state.numPartitions,
          numMappers: state.numMappers,
          groups: state.groups,
          committed: state.committed,
        };
      },
      observe,
    ),
  };
  return handlers as DriverServiceHandlers & grpc.UntypedServiceImplementation;
}

async function fileGroups(
  driver: ShuffleDriver,
  state: ShuffleState,
  req: GetFileGroupsRequest__Output,
): Promise<GetFileGroupsResponse> {
  const partition = req.partition;
  if (partition >= state.numPartitions)
    throw new InvalidArgumentError(
      'partition',
      `must be < ${state.numPartitions}, got ${partition}`,
    );
  const outcome = await driver.commitShuffle(state.shuffleId, driver.commitWaitMs);
  if (outcome.lost.includes(partition)) {
    const failed = [...outcome.failedWorkers].map(([w, why]) => `${w}: ${why}`).join('; ');
    throw new ShuffleDataLostError(
      state.shuffleId,
      [partition],
      `no committed replica of data a winning attempt wrote${failed ? ` (commit failed on ${failed})` : ''}`,
    );
  }
  if (state.winners.size === 0)
    throw new SluiceError('SLUICE_ERR_INTERNAL', 'committed shuffle without winners');
  // Only the winners that wrote to this partition: a reader keeps no block of a map it is not
  // told about, and a map whose winner wrote nothing here has only losers' blocks in it. A
  // wide stage whose tasks each write a few partitions gets a few entries, not one per task.
  // One pass over the winners (each lookup is a binary search in what that map wrote).
  const winners = [];
  const needed = new Set<number>();
  for (const [mapId, w] of state.winners) {
    const p = w.partitions.get(partition);
    if (p === undefined) continue;
    for (const e of p.epochs) needed.add(e);
    if (p.blocks === 0) continue;
    winners.push({
      mapId,
      attemptId: w.attemptId,
      blocks: p.blocks,
      bytes: p.bytes,
      crc32: p.crc32,
      essAddress: w.essAddress,
    });
  }
  // Only epochs a winner wrote to: every block a winner counted was acknowledged by both
  // replicas of one of them, so other epochs hold only losers' data or copies of it, and a
  // reader must not fail on them.
  const byEpoch = outcome.files.get(partition) ?? new Map();
  const epochs = [...byEpoch.entries()]
    .filter(([epoch]) => needed.has(epoch))
    .sort((a, b) => a[0] - b[0])
    .map(([epoch, replicas]) => ({ epoch, replicas }));
  return { epochs, winners, priority: driver.priority };
}
