// Partition groups (docs/architecture.md#lifecycle-of-one-shuffle step 2, docs/architecture.md#cluster-manager): a shuffle's partitions are cut into
// contiguous ranges so that a mapper pushes one batch per group instead of one per partition.
import { InvalidArgumentError } from '../../common/errors.js';

/** One partition group before it is placed on workers. */
export interface PartitionRange {
  readonly groupId: number;
  readonly startPartition: number;
  /** Exclusive. */
  readonly endPartition: number;
}

/**
 * Splits `[0, numPartitions)` into G = ceil(numPartitions / maxPartitionsPerGroup) contiguous
 * ranges whose sizes differ by at most one (250 with max 100 → 84, 83, 83). Even sizes matter
 * more than filling groups to the maximum: a group is the unit of push batching and of worker
 * load, so one tiny trailing group would make its worker's share lopsided.
 *
 * Partitions are always numbered from 0; `firstGroupId` only numbers the groups, so a caller
 * reallocating a range keeps the ids it already handed out.
 */
export function splitIntoGroups(
  numPartitions: number,
  maxPartitionsPerGroup: number,
  firstGroupId = 0,
): PartitionRange[] {
  if (!Number.isSafeInteger(numPartitions) || numPartitions < 0) {
    throw new InvalidArgumentError('numPartitions', `must be an integer ≥ 0, got ${numPartitions}`);
  }
  if (!Number.isSafeInteger(maxPartitionsPerGroup) || maxPartitionsPerGroup < 1) {
    throw new InvalidArgumentError(
      'maxPartitionsPerGroup',
      `must be an integer ≥ 1, got ${maxPartitionsPerGroup}`,
    );
  }
  if (numPartitions === 0) return [];
  const count = Math.ceil(numPartitions / maxPartitionsPerGroup);
  // The first `remainder` groups take one extra partition; since count × max ≥ numPartitions,
  // base + 1 ≤ max, so no group exceeds the limit.
  const base = Math.floor(numPartitions / count);
  const remainder = numPartitions % count;
  const ranges: PartitionRange[] = [];
  let start = 0;
  for (let i = 0; i < count; i++) {
    const end = start + base + (i < remainder ? 1 : 0);
    ranges.push({ groupId: firstGroupId + i, startPartition: start, endPartition: end });
    start = end;
  }
  return ranges;
}

/**
 * The group size of a new shuffle (docs/architecture.md#partition-groups-and-epochs): a
 * shuffle is never cut into more than `maxGroups` groups, so its smallest allowed group size
 * is ceil(numPartitions / maxGroups). An explicit `asked` size below that is refused (the
 * caller asked for at most that many per group, and larger groups would break its request);
 * without one (`asked` 0) the manager's default grows to the minimum where needed.
 */
export function groupSizeFor(
  numPartitions: number,
  asked: number,
  defaultSize: number,
  maxGroups: number,
): number {
  const smallest = Math.max(1, Math.ceil(numPartitions / maxGroups));
  if (asked === 0) return Math.max(defaultSize, smallest);
  if (asked < smallest)
    throw new InvalidArgumentError(
      'max_partitions_per_group',
      `${numPartitions} partitions in groups of at most ${asked} make ${Math.ceil(numPartitions / asked)} groups, more than manager.maxGroupsPerShuffle (${maxGroups}); ask for ${smallest} or more per group`,
      { context: { limit: 'manager.maxGroupsPerShuffle' } },
    );
  return asked;
}
