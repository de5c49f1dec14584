// What an executor knows about one shuffle it writes to: the partition groups and their
// current epochs, shared by every writer of the ShuffleClient. Reallocation requests for the
// same (group, epoch) from concurrent writers share one driver call; the driver and manager
// make requests from different executors converge on one new epoch (docs/architecture.md#lifecycle-of-one-shuffle).
import { SluiceError } from '../../common/errors.js';
import type { PartitionGroup__Output } from '../../common/proto/gen/sluice/v1/PartitionGroup.js';
import type { DriverClient } from '../driver/driver-client.js';

export class ShuffleContext {
  readonly appId: string;
  readonly shuffleId: number;
  readonly #driver: DriverClient;
  readonly #groups = new Map<number, PartitionGroup__Output>();
  readonly #pending = new Map<string, Promise<PartitionGroup__Output>>();
  #partitionGroup: Int32Array | undefined;
  #ready: Promise<void> | undefined;
  #committed = false;

  constructor(driver: DriverClient, appId: string, shuffleId: number) {
    this.#driver = driver;
    this.appId = appId;
    this.shuffleId = shuffleId;
  }

  /** Loads the groups once; later calls share the first load (a failed load is retried). */
  ready(): Promise<void> {
    this.#ready ??= this.#load().catch((err: unknown) => {
      this.#ready = undefined;
      throw err;
    });
    return this.#ready;
  }

  get loaded(): boolean {
    return this.#partitionGroup !== undefined;
  }

  get numPartitions(): number {
    return this.#partitionGroup?.length ?? 0;
  }

  /** The shuffle was committed when the groups were loaded: writers are late attempts. */
  get committed(): boolean {
    return this.#committed;
  }

  groupOf(partition: number): number {
    return this.#partitionGroup![partition]!;
  }

  current(groupId: number): PartitionGroup__Output {
    return this.#groups.get(groupId)!;
  }

  groupIds(): number[] {
    return [...this.#groups.keys()];
  }

  /** The group's epoch after `oldEpoch` (asks the driver unless a newer one is known). */
  reallocate(
    groupId: number,
    oldEpoch: number,
    failedWorkers: readonly string[],
  ): Promise<PartitionGroup__Output> {
    const known = this.current(groupId);
    if (known.epoch > oldEpoch) return Promise.resolve(known);
    const key = `${groupId}/${oldEpoch}`;
    let p = this.#pending.get(key);
    if (!p) {
      p = this.#driver
        .reallocate({
          appId: this.appId,
          shuffleId: this.shuffleId,
          groupId,
          oldEpoch,
          failedWorkerIds: [...failedWorkers],
        })
        .then((answer) => {
          if (!answer.group)
            throw new SluiceError('SLUICE_ERR_INTERNAL', 'Reallocate answered no group');
          this.#update(answer.group);
          return this.current(groupId);
        })
        .finally(() => this.#pending.delete(key));
      this.#pending.set(key, p);
    }
    return p;
  }

  async #load(): Promise<void> {
    const answer = await this.#driver.getShuffleGroups(this.appId, this.shuffleId);
    const map = new Int32Array(answer.numPartitions).fill(-1);
    for (const g of answer.groups) {
      this.#update(g);
      for (let p = g.startPartition; p < g.endPartition && p < map.length; p++) map[p] = g.groupId;
    }
    if (map.includes(-1))
      throw new SluiceError(
        'SLUICE_ERR_INTERNAL',
        `shuffle ${this.shuffleId}: groups do not cover every partition`,
      );
    this.#committed = answer.committed;
    this.#partitionGroup = map;
  }

  #update(g: PartitionGroup__Output): void {
    const known = this.#groups.get(g.groupId);
    if (!known || known.epoch < g.epoch) this.#groups.set(g.groupId, g);
  }
}
