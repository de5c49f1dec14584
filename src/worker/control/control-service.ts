// WorkerControlService (proto/sluice/v1/worker.proto): CommitFiles, DestroyShuffle and
// Decommission, called by drivers and operators.
//
// A worker learns its shuffles from the pushes it accepts (each checked against the manager's
// allocation). CommitFiles and DestroyShuffle for a shuffle it holds nothing of answer an
// empty success and create nothing: a commit used to record an empty shuffle that every later
// heartbeat listed, and a destroy a deletion memory entry and a delete on every storage, so a
// caller looping over made-up ids grew the worker's state without bound. A driver commits
// every worker that ever held a group, including one that received no push: empty is the
// right answer for it too (docs/operations.md#limits-against-hostile-or-buggy-clients).
import type * as grpc from '@grpc/grpc-js';
import { InvalidArgumentError } from '../../common/errors.js';
import { parseAppId, parseShuffleId } from '../../common/ids.js';
import type { Logger } from '../../common/obs/logger.js';
import { COMMIT_PAGE_SIZE, MAX_COMMIT_PAGE_SIZE } from '../../common/proto/commit-page.js';
import { unaryHandler, type UnaryObserver } from '../../common/proto/rpc.js';
import type { CallRule } from '../../common/security/call-auth.js';
import type { WorkerControlServiceHandlers } from '../../common/proto/gen/sluice/v1/WorkerControlService.js';
import type { WorkerMetrics } from '../metrics.js';
import type { CommitFilesResponse } from '../../common/proto/gen/sluice/v1/CommitFilesResponse.js';
import type { CommitResult, PartitionStore } from '../storage/partition-store.js';

export interface ControlContext {
  readonly workerId: string;
  readonly store: PartitionStore;
  readonly metrics: WorkerMetrics;
  readonly logger: Logger;
  /** Forget cached allocations of a destroyed shuffle. */
  readonly forget: (appId: string, shuffleId: number) => void;
  readonly decommission: (timeoutMs: number) => void;
  /** Commits in progress (graceful shutdown waits for them). */
  readonly track: (p: Promise<unknown>) => void;
}

/**
 * Who may call (docs/operations.md#security): an app commits and destroys its own shuffles
 * (its driver), daemons any; only daemons (the cluster secret) decommission.
 */
export const CONTROL_RULES = {
  CommitFiles: { app: (r: { appId: string }) => r.appId },
  DestroyShuffle: { app: (r: { appId: string }) => r.appId },
  Decommission: 'cluster',
} satisfies Record<keyof WorkerControlServiceHandlers, CallRule<{ appId: string }>>;

export function controlHandlers(ctx: ControlContext): WorkerControlServiceHandlers {
  const observe: UnaryObserver = (method, code, _seconds, err) => {
    if (method === 'CommitFiles')
      ctx.metrics.commits.inc({ outcome: code === 'OK' ? 'ok' : 'error' });
    if (err && code !== 'SLUICE_ERR_INVALID_ARGUMENT')
      ctx.logger.error({ method, err }, 'control call failed');
  };
  /** True (and counted) when the worker holds nothing of the shuffle. */
  const unknown = (method: string, appId: string, shuffleId: number): boolean => {
    if (ctx.store.holds(appId, shuffleId)) return false;
    ctx.metrics.unknownShuffleCalls.inc({ method });
    ctx.logger.debug({ method, appId, shuffleId }, 'call for a shuffle held nothing of here');
    return true;
  };
  const handlers: WorkerControlServiceHandlers = {
    CommitFiles: unaryHandler(
      'CommitFiles',
      async (req) => {
        const appId = parseAppId(req.appId, 'app_id');
        const shuffleId = parseShuffleId(req.shuffleId, 'shuffle_id');
        // An empty answer, its page checked like any other (a bad page_size is refused
        // whether this worker holds the shuffle or not).
        if (unknown('CommitFiles', appId, shuffleId)) return commitPage(ctx.workerId, [], [], req);
        // Pages after the first ask again for the same (memoized) commit: log it once.
        const first = !ctx.store.isCommitted(appId, shuffleId);
        const started = Date.now();
        if (first) ctx.logger.info({ appId, shuffleId }, 'commit started');
        const commit = ctx.store.commit(appId, shuffleId);
        ctx.track(commit);
        const { files, failed } = await commit;
        if (first)
          ctx.logger.info(
            {
              appId,
              shuffleId,
              files: files.length,
              failed: failed.length,
              ms: Date.now() - started,
            },
            'commit finished',
          );
        return commitPage(ctx.workerId, files, failed, req);
      },
      observe,
    ),
    DestroyShuffle: unaryHandler(
      'DestroyShuffle',
      async (req) => {
        const appId = parseAppId(req.appId, 'app_id');
        const shuffleId = parseShuffleId(req.shuffleId, 'shuffle_id');
        if (unknown('DestroyShuffle', appId, shuffleId)) return { bytesDeleted: 0 };
        const bytesDeleted = await ctx.store.destroyShuffle(appId, shuffleId);
        ctx.forget(appId, shuffleId);
        return { bytesDeleted };
      },
      observe,
    ),
    Decommission: unaryHandler(
      'Decommission',
      (req: { timeoutMs: number }) => {
        ctx.decommission(decommissionTimeout(req.timeoutMs));
        return {};
      },
      observe,
    ),
  };
  return handlers as WorkerControlServiceHandlers & grpc.UntypedServiceImplementation;
}

