// What the push client does with every wire status, written out by hand so that a change to
// the status table (src/common/status-codes.ts) or to decidePush that makes the writer handle a
// status differently fails here. Each status is tried both ways a worker can send it: as one
// partition's status in a PUSH_ACK, and as an ERROR frame answering the whole PUSH.
import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../common/errors.js';
import { WIRE_STATUSES, WireStatusCode, type WireStatusName } from '../../common/status-codes.js';
import { WorkerRequestError } from '../errors.js';
import { decidePush, windowOutcome, type PushVerdict, type TargetResult } from './push-decision.js';

type Expected =
  | 'ok'
  | 'ok, rotate the epoch'
  | 'stop'
  | 'retry the same workers'
  | 'move the group, blame this worker'
  | 'move the group, blame no one'
  | 'refuse';

/** The writer's behaviour per status. Every status of the table must be listed. */
const EXPECTED: Record<WireStatusName, Expected> = {
  OK: 'ok',
  OK_CONGESTED: 'ok',
  SOFT_SPLIT: 'ok, rotate the epoch',
  HARD_SPLIT: 'move the group, blame this worker',
  STAGE_ENDED: 'stop',
  FAILED: 'move the group, blame this worker',
  UNKNOWN_SHUFFLE: 'move the group, blame this worker',
  STALE_EPOCH: 'move the group, blame no one',
  CRC_MISMATCH: 'retry the same workers',
  MALFORMED_FRAME: 'refuse',
  FRAME_TOO_LARGE: 'refuse',
  THROTTLED: 'retry the same workers',
  NOT_COMMITTED: 'move the group, blame this worker',
  NOT_FOUND: 'move the group, blame this worker',
  INTERNAL: 'move the group, blame this worker',
  UNAVAILABLE: 'retry the same workers',
  CORRUPT_FILE: 'move the group, blame this worker',
  UNAUTHORIZED: 'refuse',
};

/** Window outcome of a PUSH_ACK carrying the status (only acks move the AIMD window). */
const WINDOW: Record<WireStatusName, 'ok' | 'congested' | 'failed'> = {
  OK: 'ok',
  OK_CONGESTED: 'congested',
  SOFT_SPLIT: 'ok',
  HARD_SPLIT: 'failed',
  STAGE_ENDED: 'failed',
  FAILED: 'failed',
  UNKNOWN_SHUFFLE: 'failed',
  STALE_EPOCH: 'failed',
  CRC_MISMATCH: 'failed',
  MALFORMED_FRAME: 'failed',
  FRAME_TOO_LARGE: 'failed',
  THROTTLED: 'failed',
  NOT_COMMITTED: 'failed',
  NOT_FOUND: 'failed',
  INTERNAL: 'failed',
  UNAVAILABLE: 'failed',
  CORRUPT_FILE: 'failed',
  UNAUTHORIZED: 'failed',
};

function describeVerdict(v: PushVerdict): Expected {
  switch (v.kind) {
    case 'ok':
      return v.rotateEpoch ? 'ok, rotate the epoch' : 'ok';
    case 'stage-ended':
      return 'stop';
    case 'refused':
      return 'refuse';
    case 'retry':
      if (!v.reallocate) return 'retry the same workers';
      return v.failed.length > 0
        ? 'move the group, blame this worker'
        : 'move the group, blame no one';
  }
}

const PARTITIONS = [3, 4];
const okAck = (workerId: string): TargetResult => ({
  workerId,
  statuses: PARTITIONS.map((partitionId) => ({ partitionId, status: WireStatusCode.OK })),
});

describe('decidePush: every wire status', () => {
  it('lists every status of the table (a new status needs a decision here)', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual(WIRE_STATUSES.map((s) => s.name).sort());
  });

  it.each(WIRE_STATUSES.map((s) => [s.name as WireStatusName, s.value] as const))(
    '%s in a PUSH_ACK for one partition of the replica',
    (name, value) => {
      const replica: TargetResult = {
        workerId: 'w2',
        statuses: [
          { partitionId: 3, status: WireStatusCode.OK },
          { partitionId: 4, status: value },
        ],
      };
      const verdict = decidePush([okAck('w1'), replica], PARTITIONS);
      expect(describeVerdict(verdict)).toBe(EXPECTED[name]);
      if (verdict.kind === 'retry' && verdict.failed.length > 0)
        expect(verdict.failed).toEqual(['w2']);
      expect(windowOutcome(replica.statuses!)).toBe(WINDOW[name]);
    },
  );

  it.each(
    WIRE_STATUSES.filter((s) => !s.ok).map((s) => [s.name as WireStatusName, s.value] as const),
  )('%s as an ERROR frame from the primary', (name, value) => {
    const primary: TargetResult = {
      workerId: 'w1',
      error: new WorkerRequestError(value, 'w1', 'refused'),
    };
    const verdict = decidePush([primary, okAck('w2')], PARTITIONS);
    expect(describeVerdict(verdict)).toBe(EXPECTED[name]);
    if (verdict.kind === 'retry' && verdict.failed.length > 0)
      expect(verdict.failed).toEqual(['w1']);
  });
});

describe('decidePush: failures that are not a status', () => {
  it.each<[string, unknown]>([
    ['a push timeout', new SluiceError('SLUICE_ERR_PUSH_TIMEOUT', 'no answer')],
    ['a lost connection', new SluiceError('SLUICE_ERR_UNAVAILABLE', 'connection reset')],
    ['an undecodable answer', new Error('bad PUSH_ACK')],
    ['a status this build does not know', new WorkerRequestError(99, 'w1', 'from the future')],
  ])('%s moves the group away from that worker', (_what, error) => {
    const verdict = decidePush([{ workerId: 'w1', error }, okAck('w2')], PARTITIONS);
    expect(verdict).toMatchObject({ kind: 'retry', reallocate: true, failed: ['w1'] });
  });

  it('an ack that leaves out a partition counts against that worker', () => {
    const partial: TargetResult = {
      workerId: 'w2',
      statuses: [{ partitionId: 3, status: WireStatusCode.OK }],
    };
    const verdict = decidePush([okAck('w1'), partial], PARTITIONS);
    expect(verdict).toMatchObject({ kind: 'retry', reallocate: true, failed: ['w2'] });
    expect(verdict.kind === 'retry' && verdict.why).toContain('partition 4 no status');
  });

  it('STAGE_ENDED from one target wins over a failure of the other', () => {
    const verdict = decidePush(
      [
        { workerId: 'w1', error: new WorkerRequestError(WireStatusCode.STAGE_ENDED, 'w1', 'x') },
        { workerId: 'w2', error: new SluiceError('SLUICE_ERR_UNAVAILABLE', 'reset') },
      ],
      PARTITIONS,
    );
    expect(verdict).toEqual({ kind: 'stage-ended' });
  });

  it('both workers failing are both excluded from the next pair', () => {
    const verdict = decidePush(
      [
        { workerId: 'w1', error: new WorkerRequestError(WireStatusCode.HARD_SPLIT, 'w1', 'x') },
        { workerId: 'w2', error: new WorkerRequestError(WireStatusCode.FAILED, 'w2', 'y') },
      ],
      PARTITIONS,
    );
    expect(verdict).toMatchObject({ kind: 'retry', reallocate: true, failed: ['w1', 'w2'] });
  });
});
