// The tables `sluice admin` prints (docs/operations.md#admin-cli): rows of the manager's
// /api/v1 JSON, aligned in columns.
import { formatBytes } from '../manager/assignment/eligibility.js';

export interface WorkerRow {
  readonly workerId: string;
  readonly host: string;
  readonly dataPort: number;
  readonly httpPort: number;
  readonly state: string;
  readonly servingState: string;
  readonly memoryUsedBytes: number;
  readonly memoryBudgetBytes: number;
  readonly pushBytesPerSec: number;
  readonly fetchBytesPerSec: number;
  readonly activeShuffles: number;
  readonly disks: readonly { freeBytes: number; healthy: boolean }[];
  readonly throttledApps: readonly string[];
  readonly lastHeartbeat: string;
}

export interface AppRow {
  readonly appId: string;
  readonly name: string;
  readonly user: string;
  readonly priority: number;
  readonly shuffles: number;
  readonly registeredAt: string;
  readonly lastHeartbeat: string;
}

export interface ShuffleRow {
  readonly appId: string;
  readonly shuffleId: number;
  readonly numMappers: number;
  readonly numPartitions: number;
  readonly groups: number;
  readonly replicate: boolean;
  readonly workers: readonly string[];
  readonly maxEpoch: number;
  readonly createdAt: string;
}

const ago = (iso: string) =>
  `${Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000))}s ago`;
const rate = (bytesPerSec: number) => `${formatBytes(Math.round(bytesPerSec))}/s`;

export function workerTable(rows: readonly WorkerRow[]): string[][] {
  return [
    [
      'WORKER',
      'STATE',
      'SERVING',
      'ADDRESS',
      'MEMORY',
      'PUSH',
      'FETCH',
      'SHUFFLES',
      'DISK FREE',
      'THROTTLED',
      'HEARTBEAT',
    ],
    ...rows.map((w) => [
      w.workerId,
      w.state,
      w.servingState,
      `${w.host}:${w.dataPort}`,
      `${formatBytes(w.memoryUsedBytes)} / ${formatBytes(w.memoryBudgetBytes)}`,
      rate(w.pushBytesPerSec),
      rate(w.fetchBytesPerSec),
      String(w.activeShuffles),
      `${formatBytes(w.disks.reduce((s, d) => s + (d.healthy ? d.freeBytes : 0), 0))} (${w.disks.filter((d) => d.healthy).length}/${w.disks.length} ok)`,
      String(w.throttledApps.length),
      ago(w.lastHeartbeat),
    ]),
  ];
}

export function appTable(rows: readonly AppRow[]): string[][] {
  return [
    ['APP', 'NAME', 'USER', 'PRIORITY', 'SHUFFLES', 'REGISTERED', 'HEARTBEAT'],
    ...rows.map((a) => [
      a.appId,
      a.name,
      a.user,
      String(a.priority),
      String(a.shuffles),
      a.registeredAt,
      ago(a.lastHeartbeat),
    ]),
  ];
}

export function shuffleTable(rows: readonly ShuffleRow[]): string[][] {
  return [
    [
      'APP',
      'SHUFFLE',
      'MAPPERS',
      'PARTITIONS',
      'GROUPS',
      'REPLICATED',
      'EPOCH',
      'WORKERS',
      'CREATED',
    ],
    ...rows.map((s) => [
      s.appId,
      String(s.shuffleId),
      String(s.numMappers),
      String(s.numPartitions),
      String(s.groups),
      s.replicate ? 'yes' : 'no',
      String(s.maxEpoch),
      s.workers.join(','),
      s.createdAt,
    ]),
  ];
}

/** Aligned columns; a header-only table says "(none)". */
export function renderRows(rows: readonly string[][], header = true): string {
  if (header && rows.length === 1) return `${rows[0]!.join('  ')}\n(none)\n`;
  const widths = rows[0]!.map((_, i) => rows.reduce((m, r) => Math.max(m, (r[i] ?? '').length), 0));
  return (
    rows
      .map((r) =>
        r
          .map((c, i) => c.padEnd(widths[i]!))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}
