// Handles one PUSH frame (docs/protocol.md, docs/architecture.md#worker): checks the allocation, verifies block CRCs on
// receipt (worker.verifyOnPush), appends each partition's slice to its file buffer and
// answers one status per partition. Acked means "held in memory here"; the storage comes
// later. The status is decided here, from what the store says it did (statusOf).
import { WireStatusCode, type WireStatusName } from '../../common/status-codes.js';
import {
  decodePushFrame,
  partsLength,
  validateBlockParts,
  WireProtocolError,
  type Frame,
  type PartitionStatus,
} from '../../common/wire/index.js';
import type { MemoryManager } from '../memory/memory-manager.js';
import type { WorkerMetrics } from '../metrics.js';
import type { AppendResult, PartitionStore } from '../storage/partition-store.js';
import type { AllocationCache } from './allocation-cache.js';

export interface PushContext {
  readonly store: PartitionStore;
  readonly allocations: AllocationCache;
  readonly memory: MemoryManager;
  readonly metrics: WorkerMetrics;
  readonly verifyOnPush: boolean;
  /** worker.epochRotateBytes: a file past this answers SOFT_SPLIT. */
  readonly epochRotateBytes: number;
  /** Called after a push's slices were appended (the worker flushes early past a watermark). */
  readonly afterPush?: () => void;
  /**
   * True once a shutdown (SIGTERM) began: new pushes get HARD_SPLIT. A decommissioning worker
   * still takes pushes for the groups it has (docs/architecture.md#worker).
   */
  readonly shuttingDown: () => boolean;
}

/** Throws WireProtocolError when the header is malformed (answered with an ERROR frame). */
/**
 * `authorize` throws (UNAUTHORIZED) unless the connection may push for the app; nothing of a
 * refused push is looked at further.
 */
export async function handlePush(
  ctx: PushContext,
  frame: Frame,
  authorize: (appId: string) => void = () => undefined,
): Promise<PartitionStatus[]> {
  const { push, parts } = decodePushFrame(frame);
  authorize(push.appId);
  const all = (status: WireStatusName) =>
    parts.map((p) => ({ partitionId: p.partitionId, status: WireStatusCode[status] }));
  if (ctx.shuttingDown()) return count(ctx, all('HARD_SPLIT'));
  if (ctx.store.isCommitted(push.appId, push.shuffleId)) return count(ctx, all('STAGE_ENDED'));
  const verdict = await ctx.allocations.check(
    push.appId,
    push.shuffleId,
    push.groupId,
    push.epoch,
    parts.map((p) => p.partitionId),
  );
  if (verdict !== 'OK') return count(ctx, all(verdict));
  // The first push of a shuffle here waits until the shuffle is recorded on storage.
  const accepting = ctx.store.accept(push.appId, push.shuffleId);
  if (accepting) {
    try {
      await accepting;
    } catch {
      return count(ctx, all('FAILED')); // logged by the store
    }
  }
  const statuses: PartitionStatus[] = [];
  let acceptedBytes = 0;
  for (const part of parts) {
    let status: WireStatusName;
    try {
      // Verifying yields the slice's CRC too, so the file CRC needs no second pass.
      const sliceCrc = ctx.verifyOnPush ? validateBlockParts(part.data).crc32 : undefined;
      status = statusOf(
        ctx,
        ctx.store.append(
          {
            appId: push.appId,
            shuffleId: push.shuffleId,
            partition: part.partitionId,
            epoch: push.epoch,
          },
          part.data,
          sliceCrc,
        ),
      );
      if (status === 'OK' || status === 'SOFT_SPLIT') acceptedBytes += partsLength(part.data);
      if (status === 'OK' && ctx.memory.paused) status = 'OK_CONGESTED';
    } catch (err) {
      if (!(err instanceof WireProtocolError)) throw err;
      status = err.status;
    }
    statuses.push({ partitionId: part.partitionId, status: WireStatusCode[status] });
  }
  if (acceptedBytes > 0) ctx.metrics.pushBytes.inc(acceptedBytes);
  ctx.afterPush?.();
  return count(ctx, statuses);
}

/**
 * The answer to an append: OK, or SOFT_SPLIT once the file passed worker.epochRotateBytes;
 * a deleted shuffle is unknown, one lost in a restart moves (HARD_SPLIT), a committing one
 * has ended its stage, and a storage that failed or a worker without a storage taking new
 * files answers FAILED (the client moves the group).
 */
function statusOf(ctx: PushContext, result: AppendResult): WireStatusName {
  if (typeof result !== 'string')
    return result.length >= ctx.epochRotateBytes ? 'SOFT_SPLIT' : 'OK';
  switch (result) {
    case 'deleted':
      return 'UNKNOWN_SHUFFLE';
    case 'lost':
      return 'HARD_SPLIT';
    case 'committing':
      return 'STAGE_ENDED';
    case 'no-storage':
    case 'write-failed':
      return 'FAILED';
  }
}

const NAMES = new Map(Object.entries(WireStatusCode).map(([name, value]) => [value, name]));

/**
 * Counts the answers once per status, not once per partition: a push to a thousand small
 * partitions would otherwise pay a labelled counter update (0.3–0.6 µs here) for each.
 */
function count(ctx: PushContext, statuses: PartitionStatus[]): PartitionStatus[] {
  const tally = new Map<number, number>();
  for (const s of statuses) tally.set(s.status, (tally.get(s.status) ?? 0) + 1);
  for (const [status, n] of tally)
    ctx.metrics.pushes.inc({ status: NAMES.get(status) ?? String(status) }, n);
  return statuses;
}
