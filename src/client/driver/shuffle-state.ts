// What the driver knows about one shuffle (docs/architecture.md#lifecycle-of-one-shuffle): its partition groups with every epoch
// and worker pair they ever had, the winning attempt of each mapId (first to report wins), and
// once committed, where each (partition, epoch) is and which partitions were lost. No I/O: the
// ShuffleDriver does the calls and feeds the answers in.
import { InvalidArgumentError, SluiceError } from '../../common/errors.js';
import type { WorkerAddress__Output } from '../../common/proto/gen/sluice/v1/WorkerAddress.js';
import type { PartitionGroup__Output } from '../../common/proto/gen/sluice/v1/PartitionGroup.js';
import type { PartitionWritten__Output } from '../../common/proto/gen/sluice/v1/PartitionWritten.js';
import {
  CommittedFiles,
  PartitionTotals,
  type PathTable,
  type WorkerFiles,
} from './committed-files.js';
import { checkEssAddress, checkSizes } from './mapper-end-check.js';

export interface MapperEndInput {
  readonly mapId: number;
  readonly attemptId: number;
  readonly executorId: string;
  readonly essAddress?: string;
  readonly partitions: readonly PartitionWritten__Output[];
}

export interface Winner {
  readonly attemptId: number;
  readonly executorId: string;
  /** ESS mode: the node-local ESS serving this attempt's map output. */
  readonly essAddress: string;
  /** What it wrote, by partition (compact: a 10^4 x 10^4 shuffle has 10^8 of these). */
  readonly partitions: PartitionTotals;
}

export interface CommitOutcome {
  /** partition -> epoch -> committed replicas */
  readonly files: CommittedFiles;
  /** Partitions with a (partition, epoch) of a winner that no worker committed, ascending. */
  readonly lost: readonly number[];
  /** Workers whose CommitFiles failed, with the reason. */
  readonly failedWorkers: ReadonlyMap<string, string>;
}

export class ShuffleState {
  readonly appId: string;
  readonly shuffleId: number;
  readonly numMappers: number;
  readonly numPartitions: number;
  readonly #groups = new Map<number, PartitionGroup__Output>();
  /** Every worker that ever served the shuffle, by worker id: CommitFiles goes to all. */
  readonly #servers = new Map<string, WorkerAddress__Output>();
  readonly #winners = new Map<number, Winner>();
  /** (mapId/attemptId) that reported MapperEnd, winners and losers. */
  readonly #reported = new Set<string>();
  #outcome: CommitOutcome | undefined;
  /** Group ids by start partition, for #groupOf; reset when a group id is first seen. */
  #byStart: number[] | undefined;

  constructor(
    appId: string,
    shuffleId: number,
    numMappers: number,
    numPartitions: number,
    groups: readonly PartitionGroup__Output[],
    /** 'ess': map outputs stay on the executors' nodes; there are no groups to commit. */
    readonly mode: 'push' | 'ess' = 'push',
  ) {
    this.appId = appId;
    this.shuffleId = shuffleId;
    this.numMappers = numMappers;
    this.numPartitions = numPartitions;
    for (const g of groups) this.updateGroup(g);
  }

