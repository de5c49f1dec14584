// bench/README.md, row 9: worker memory never above its budget + 10% under any load. Read
// from each worker process at the end of a cluster's scenarios: the peak of the accounted
// push memory (sluice_worker_memory_peak_bytes, what the budget bounds) and, for context,
// the peak resident set size (VmHWM: runtime, buffer pools and code included).
import { readFileSync } from 'node:fs';
import { clearInterval, setInterval } from 'node:timers';

function metric(text, name) {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

function statusBytes(pid, field) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1];
    return kb ? Number(kb) * 1024 : undefined;
  } catch {
    return undefined; // not Linux, or the process is gone
  }
}

const peakRssBytes = (pid) => statusBytes(pid, 'VmHWM');

/** How often sampleWorkerMemory reads the worker (scenario 7's table says so). */
export const SAMPLE_EVERY_MS = 200;

/**
 * Samples one worker's accounted push memory (sluice_worker_memory_used_bytes) and resident
 * set size every SAMPLE_EVERY_MS until stop(), which resolves to the highest of each seen.
 * The peaks since the worker started cannot be read per measurement, so scenario 7 samples.
 */
export function sampleWorkerMemory(worker) {
  let usedPeak = 0;
  let rssPeak = 0;
  let pending = Promise.resolve();
  let error;
  const sample = async () => {
    const res = await globalThis.fetch(`http://127.0.0.1:${worker.httpPort}/metrics`);
    const used = metric(await res.text(), 'sluice_worker_memory_used_bytes');
    if (used > usedPeak) usedPeak = used;
    const rss = statusBytes(worker.pid, 'VmRSS') ?? 0;
    if (rss > rssPeak) rssPeak = rss;
  };
  const next = () => {
    pending = pending.then(sample).catch((err) => {
      error ??= err;
    });
  };
  const timer = setInterval(next, SAMPLE_EVERY_MS);
  return {
    async stop() {
      clearInterval(timer);
      next();
      await pending;
      if (error) throw error;
      return { peakUsedBytes: usedPeak, peakRssBytes: rssPeak };
    },
  };
}

/** One entry per worker of a ProcessCluster; `scenarios` says what ran on them. */
export async function workerMemory(cluster, scenarios) {
  return Promise.all(
    [...cluster.workers.values()].map(async (w) => {
      const text = await (await globalThis.fetch(`http://127.0.0.1:${w.httpPort}/metrics`)).text();
      return {
        scenarios,
        workerId: w.workerId,
        budgetBytes: metric(text, 'sluice_worker_memory_budget_bytes'),
        peakUsedBytes: metric(text, 'sluice_worker_memory_peak_bytes'),
        peakRssBytes: peakRssBytes(w.pid),
      };
    }),
  );
}
