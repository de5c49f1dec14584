// Builders of AppView/StageView for the policies' table-driven tests.
import type { AppView, ExecutorView, StageView } from './types.js';

export function stageView(p: Partial<StageView> = {}): StageView {
  return {
    id: 0,
    features: {
      tasks: 100,
      inputBytes: 0,
      shuffleReadBytes: 0,
      shuffleWriteBytes: 1e9,
      parentShuffles: 0,
      partitions: 100,
      skew: 1,
    },
    tasks: 100,
    completed: 0,
    running: 0,
    pending: 100,
    completedTaskSeconds: 0,
    executors: 0,
    executorsStarting: 0,
    submittedAt: 0,
    writesShuffle: true,
    ...p,
  };
}

export function executorView(id: string, p: Partial<ExecutorView> = {}): ExecutorView {
  return {
    id,
    ready: true,
    busy: false,
    stageId: null,
    idleSince: 0,
    unackedPushBytes: 0,
    ...p,
  };
}

export function appView(p: Partial<AppView> = {}): AppView {
  return {
    now: 0,
    cores: 4,
    memoryGb: 16,
    maxExecutors: 50,
    stages: [],
    executors: [],
    executorsStarting: 0,
    shuffle: { maxMemoryFraction: 0, throttling: false },
    ...p,
  };
}
