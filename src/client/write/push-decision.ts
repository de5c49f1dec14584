// What the push client does with the answers to one batch pushed to a group's primary and
// replica (docs/architecture.md#replication-and-acknowledgements). A pure function of the
// answers: every wire status is looked up in the one status table (its `push` action,
// src/common/status-codes.ts), so no list of statuses lives here. A failure that is not a
// worker's answer (connection lost, push timeout, an answer that cannot be decoded) counts
// against that worker: the group moves away from it.
import { pushActionOf, wireStatus, type PushAction } from '../../common/status-codes.js';
import type { PartitionStatus } from '../../common/wire/index.js';
import { describe, WorkerRequestError } from '../errors.js';

/** One target's answer: the per-partition statuses of its PUSH_ACK, or why there is none. */
export interface TargetResult {
  readonly workerId: string;
  readonly statuses?: readonly PartitionStatus[];
  readonly error?: unknown;
}

export type PushVerdict =
  /** Both targets hold every partition; `rotateEpoch`: move later pushes to a new epoch. */
  | { kind: 'ok'; rotateEpoch: boolean }
  /** The shuffle was committed: stop pushing, the attempt is discarded. */
  | { kind: 'stage-ended' }
  /**
   * Push the same batch again after a back-off; with `reallocate`, first move the group to
   * a new epoch, excluding the `failed` workers (none when the group had merely moved on).
   */
  | { kind: 'retry'; reallocate: boolean; failed: string[]; why: string }
  /** The request itself was refused: every worker would refuse it, retrying cannot help. */
  | { kind: 'refused'; why: string };

/** The action for one failed target as a whole (ERROR frame, timeout, connection loss). */
export function pushActionOfError(err: unknown): PushAction {
  return err instanceof WorkerRequestError ? pushActionOf(err.statusValue) : 'reallocate';
}

/** Decides what to do with the answers of every target for a batch of `partitions`. */
export function decidePush(
  results: readonly TargetResult[],
  partitions: readonly number[],
): PushVerdict {
  let rotateEpoch = false;
  let stageEnded = false;
  let reallocate = false;
  const failed = new Set<string>();
  const why: string[] = [];
  const apply = (action: PushAction, workerId: string, what: string): boolean => {
    switch (action) {
      case 'accept':
      case 'accept-slow-down': // the window halves itself (windowOutcome)
        return true;
      case 'accept-rotate-epoch':
        rotateEpoch = true;
        return true;
      case 'stop':
        stageEnded = true;
        return true;
      case 'retry':
        why.push(`${workerId}: ${what}`);
        return true;
      case 'refresh-epoch':
        reallocate = true;
        why.push(`${workerId}: ${what}`);
        return true;
      case 'reallocate':
        reallocate = true;
        failed.add(workerId);
        why.push(`${workerId}: ${what}`);
        return true;
      case 'fail':
        return false;
    }
  };
  for (const r of results) {
    if (r.error !== undefined || r.statuses === undefined) {
      if (!apply(pushActionOfError(r.error), r.workerId, describe(r.error)))
        return { kind: 'refused', why: `${r.workerId}: ${describe(r.error)}` };
      continue;
    }
    const seen = new Map(r.statuses.map((s) => [s.partitionId, s.status]));
    for (const p of new Set(partitions)) {
      const value = seen.get(p);
      // A partition the ack does not mention was not taken: that worker is at fault.
      const action = value === undefined ? 'reallocate' : pushActionOf(value);
      const name = value === undefined ? 'no status' : statusName(value);
      if (!apply(action, r.workerId, `partition ${p} ${name}`))
        return { kind: 'refused', why: `${r.workerId}: partition ${p} ${name}` };
    }
  }
  if (stageEnded) return { kind: 'stage-ended' };
  if (why.length === 0) return { kind: 'ok', rotateEpoch };
  return {
    kind: 'retry',
    reallocate,
    failed: [...failed],
    why: [...new Set(why)].slice(0, 4).join('; '),
  };
}

/**
 * How one target's PUSH_ACK moves its in-flight window (AIMD): 'ok' grows it, 'congested'
 * halves it, 'failed' gives the slot back without growing.
 */
export function windowOutcome(statuses: readonly PartitionStatus[]): 'ok' | 'congested' | 'failed' {
  let congested = false;
  for (const s of statuses) {
    const action = pushActionOf(s.status);
    if (action === 'accept-slow-down') congested = true;
    else if (action !== 'accept' && action !== 'accept-rotate-epoch') return 'failed';
  }
  return congested ? 'congested' : 'ok';
}

function statusName(value: number): string {
  return wireStatus(value)?.name ?? `UNKNOWN(${value})`;
}
