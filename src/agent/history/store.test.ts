import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { trainStumps } from '../policy/initial-model.js';
import { HistoryStore } from './store.js';

const features = {
  tasks: 200,
  inputBytes: 1e9,
  shuffleReadBytes: 0,
  shuffleWriteBytes: 5e8,
  parentShuffles: 0,
  partitions: 200,
  skew: 1.1,
};

describe('HistoryStore (SQLite)', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('keeps stages and models across reopen', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-agent-'));
    dirs.push(dir);
    const path = join(dir, 'sub', 'agent.db');
    const a = new HistoryStore(path);
    const rec = { appId: 'app', features, level: 7, durationSeconds: 30, executorsUsed: 7 };
    a.recordStage({ ...rec, stageId: 1, completedAtMs: 1 });
    a.recordStage({ ...rec, stageId: 1, completedAtMs: 2, level: 8 }); // re-reported
    a.recordStage({ ...rec, stageId: 2, completedAtMs: 3 });
    const model = trainStumps(a.samples());
    a.saveModel(model, 4);
    a.close();
    a.close();
    const b = new HistoryStore(path);
    expect(b.stageCount()).toBe(2);
    expect(b.samples().map((s) => s.level)).toEqual([7, 8]);
    expect(b.latestModel()).toEqual(model);
    b.close();
  });
});
