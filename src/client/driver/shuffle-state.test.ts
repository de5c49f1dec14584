import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../common/errors.js';
import type { PartitionGroup__Output } from '../../common/proto/gen/sluice/v1/PartitionGroup.js';
import type { PartitionWritten__Output } from '../../common/proto/gen/sluice/v1/PartitionWritten.js';
import type { WorkerAddress__Output } from '../../common/proto/gen/sluice/v1/WorkerAddress.js';
import { PathTable, WorkerFiles } from './committed-files.js';
import { ShuffleState } from './shuffle-state.js';

const worker = (workerId: string): WorkerAddress__Output => ({
  workerId,
  host: '127.0.0.1',
  rack: '',
  controlPort: 1,
  dataPort: 2,
  httpPort: 3,
});

const group = (
  groupId: number,
  [startPartition, endPartition]: [number, number],
  epoch: number,
  primary: string,
  replica: string,
): PartitionGroup__Output => ({
  groupId,
  startPartition,
  endPartition,
  epoch,
  primary: worker(primary),
  replica: worker(replica),
});

const wrote = (partition: number, epochs: number[], bytes = 100): PartitionWritten__Output => ({
  partition,
  epochs,
  bytes,
  crc32: 0xabc,
  blocks: 1,
});

/** 2 mappers, 4 partitions in two groups: 0-1 on (A, B), 2-3 on (B, C). */
const newState = () =>
  new ShuffleState('app', 5, 2, 4, [group(0, [0, 2], 0, 'A', 'B'), group(1, [2, 4], 0, 'B', 'C')]);

const paths = new PathTable();

/** A worker's whole CommitFiles answer. */
const committed = (workerId: string, files: [partition: number, epoch: number][]): WorkerFiles => {
  const answer = new WorkerFiles(worker(workerId));
  answer.add(
    files.map(([partition, epoch]) => ({
      partition,
      epoch,
      path: `/data/${workerId}/${partition}-${epoch}.data`,
      length: 100,
      crc32: 1,
      chunkCount: 1,
    })),
    paths,
    4,
  );
  return answer;
};

function thrown(fn: () => unknown): SluiceError {
  try {
    fn();
  } catch (err) {
    return err as SluiceError;
  }
  throw new Error('expected a throw');
}

