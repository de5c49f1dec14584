// Shuffle sizes as workers report them (docs/operations.md#dashboard): every heartbeat lists
// the shuffles a worker holds with the bytes pushed to it and, once its commit finished, the
// committed partition files' total and largest length. The manager keeps each worker's latest
// report per live shuffle (nothing persisted: heartbeats bring it back after a restart) and
// adds them up for the JSON API. Replica copies count on the worker that holds them.
import type { HeldSizesView } from '../types.js';

/** One shuffle's sizes summed over the workers that reported them; null: none reported yet. */
export interface ShuffleSizeTotals {
  readonly bytesPushed: number | null;
  /** Over the workers whose commit of the shuffle finished. */
  readonly bytesCommitted: number | null;
  readonly partitionFiles: number | null;
  readonly largestPartitionBytes: number | null;
  /** Largest committed file / mean committed file (1 = even); null without committed bytes. */
  readonly skew: number | null;
}

export const UNKNOWN_SIZES: ShuffleSizeTotals = {
  bytesPushed: null,
  bytesCommitted: null,
  partitionFiles: null,
  largestPartitionBytes: null,
  skew: null,
};

export class ShuffleSizes {
  /** Shuffle key -> worker id -> that worker's latest report. */
  readonly #reports = new Map<string, Map<string, HeldSizesView>>();

  /** Call only for shuffles the manager holds, so the map stays bounded by them. */
  record(shuffle: string, workerId: string, sizes: HeldSizesView): void {
    let byWorker = this.#reports.get(shuffle);
    if (!byWorker) {
      byWorker = new Map();
      this.#reports.set(shuffle, byWorker);
    }
    byWorker.set(workerId, sizes);
  }

  dropShuffle(shuffle: string): void {
    this.#reports.delete(shuffle);
  }

  /** The worker left the registry, or registered again as a new process. */
  dropWorker(workerId: string): void {
    for (const [shuffle, byWorker] of this.#reports) {
      byWorker.delete(workerId);
      if (byWorker.size === 0) this.#reports.delete(shuffle);
    }
  }

  totals(shuffle: string): ShuffleSizeTotals {
    const byWorker = this.#reports.get(shuffle);
    if (!byWorker) return UNKNOWN_SIZES;
    let pushed = 0;
    let committedOn = 0;
    let bytes = 0;
    let files = 0;
    let largest = 0;
    for (const r of byWorker.values()) {
      pushed += r.bytesPushed;
      if (!r.committed) continue;
      committedOn++;
      bytes += r.bytesCommitted;
      files += r.partitionFiles;
      largest = Math.max(largest, r.largestPartitionBytes);
    }
    if (committedOn === 0) return { ...UNKNOWN_SIZES, bytesPushed: pushed };
    return {
      bytesPushed: pushed,
      bytesCommitted: bytes,
      partitionFiles: files,
      largestPartitionBytes: largest,
      skew: bytes > 0 ? largest / (bytes / files) : null,
    };
  }
}
