// Pushes one sealed batch of a partition group (docs/architecture.md#replication-and-acknowledgements):
// the same frame to the primary and the replica at the same time; acknowledged when both hold
// every partition. What any other answer leads to (push again, move the group to a new epoch
// with the failed workers excluded, stop, fail) is decided by push-decision.ts from the status
// table. A batch is always pushed again unchanged: readers drop the copies a partial success
// left behind by (mapId, attemptId, batchId).
import { InvalidArgumentError, SluiceError } from '../../common/errors.js';
import { retry } from '../../common/flow/retry.js';
import type { PartitionGroup__Output } from '../../common/proto/gen/sluice/v1/PartitionGroup.js';
import type { WorkerAddress__Output } from '../../common/proto/gen/sluice/v1/WorkerAddress.js';
import { decodePushAck, encodePushFrame, type PushSlice } from '../../common/wire/index.js';
import type { AppId, ShuffleId } from '../../common/ids.js';
import { describe } from '../errors.js';
import type { EncodedBlock } from './block-codec.js';
import { decidePush, windowOutcome, type TargetResult } from './push-decision.js';
import type { PushOutcome } from './push-window.js';
import type { WriterDeps } from './push-writer.js';
import type { WriterOptions } from './writer.js';

export interface SealedBlock extends EncodedBlock {
  readonly partition: number;
  readonly batchId: number;
  readonly records: number;
}

export interface Batch {
  readonly groupId: number;
  readonly blocks: readonly SealedBlock[];
  /** Block bytes, headers included. */
  readonly bytes: number;
  /** The blocks' bytes back to back (each block's header and stored bytes are views of it). */
  readonly body: Buffer;
}

export class GroupPusher {
  readonly #deps: WriterDeps;
  readonly #writer: WriterOptions;
  readonly #onAck: (batch: Batch, epoch: number) => void;
  #stageEnded = false;

  constructor(
    deps: WriterDeps,
    writer: WriterOptions,
    onAck: (batch: Batch, epoch: number) => void,
  ) {
    this.#deps = deps;
    this.#writer = writer;
    this.#onAck = onAck;
  }

  /** True once a worker answered STAGE_ENDED or the driver refused a reallocation for it. */
  get stageEnded(): boolean {
    return this.#stageEnded;
  }

  endStage(): void {
    this.#stageEnded = true;
  }

  async push(batch: Batch): Promise<void> {
    const { slices, body } = frameBody(batch);
    let pending: { epoch: number; failed: string[] } | undefined;
    const attempt = async (): Promise<void> => {
      if (pending) await this.#moveGroup(batch.groupId, pending.epoch, pending.failed);
      pending = undefined;
      if (this.#stageEnded) return;
      const { group, targets } = await this.#acquireCurrent(batch.groupId);
      const results = await Promise.all(
        targets.map((t) => this.#pushTo(t, group.epoch, batch, slices, body)),
      );
      const verdict = decidePush(
        results,
        batch.blocks.map((b) => b.partition),
      );
      if (verdict.kind === 'stage-ended') this.#stageEnded = true;
      if (verdict.kind === 'ok') {
        this.#onAck(batch, group.epoch);
        if (verdict.rotateEpoch)
          await this.#moveGroup(batch.groupId, group.epoch, []).catch(() => undefined);
      }
      if (verdict.kind === 'refused')
        throw new InvalidArgumentError(
          'record',
          `a push of ${batch.bytes} bytes was refused (${verdict.why}): a record is larger than the workers accept (worker.maxFrameBytes)`,
        );
      if (verdict.kind !== 'retry') return;
      if (verdict.reallocate) pending = { epoch: group.epoch, failed: verdict.failed };
      throw new SluiceError(
        'SLUICE_ERR_UNAVAILABLE',
        `group ${batch.groupId} epoch ${group.epoch}: ${verdict.why}`,
      );
    };
    try {
      await retry(attempt, {
        maxAttempts: this.#deps.options.pushAttempts,
        baseDelayMs: 50,
        what: `push of map ${this.#writer.mapId} group ${batch.groupId}`,
      });
    } catch (err) {
      if (err instanceof InvalidArgumentError) throw err;
      throw new SluiceError(
        'SLUICE_ERR_PUSH_FAILED',
        `map ${this.#writer.mapId} attempt ${this.#writer.attemptId}: ${describe(err)}`,
        { cause: err, context: { mapId: this.#writer.mapId, groupId: batch.groupId } },
      );
    }
  }

  /**
   * Window slots on the group's current pair. A push can wait a long time for its slots, and
   * the group may move meanwhile (SOFT_SPLIT, a failed worker): it must then go to the new
   * epoch, not the one it read before waiting, so a moved group gives the slots back and waits
   * on the new pair.
   */
  async #acquireCurrent(
    groupId: number,
  ): Promise<{ group: PartitionGroup__Output; targets: WorkerAddress__Output[] }> {
    for (;;) {
      const group = this.#deps.context.current(groupId);
      const targets = [group.primary, group.replica].filter((w): w is WorkerAddress__Output => !!w);
      await this.#deps.windows.acquire(targets.map((t) => t.workerId));
      if (this.#deps.context.current(groupId).epoch === group.epoch) return { group, targets };
      for (const t of targets) this.#deps.windows.release(t.workerId, 'failed');
    }
  }

  /** Reallocation; a STAGE_ENDED refusal ends the stage for this writer instead of failing. */
  async #moveGroup(groupId: number, epoch: number, failed: string[]): Promise<void> {
    try {
      await this.#deps.context.reallocate(groupId, epoch, failed);
    } catch (err) {
      if ((err as SluiceError).code === 'SLUICE_ERR_STAGE_ENDED') this.#stageEnded = true;
      else throw err;
    }
  }

  async #pushTo(
    target: WorkerAddress__Output,
    epoch: number,
    batch: Batch,
    slices: PushSlice[],
    body: Buffer[],
  ): Promise<TargetResult> {
    let outcome: PushOutcome = 'failed';
    try {
      const conn = await this.#deps.pool.get({
        workerId: target.workerId,
        host: target.host,
        dataPort: target.dataPort,
      });
      const header = {
        appId: this.#writer.appId as AppId,
        shuffleId: this.#writer.shuffleId as ShuffleId,
        mapId: this.#writer.mapId,
        attemptId: this.#writer.attemptId,
        epoch,
        groupId: batch.groupId,
        slices,
      };
      const frame = await conn.request(
        (id) => encodePushFrame(id, header, body),
        this.#deps.options.pushTimeoutMs,
        'SLUICE_ERR_PUSH_TIMEOUT',
      );
      const { statuses } = decodePushAck(frame.header);
      outcome = windowOutcome(statuses);
      return { workerId: target.workerId, statuses };
    } catch (error) {
      return { workerId: target.workerId, error };
    } finally {
      this.#deps.windows.release(target.workerId, outcome);
    }
  }
}

function frameBody(batch: Batch): { slices: PushSlice[]; body: Buffer[] } {
  const slices: PushSlice[] = [];
  let offset = 0;
  for (const b of batch.blocks) {
    const length = b.header.length + b.stored.length;
    // A slice names a partition once; consecutive blocks of one partition share its slice.
    const last = slices.at(-1);
    if (last?.partitionId === b.partition)
      slices[slices.length - 1] = {
        partitionId: last.partitionId,
        bodyOffset: last.bodyOffset,
        length: last.length + length,
      };
    else slices.push({ partitionId: b.partition, bodyOffset: offset, length });
    offset += length;
  }
  return { slices, body: [batch.body] };
}
