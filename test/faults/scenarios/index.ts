// Every fault scenario of the suite, in the order the chaos runner reports them.
import type { Scenario } from '../harness.js';
import { appExpiry } from './app-expiry.js';
import { damagedFiles } from './corruption.js';
import { diskFailing } from './disk-failing.js';
import { diskFull } from './disk-full.js';
import { gracefulWorkerStop, managerRestart } from './graceful-and-manager.js';
import { leaderKill, leaderPause, zkQuorumLoss } from './manager-ha.js';
import {
  appExpiryRemote,
  diskFillsToRemote,
  diskFillsHdfsAboveWatermark,
  remoteCrashHdfs,
  remoteCrashS3,
  remoteOnlyWorkers,
} from './remote-tiers.js';
import { killDuringCommit, killDuringMaps, killDuringReduce } from './worker-kill.js';
import { networkCut, pausePastPushTimeout } from './worker-stall.js';
import { managerHostPartition, workerHostPartition } from './host-partition.js';

export const SCENARIOS: readonly Scenario[] = [
  killDuringMaps,
  killDuringCommit,
  killDuringReduce,
  pausePastPushTimeout,
  networkCut,
  damagedFiles,
  diskFull,
  diskFailing,
  managerRestart,
  appExpiry,
  gracefulWorkerStop,
  leaderKill,
  leaderPause,
  zkQuorumLoss,
  remoteOnlyWorkers,
  remoteCrashHdfs,
  remoteCrashS3,
  diskFillsToRemote,
  diskFillsHdfsAboveWatermark,
  appExpiryRemote,
  workerHostPartition,
  managerHostPartition,
];
