// The manager's JSON API as the dashboard reads it (docs/openapi.yaml describes every field).

export interface Disk {
  path: string;
  capacityBytes: number;
  freeBytes: number;
  healthy: boolean;
  kind?: string;
  state?: string;
}

export interface Worker {
  workerId: string;
  host: string;
  rack: string;
  dataPort: number;
  controlPort: number;
  state: 'healthy' | 'lost' | 'decommissioning';
  servingState: string;
  memoryBudgetBytes: number;
  memoryUsedBytes: number;
  pushBytesPerSec: number;
  fetchBytesPerSec: number;
  flushQueueBytes: number;
  activeShuffles: number;
  disks: Disk[];
  throttledApps: string[];
  decommissionRequested: boolean;
  lastHeartbeat: string;
  registeredAt: string;
}

export interface App {
  appId: string;
  priority: number;
  name: string;
  user: string;
  registeredAt: string;
  lastHeartbeat: string;
  shuffles: number;
  partitions: number;
  groups: number;
  /** Summed over its shuffles; null while no worker has reported any. */
  bytesPushed: number | null;
  bytesCommitted: number | null;
  throttledBy: string[];
}

export interface Shuffle {
  appId: string;
  shuffleId: number;
  numMappers: number;
  numPartitions: number;
  replicate: boolean;
  groups: number;
  workers: string[];
  maxEpoch: number;
  createdAt: string;
  /** Summed over the workers' latest heartbeats; null until one has reported them. */
  bytesPushed: number | null;
  bytesCommitted: number | null;
  partitionFiles: number | null;
  largestPartitionBytes: number | null;
  /** Largest / mean committed partition file. */
  skew: number | null;
}

export interface ManagerEvent {
  seq: number;
  at: string;
  kind: string;
  message: string;
  workerId?: string;
  appId?: string;
  shuffleId?: number;
}

export interface Series {
  push: (number | null)[];
  fetch: (number | null)[];
}

export interface Throughput {
  resolutionMs: number;
  times: number[];
  cluster: Series;
  workers: Record<string, Series>;
}

export interface Member {
  id: string;
  grpc: string;
  http: string;
}

export interface ClusterView {
  role: string;
  ha: boolean;
  self: Member;
  leader: Member | null;
  members: Member[];
}

/** An error body of the API: `{ error: { code, message } }`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function get<T>(path: string): Promise<T> {
  const res = await fetch(path, { headers: { accept: 'application/json' } });
  const body = (await res.json().catch(() => undefined)) as
    { error?: { code: string; message: string } } | undefined;
  if (!res.ok) {
    const e = body?.error;
    throw new ApiError(res.status, e?.code ?? 'HTTP', e?.message ?? res.statusText);
  }
  return body as T;
}
