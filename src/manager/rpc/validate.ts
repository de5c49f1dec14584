// Validation of ManagerService requests: every field is checked before the manager acts on
// it, and a refusal names the field (proto spelling) so the caller knows what to fix.
import { InvalidArgumentError } from '../../common/errors.js';
import {
  parseAppId,
  parseInteger,
  parseShuffleId,
  parseWorkerId,
  type AppId,
} from '../../common/ids.js';
import type { DiskInfo__Output } from '../../common/proto/gen/sluice/v1/DiskInfo.js';
import type { WorkerAddress__Output } from '../../common/proto/gen/sluice/v1/WorkerAddress.js';
import type { WorkerLoad__Output } from '../../common/proto/gen/sluice/v1/WorkerLoad.js';
import type { HeldShuffle__Output } from '../../common/proto/gen/sluice/v1/HeldShuffle.js';
import type { HeldShuffleView, HeldSizesView } from '../cluster-manager.js';
import {
  type DiskView,
  type ServingState,
  type WorkerLoadView,
} from '../registry/worker-registry.js';
import type { WorkerRef } from '../state/store.js';

const HOST = /^[A-Za-z0-9._:-]{1,253}$/;
const MAX_LIST = 1_000_000;
const MAX_TEXT = 256;
const SERVING_STATES: readonly ServingState[] = [
  'SERVING',
  'PUSH_PAUSED',
  'FULL',
  'DECOMMISSIONING',
  'SHUTTING_DOWN',
];

export function workerRef(address: WorkerAddress__Output | null, field = 'address'): WorkerRef {
  if (!address) throw new InvalidArgumentError(field, 'is required');
  if (!HOST.test(address.host)) {
    throw new InvalidArgumentError(
      `${field}.host`,
      `must be a host name or IP address, got ${JSON.stringify(address.host.slice(0, 64))}`,
    );
  }
  return {
    workerId: parseWorkerId(address.workerId, `${field}.worker_id`),
    host: address.host,
    rack: address.rack === '' ? '' : parseWorkerId(address.rack, `${field}.rack`),
    controlPort: parseInteger(address.controlPort, `${field}.control_port`, 1, 65_535),
    dataPort: parseInteger(address.dataPort, `${field}.data_port`, 1, 65_535),
    httpPort: parseInteger(address.httpPort, `${field}.http_port`, 0, 65_535),
  };
}

export function disks(list: readonly DiskInfo__Output[], field = 'disks'): DiskView[] {
  checkListSize(list, field, 1024);
  return list.map((d, i) => {
    if (d.path.length === 0 || d.path.length > 4096)
      throw new InvalidArgumentError(`${field}[${i}].path`, 'must be 1-4096 characters');
    if (d.freeBytes > d.capacityBytes) {
      throw new InvalidArgumentError(
        `${field}[${i}].free_bytes`,
        `${d.freeBytes} exceeds capacity_bytes ${d.capacityBytes}`,
      );
    }
    return {
      path: d.path,
      capacityBytes: d.capacityBytes,
      freeBytes: d.freeBytes,
      healthy: d.healthy,
      kind: d.kind || 'disk',
      state: d.state || (d.healthy ? 'healthy' : 'failing'),
    };
  });
}

export function load(value: WorkerLoad__Output | null): WorkerLoadView | undefined {
  if (!value) return undefined;
  const rate = (n: number, f: string) => {
    if (!Number.isFinite(n) || n < 0)
      throw new InvalidArgumentError(`load.${f}`, `must be a finite number >= 0, got ${n}`);
    return n;
  };
  const state =
    value.servingState === 'WORKER_SERVING_STATE_UNSPECIFIED' ? 'SERVING' : value.servingState;
  if (!SERVING_STATES.includes(state as ServingState)) {
    throw new InvalidArgumentError(
      'load.serving_state',
      `unknown state ${JSON.stringify(value.servingState)}`,
    );
  }
  checkListSize(value.throttledApps, 'load.throttled_apps', MAX_LIST);
  return {
    pushBytesPerSec: rate(value.pushBytesPerSec, 'push_bytes_per_sec'),
    fetchBytesPerSec: rate(value.fetchBytesPerSec, 'fetch_bytes_per_sec'),
    memoryUsedBytes: value.memoryUsedBytes,
    flushQueueBytes: value.flushQueueBytes,
    disks: disks(value.disks, 'load.disks'),
    activeShuffles: value.activeShuffles,
    servingState: state as ServingState,
    throttledApps: value.throttledApps.map((a, i) => parseAppId(a, `load.throttled_apps[${i}]`)),
  };
}

/**
 * The shuffles a worker reports holding. An entry that is not a valid id is skipped, not
 * fatal: refusing the whole heartbeat would make a healthy worker look lost. Sizes that do not
 * add up (a largest file above the total, bytes in no file) are left out, the entry kept.
 */
export function heldShuffles(list: readonly HeldShuffle__Output[]): {
  held: HeldShuffleView[];
  skipped: number;
} {
  checkListSize(list, 'held_shuffles', MAX_LIST);
  const held: HeldShuffleView[] = [];
  for (const r of list) {
    try {
      held.push({
        appId: parseAppId(r.appId),
        shuffleId: parseShuffleId(r.shuffleId),
        sizes: heldSizes(r),
      });
    } catch {
      // Skipped; the caller counts and logs how many.
    }
  }
  return { held, skipped: list.length - held.length };
}

function heldSizes(r: HeldShuffle__Output): HeldSizesView | undefined {
  const sizes = {
    bytesPushed: r.bytesPushed,
    committed: r.committed,
    bytesCommitted: r.bytesCommitted,
    partitionFiles: r.partitionFiles,
    largestPartitionBytes: r.largestPartitionBytes,
  };
  const consistent =
    r.largestPartitionBytes <= r.bytesCommitted &&
    (r.partitionFiles > 0 || r.bytesCommitted === 0) &&
    (r.committed || (r.bytesCommitted === 0 && r.partitionFiles === 0));
  return consistent ? sizes : undefined;
}

export function appId(value: string): AppId {
  return parseAppId(value, 'app_id');
}

export function text(value: string, field: string): string {
  if (value.length > MAX_TEXT)
    throw new InvalidArgumentError(field, `must be at most ${MAX_TEXT} characters`);
  return value;
}

/** 0 means "default" (3); 1 is the highest priority, 5 the lowest (docs/architecture.md#ess-mode). */
export function priority(value: number): number {
  return value === 0 ? 3 : parseInteger(value, 'priority', 1, 5);
}

export function workerIds(list: readonly string[], field: string): string[] {
  checkListSize(list, field, 10_000);
  return list.map((id, i) => parseWorkerId(id, `${field}[${i}]`));
}

function checkListSize(list: readonly unknown[], field: string, max: number): void {
  if (list.length > max)
    throw new InvalidArgumentError(field, `has ${list.length} entries, at most ${max} allowed`);
}