/**
 * One page of a CommitFiles answer: items [page_offset, page_offset + page_size) of the
 * committed files (filtered by `partitions` when not empty) followed by the failed ones. The
 * commit's result is fixed once it finished, so pages of repeated calls line up.
 */
export function commitPage(
  workerId: string,
  files: CommitResult['files'],
  failed: CommitResult['failed'],
  req: { partitions: readonly number[]; pageOffset: number; pageSize: number },
): CommitFilesResponse {
  const size = req.pageSize === 0 ? COMMIT_PAGE_SIZE : req.pageSize;
  if (size > MAX_COMMIT_PAGE_SIZE)
    throw new InvalidArgumentError(
      'page_size',
      `must be 0 (default ${COMMIT_PAGE_SIZE}) or at most ${MAX_COMMIT_PAGE_SIZE}, got ${size}`,
    );
  const only = new Set(req.partitions);
  const wanted = <T extends { partition: number }>(x: T) =>
    only.size === 0 || only.has(x.partition);
  const someFiles = only.size === 0 ? files : files.filter(wanted);
  const someFailed = only.size === 0 ? failed : failed.filter(wanted);
  const total = someFiles.length + someFailed.length;
  const start = req.pageOffset;
  if (start > total)
    throw new InvalidArgumentError(
      'page_offset',
      `the answer has ${total} items, got offset ${start}`,
    );
  const end = Math.min(total, start + size);
  const fileEnd = Math.min(end, someFiles.length);
  const failedStart = Math.max(0, start - someFiles.length);
  return {
    workerId,
    files: someFiles.slice(Math.min(start, fileEnd), fileEnd).map((f) => ({
      partition: f.partition,
      epoch: f.epoch,
      path: f.location,
      length: f.index.fileLength,
      crc32: f.index.fileCrc32,
      chunkCount: f.index.chunkStarts.length,
    })),
    failed: someFailed
      .slice(failedStart, Math.max(failedStart, end - someFiles.length))
      .map((f) => ({ partition: f.partition, epoch: f.epoch, reason: f.reason })),
    nextPageOffset: end < total ? end : 0,
  };
}

/** A decommission that stops the worker sooner than this is refused: acked data needs time to
 *  be committed or to move, and `timeout_ms: 1` was a way to stop any worker at once. */
export const MIN_DECOMMISSION_TIMEOUT_MS = 10_000;
/** Node's timers cannot wait longer (a longer one fires at once). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** 0 (no limit), or a timeout between MIN_DECOMMISSION_TIMEOUT_MS and MAX_TIMER_MS. */
export function decommissionTimeout(timeoutMs: number): number {
  if (timeoutMs === 0) return 0;
  if (
    !Number.isInteger(timeoutMs) ||
    timeoutMs < MIN_DECOMMISSION_TIMEOUT_MS ||
    timeoutMs > MAX_TIMER_MS
  )
    throw new InvalidArgumentError(
      'timeout_ms',
      `must be 0 (no limit) or ${MIN_DECOMMISSION_TIMEOUT_MS}..${MAX_TIMER_MS} ms, got ${timeoutMs}`,
    );
  return timeoutMs;
}