describe('ShuffleState.mapperEnd', () => {
  it('the first attempt of a mapId to report wins; a later attempt loses', () => {
    const s = newState();
    const first = s.mapperEnd({
      mapId: 0,
      attemptId: 3,
      executorId: 'e1',
      partitions: [wrote(0, [0])],
    });
    expect(first).toEqual({ winner: true, winningAttemptId: 3, firstReport: true });
    const later = s.mapperEnd({
      mapId: 0,
      attemptId: 1,
      executorId: 'e2',
      partitions: [wrote(1, [0])],
    });
    expect(later).toEqual({ winner: false, winningAttemptId: 3, firstReport: true });
    expect(s.winners.get(0)!.attemptId).toBe(3);
    expect([...s.winners.get(0)!.partitions.keys()]).toEqual([0]); // the loser's data is ignored
    expect(s.allMappersDone).toBe(false);
  });

  it('the winner reporting again (a retried MapperEnd) is still the winner', () => {
    const s = newState();
    s.mapperEnd({ mapId: 1, attemptId: 0, executorId: 'e', partitions: [] });
    expect(s.mapperEnd({ mapId: 1, attemptId: 0, executorId: 'e', partitions: [] })).toEqual({
      winner: true,
      winningAttemptId: 0,
      firstReport: false,
    });
    expect(s.winners.size).toBe(1);
  });

  it('a later attempt still gets an answer (it lost) after the commit', () => {
    const s = newState();
    s.mapperEnd({ mapId: 0, attemptId: 0, executorId: 'e', partitions: [] });
    s.mapperEnd({ mapId: 1, attemptId: 0, executorId: 'e', partitions: [] });
    s.recordCommit([], paths, new Map());
    expect(s.mapperEnd({ mapId: 1, attemptId: 9, executorId: 'e', partitions: [] }).winner).toBe(
      false,
    );
  });

  it.each([
    {
      name: 'mapId equal to numMappers',
      input: { mapId: 2, partitions: [] },
      field: 'mapId',
      message: /must be < numMappers \(2\), got 2/,
    },
    {
      name: 'a partition out of range',
      input: { mapId: 0, partitions: [wrote(4, [0])] },
      field: 'partitions[0].partition',
      message: /out of range or repeated: 4/,
    },
    {
      name: 'a repeated partition',
      input: { mapId: 0, partitions: [wrote(1, [0]), wrote(1, [0])] },
      field: 'partitions[1].partition',
      message: /repeated: 1/,
    },
    {
      name: 'an epoch beyond the group epoch',
      input: { mapId: 0, partitions: [wrote(2, [0, 1])] },
      field: 'partitions[0].epochs',
      message: /must name known epochs \(<= 0\)/,
    },
    {
      name: 'no epochs',
      input: { mapId: 0, partitions: [wrote(0, [])] },
      field: 'partitions[0].epochs',
      message: /known epochs/,
    },
  ])('rejects $name, naming the field', ({ input, field, message }) => {
    const s = newState();
    const err = thrown(() => s.mapperEnd({ attemptId: 0, executorId: 'e', ...input }));
    expect(err.code).toBe('SLUICE_ERR_INVALID_ARGUMENT');
    expect(err.context.field).toBe(field);
    expect(err.message).toMatch(message);
    expect(s.winners.size).toBe(0); // a rejected report does not claim the mapId
  });

  it('accepts an epoch once the group moved to it, and remembers every worker it had', () => {
    const s = newState();
    s.updateGroup(group(1, [2, 4], 1, 'C', 'D'));
    s.updateGroup(group(1, [2, 4], 0, 'B', 'C')); // late, older: ignored for the epoch
    expect(s.group(1).epoch).toBe(1);
    expect(s.servers.map((w) => w.workerId).sort()).toEqual(['A', 'B', 'C', 'D']);
    expect(
      s.mapperEnd({ mapId: 0, attemptId: 0, executorId: 'e', partitions: [wrote(2, [0, 1])] })
        .winner,
    ).toBe(true);
  });

  it('a new mapId after the commit gets STAGE_ENDED', () => {
    // Only reachable when the commit is recorded before every mapper reported (a driver bug
    // or a restart); the state must still refuse instead of adding a winner afterwards.
    const s = newState();
    s.recordCommit([], paths, new Map());
    expect(
      thrown(() => s.mapperEnd({ mapId: 0, attemptId: 0, executorId: 'e', partitions: [] })).code,
    ).toBe('SLUICE_ERR_STAGE_ENDED');
  });
});