  get groups(): PartitionGroup__Output[] {
    return [...this.#groups.values()].sort((a, b) => a.groupId - b.groupId);
  }

  group(groupId: number): PartitionGroup__Output {
    const g = this.#groups.get(groupId);
    if (!g)
      throw new InvalidArgumentError(
        'groupId',
        `shuffle ${this.shuffleId} has no group ${groupId}`,
      );
    return g;
  }

  /** Records a group's new epoch (from allocation or reallocation); older epochs are ignored. */
  updateGroup(g: PartitionGroup__Output): void {
    const known = this.#groups.get(g.groupId);
    if (!known) this.#byStart = undefined;
    for (const w of [g.primary, g.replica]) if (w) this.#servers.set(w.workerId, w);
    if (!known || known.epoch < g.epoch) this.#groups.set(g.groupId, g);
  }

  get servers(): WorkerAddress__Output[] {
    return [...this.#servers.values()];
  }

  get committed(): boolean {
    return this.#outcome !== undefined;
  }

  get outcome(): CommitOutcome | undefined {
    return this.#outcome;
  }

  get winners(): ReadonlyMap<number, Winner> {
    return this.#winners;
  }

  get allMappersDone(): boolean {
    return this.#winners.size === this.numMappers;
  }

  /** First attempt of a mapId to report wins; returns the winning attempt id. */
  /**
   * `firstReport` is false when this (mapId, attemptId) reported before (a MapperEnd the
   * executor sent again after a timeout): its bytes must not be counted twice.
   */
  mapperEnd(input: MapperEndInput): {
    winner: boolean;
    winningAttemptId: number;
    firstReport: boolean;
  } {
    if (input.mapId >= this.numMappers)
      throw new InvalidArgumentError(
        'mapId',
        `must be < numMappers (${this.numMappers}), got ${input.mapId}`,
      );
    if ((this.mode === 'ess') !== Boolean(input.essAddress))
      throw new InvalidArgumentError(
        'ess_address',
        this.mode === 'ess'
          ? 'an ESS-mode shuffle needs the map output address'
          : 'a push-mode shuffle takes no ESS address',
      );
    if (input.essAddress) checkEssAddress(input.essAddress);
    checkSizes(input.partitions);
    const known = this.#winners.get(input.mapId);
    if (known)
      return {
        winner: known.attemptId === input.attemptId,
        winningAttemptId: known.attemptId,
        firstReport: this.#firstReport(input),
      };
    if (this.#outcome)
      throw new SluiceError(
        'SLUICE_ERR_STAGE_ENDED',
        `shuffle ${this.shuffleId} is already committed`,
      );
    const written = sortedByPartition(input.partitions);
    for (const [i, p] of written.entries()) {
      if (p.partition >= this.numPartitions || written[i - 1]?.partition === p.partition)
        throw new InvalidArgumentError(
          `partitions[${input.partitions.indexOf(p)}].partition`,
          `out of range or repeated: ${p.partition}`,
        );
      if (this.mode === 'ess') continue;
      const groupEpoch = this.#groupOf(p.partition).epoch;
      if (
        p.epochs.length === 0 ||
        p.epochs.length > groupEpoch + 1 ||
        p.epochs.some((e) => e > groupEpoch)
      )
        throw new InvalidArgumentError(
          `partitions[${input.partitions.indexOf(p)}].epochs`,
          `must name known epochs (<= ${groupEpoch})`,
        );
    }
    const partitions = new PartitionTotals(written);
    this.#winners.set(input.mapId, {
      attemptId: input.attemptId,
      executorId: input.executorId,
      essAddress: input.essAddress ?? '',
      partitions,
    });
    return {
      winner: true,
      winningAttemptId: input.attemptId,
      firstReport: this.#firstReport(input),
    };
  }

  /**
   * Folds the workers' CommitFiles answers into file groups and checks that every
   * (partition, epoch) a winner wrote has at least one committed replica (docs/architecture.md#lifecycle-of-one-shuffle).
   */
  recordCommit(
    answers: readonly WorkerFiles[],
    paths: PathTable,
    failedWorkers: ReadonlyMap<string, string>,
  ): CommitOutcome {
    const files = new CommittedFiles(this.numPartitions, answers, paths);
    this.#outcome = { files, lost: this.#lost(files), failedWorkers };
    return this.#outcome;
  }

  /** The partitions that would be lost with these answers (nothing is recorded). */
  lostWith(answers: readonly WorkerFiles[], paths: PathTable): number[] {
    return this.#lost(new CommittedFiles(this.numPartitions, answers, paths));
  }

  #firstReport(input: MapperEndInput): boolean {
    const key = `${input.mapId}/${input.attemptId}`;
    if (this.#reported.has(key)) return false;
    this.#reported.add(key);
    return true;
  }

  #lost(files: CommittedFiles): number[] {
    const lost = new Set<number>();
    if (this.mode === 'ess') return []; // each reader finds out from the map's ESS
    for (const w of this.#winners.values())
      w.partitions.forEachEpoch((p, e) => {
        if (!files.has(p, e)) lost.add(p);
      });
    return [...lost].sort((a, b) => a - b);
  }

  /** Binary search over the groups by range: a MapperEnd may name every partition. */
  #groupOf(partition: number): PartitionGroup__Output {
    this.#byStart ??= [...this.#groups.keys()].sort(
      (a, b) => this.#groups.get(a)!.startPartition - this.#groups.get(b)!.startPartition,
    );
    const ids = this.#byStart;
    let lo = 0;
    let hi = ids.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const g = this.#groups.get(ids[mid]!)!;
      if (partition < g.startPartition) hi = mid - 1;
      else if (partition >= g.endPartition) lo = mid + 1;
      else return g;
    }
    throw new InvalidArgumentError('partition', `no group holds partition ${partition}`);
  }
}

/** The list itself when already sorted by partition (executors send it so), else a sorted copy. */
function sortedByPartition(
  list: readonly PartitionWritten__Output[],
): readonly PartitionWritten__Output[] {
  for (let i = 1; i < list.length; i++)
    if (list[i]!.partition < list[i - 1]!.partition)
      return [...list].sort((a, b) => a.partition - b.partition);
  return list;
}
