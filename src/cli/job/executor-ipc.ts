// The IPC messages between `sluice job terasort`'s driver (ExecutorPool) and its executor
// processes (terasort-executor.ts). Only task assignments and summaries cross this channel;
// records go through the shuffle.
//
//   driver                                   executor
//     fork ------------------------------------> (starts)
//     init {job, driver, credential, bounds} -->  builds its ShuffleClient
//        <------------------------------------ ready {cpuMicros}
//     task {kind, task} ---------------------->  (at most --parallel at a time)
//        <------------------------------------ done {kind, task, result} | failed {...}
//     usage ---------------------------------->
//        <------------------------------------ usage {cpuMicros}
//     close ---------------------------------->  closes its client, exits 0
import type { Compression } from '../../client/index.js';
import type { PartitionCheck } from './terasort-validator.js';
import type { MapSummary, TerasortJobSpec } from './terasort-tasks.js';

export type TaskKind = 'map' | 'reduce';

export interface TaskResults {
  readonly map: MapSummary;
  readonly reduce: PartitionCheck;
}

export type ToExecutor =
  | {
      readonly type: 'init';
      readonly job: TerasortJobSpec;
      /** ShuffleHandle.driverAddress and ShuffleHandle.credential. */
      readonly driver: string;
      readonly credential?: string;
      readonly compression: Compression;
      /** The range partitioner's bounds, hex. */
      readonly bounds: readonly string[];
    }
  | { readonly type: 'task'; readonly kind: TaskKind; readonly task: number }
  | { readonly type: 'usage' }
  | { readonly type: 'close' };

export type FromExecutor =
  | { readonly type: 'ready'; readonly cpuMicros: number }
  | {
      readonly type: 'done';
      readonly kind: TaskKind;
      readonly task: number;
      readonly result: TaskResults[TaskKind];
    }
  | {
      readonly type: 'failed';
      readonly kind: TaskKind;
      readonly task: number;
      readonly message: string;
      readonly code?: string;
    }
  | { readonly type: 'usage'; readonly cpuMicros: number };

/** User plus system CPU of this process so far, in microseconds. */
export function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}