describe('ShuffleState.recordCommit: lost partitions', () => {
  type Row = {
    name: string;
    /** mapId -> what its winner wrote */
    winners: PartitionWritten__Output[][];
    answers: WorkerFiles[];
    failed?: [string, string][];
    moved?: boolean;
    lost: number[];
  };
  it.each<Row>([
    {
      name: 'every (p, e) on both replicas',
      winners: [[wrote(0, [0]), wrote(2, [0])], [wrote(1, [0])]],
      answers: [
        committed('A', [
          [0, 0],
          [1, 0],
        ]),
        committed('B', [
          [0, 0],
          [1, 0],
          [2, 0],
        ]),
        committed('C', [[2, 0]]),
      ],
      lost: [],
    },
    {
      name: 'one replica committed, the other worker failed',
      winners: [[wrote(0, [0])], [wrote(2, [0])]],
      answers: [
        committed('B', [
          [0, 0],
          [2, 0],
        ]),
      ],
      failed: [
        ['A', 'connection refused'],
        ['C', 'deadline exceeded'],
      ],
      lost: [],
    },
    {
      name: 'both workers of a group failed',
      winners: [[wrote(0, [0]), wrote(2, [0])], [wrote(3, [0])]],
      answers: [
        committed('C', [
          [2, 0],
          [3, 0],
        ]),
      ],
      failed: [
        ['A', 'x'],
        ['B', 'y'],
      ],
      lost: [0],
    },
    {
      name: 'a (p, e) no worker committed although it answered',
      winners: [[wrote(1, [0])], [wrote(3, [0])]],
      answers: [
        committed('A', [[0, 0]]),
        committed('B', [
          [0, 0],
          [2, 0],
        ]),
        committed('C', [[2, 0]]),
      ],
      lost: [1, 3],
    },
    {
      name: 'the old epoch of a reallocated group has no replica',
      winners: [[wrote(2, [0, 1])], []],
      answers: [committed('C', [[2, 1]]), committed('D', [[2, 1]])],
      failed: [['B', 'gone']],
      moved: true,
      lost: [2],
    },
    {
      name: 'the winner wrote only the new epoch: the dead old epoch does not matter',
      winners: [[wrote(2, [1])], []],
      answers: [committed('C', [[2, 1]])],
      failed: [['B', 'gone']],
      moved: true,
      lost: [],
    },
    {
      name: 'files nobody needs do not hide anything and losers do not count',
      winners: [[], []],
      answers: [committed('A', [[0, 0]])],
      lost: [],
    },
  ])('$name -> lost $lost', ({ winners, answers, failed = [], moved, lost }) => {
    const s = newState();
    if (moved) s.updateGroup(group(1, [2, 4], 1, 'C', 'D'));
    winners.forEach((partitions, mapId) =>
      s.mapperEnd({ mapId, attemptId: 0, executorId: 'e', partitions }),
    );
    // a losing attempt of map 0 that wrote partition 1 nowhere committed
    s.mapperEnd({ mapId: 0, attemptId: 1, executorId: 'e', partitions: [wrote(1, [0])] });
    expect(s.allMappersDone).toBe(true);
    const outcome = s.recordCommit(answers, paths, new Map(failed));
    expect(outcome.lost).toEqual(lost);
    expect([...outcome.failedWorkers.keys()]).toEqual(failed.map(([w]) => w));
    expect(s.committed).toBe(true);
    expect(s.outcome).toBe(outcome);
  });

  it("refuses a worker's answer naming a partition the shuffle does not have", () => {
    for (const partition of [4, 2 ** 32 - 1]) {
      const err = thrown(() =>
        committed('A', [
          [0, 0],
          [partition, 0],
        ]),
      );
      expect(err).toBeInstanceOf(SluiceError);
      expect(err.code).toBe('SLUICE_ERR_INTERNAL');
      expect(err.message).toMatch(
        new RegExp(
          `worker A answered CommitFiles with a file of partition ${partition}, but the shuffle has 4 partitions`,
        ),
      );
    }
  });

  it('files are grouped by partition and epoch with their worker addresses', () => {
    const s = newState();
    s.mapperEnd({ mapId: 0, attemptId: 0, executorId: 'e', partitions: [wrote(0, [0])] });
    s.mapperEnd({ mapId: 1, attemptId: 0, executorId: 'e', partitions: [] });
    const outcome = s.recordCommit(
      [committed('A', [[0, 0]]), committed('B', [[0, 0]])],
      paths,
      new Map(),
    );
    const replicas = outcome.files.get(0)!.get(0)!;
    expect(replicas.map((r) => [r.worker?.workerId, r.path])).toEqual([
      ['A', '/data/A/0-0.data'],
      ['B', '/data/B/0-0.data'],
    ]);
  });

  // Regression: a MapperEnd the executor sent again (after a deadline) counted its bytes twice
  // toward executor rolling; the driver now counts only a first report.
  it('says whether a (mapId, attemptId) reports for the first time, winners and losers alike', () => {
    const s = newState();
    const report = (attemptId: number) =>
      s.mapperEnd({ mapId: 0, attemptId, executorId: 'e1', partitions: [wrote(0, [0])] });
    expect(report(0)).toEqual({ winner: true, winningAttemptId: 0, firstReport: true });
    expect(report(0)).toEqual({ winner: true, winningAttemptId: 0, firstReport: false });
    expect(report(1)).toEqual({ winner: false, winningAttemptId: 0, firstReport: true });
    expect(report(1)).toEqual({ winner: false, winningAttemptId: 0, firstReport: false });
  });
});
