// Which workers may receive partition groups, and in which order ties are broken
// (docs/architecture.md#allocation-policies). Shared by every policy so that they agree on who is eligible and
// fail with the same explanation when nobody is.
import { NoWorkersError } from '../../common/errors.js';
import type { AllocationRequest, WorkerCandidate } from './types.js';

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/** Human-readable binary size for error messages ("1 GiB", "1.5 MiB"). */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const text = Number.isInteger(value) ? String(value) : value.toFixed(1);
  return `${text} ${BYTE_UNITS[unit]}`;
}

/**
 * A worker with no free disk at all is never eligible, even when the request sets no minimum:
 * its buffers could not be flushed and every push would end in a reallocation.
 */
function hasRoom(worker: WorkerCandidate, minFreeDiskBytes: number): boolean {
  return worker.freeDiskBytes > 0 && worker.freeDiskBytes >= minFreeDiskBytes;
}

function diskRule(minFreeDiskBytes: number): string {
  return minFreeDiskBytes > 0 ? `free disk ≥ ${formatBytes(minFreeDiskBytes)}` : 'free disk';
}

/** Rotates `items` left by `cursor` (any integer, negative included; non-finite counts as 0). */
export function rotate<T>(items: readonly T[], cursor: number): T[] {
  const n = items.length;
  if (n === 0) return [];
  const shift = ((Math.trunc(cursor) % n) + n) % n || 0;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

/**
 * The eligible workers sorted by id and rotated by `request.cursor`: sorting makes the result
 * independent of the registry's iteration order (same input → same plan), and rotating lets
 * successive requests start their tie-breaks on different workers so that equal workers share
 * the work. Throws NoWorkersError, with the reason, when the request cannot be placed.
 */
export function eligibleWorkers(
  workers: readonly WorkerCandidate[],
  request: AllocationRequest,
): WorkerCandidate[] {
  const eligible: WorkerCandidate[] = [];
  let excluded = 0;
  for (const worker of workers) {
    if (request.exclude?.has(worker.id) === true) excluded++;
    else if (hasRoom(worker, request.minFreeDiskBytes)) eligible.push(worker);
  }
  const considered = workers.length;
  const withoutDisk = considered - excluded - eligible.length;
  const context = { considered, excluded, withoutDisk, eligible: eligible.length };
  const counts = `${considered} considered, ${excluded} excluded`;
  if (eligible.length === 0) {
    const why =
      considered === 0
        ? 'no healthy workers are registered'
        : excluded === considered
          ? 'every worker is excluded'
          : `no worker has ${diskRule(request.minFreeDiskBytes)}`;
    throw new NoWorkersError(`${why} (${counts})`, { context });
  }
  if (request.replicate && eligible.length < 2) {
    throw new NoWorkersError(
      `replication needs two workers but only ${eligible.length} is eligible ` +
        `(${counts}, ${withoutDisk} without ${diskRule(request.minFreeDiskBytes)})`,
      { context },
    );
  }
  eligible.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return rotate(eligible, request.cursor);
}
