// Small helpers shared by the benchmarks: medians, fixed-width tables, a child's start line, CPU
// time of a child process (and its descendants) from /proc, a Prometheus text scrape, and
// results written atomically as JSON (temp file + rename, so bench/results never holds a
// half-written file; *.tmp is ignored).
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export function median(values) {
  const xs = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (xs.length === 0) return NaN;
  const mid = xs.length >> 1;
  return xs.length % 2 === 1 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2;
}

/** Rows of cells as a table: the first column left-aligned, the others right-aligned. */
export function formatTable(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) =>
    cells
      .map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i])))
      .join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** user + system CPU seconds of a process (Linux /proc; undefined elsewhere or once it exited). */
export function processCpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name, which may itself contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat(5), in USER_HZ (100 on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/**
 * Resolves with the first stdout line of `child` that contains `marker`, parsed as JSON; rejects
 * with everything it printed when it exits (or cannot start) before that.
 */
export function startedLine(child, marker, name) {
  const output = [];
  createInterface({ input: child.stderr }).on('line', (l) => output.push(l));
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      output.push(line);
      if (line.includes(marker)) resolve(JSON.parse(line));
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      reject(new Error(`${name} exited (${code}):\n${output.join('\n')}`)),
    );
  });
}

/**
 * CPU seconds of a process and every live descendant (a server that forks readers or runs
 * worker threads is measured whole); undefined once the process exited.
 */
export function processTreeCpuSeconds(pid) {
  const own = processCpuSeconds(pid);
  if (own === undefined) return undefined;
  let children = [];
  try {
    children = readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
      readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ').filter(Boolean),
    );
  } catch {
    // A thread exited between the listing and the read: count the process alone.
  }
  return children.reduce((sum, child) => sum + (processTreeCpuSeconds(Number(child)) ?? 0), own);
}

/**
 * Sums the samples of one metric in Prometheus text format whose labels include `labels`
 * (e.g. { to: 'PUSH_PAUSED' }); 0 when there is none.
 */
export function metricSum(text, name, labels = {}) {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries(
      [...(m[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum += Number(m[4]);
  }
  return sum;
}

export async function scrape(url) {
  const res = await globalThis.fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  return res.text();
}

/** Writes `data` to <dir>/<name>-<timestamp>.json atomically; returns the path. */
export async function writeResults(dir, name, data) {
  await mkdir(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const path = join(dir, `${name}-${stamp}.json`);
  await writeFile(`${path}.tmp`, `${JSON.stringify(data, null, 2)}\n`);
  await rename(`${path}.tmp`, path);
  return path;
}

export const fmt = (x, digits = 3) => (Number.isFinite(x) ? x.toFixed(digits) : '-');
export const pct = (x) => (Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : '-');
