// bench/README.md, row 9: worker memory never above its budget + 10% under any load. Read
// from each worker process at the end of a cluster's scenarios: the peak of the accounted
// push memory (sluice_worker_memory_peak_bytes, what the budget bounds) and, for context,
// the peak resident set size (VmHWM: runtime, buffer pools and code included).
import { readFileSync } from 'node:fs';

function metric(text, name) {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

function peakRssBytes(pid) {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) * 1024 : undefined;
  } catch {
    return undefined; // not Linux, or the process is gone
  }
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
