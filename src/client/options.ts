// Options of the executor-side ShuffleClient with their defaults (docs/architecture.md#lifecycle-of-one-shuffle, docs/client.md, docs/architecture.md#reads-and-failover).
import { hostname } from 'node:os';
import { InvalidArgumentError } from '../common/errors.js';
import { AppCredential } from '../common/security/keys.js';
import type { ClientTls } from '../common/security/tls.js';
import { DEFAULT_GRPC_MAX_MESSAGE_BYTES } from '../common/config/registry.js';
import type { ClientLogger } from './logger.js';

export type Compression = 'lz4' | 'none';
export type ShuffleMode = 'push' | 'ess';

export interface ShuffleClientOptions {
  /** The driver's address (ShuffleHandle.driverAddress), host:port. */
  readonly driver: string;
  /**
   * The app's credential (ShuffleHandle.credential) when the cluster runs authenticated: the
   * client proves it to the driver and to every worker or ESS (docs/operations.md#security).
   */
  readonly credential?: string;
  /**
   * TLS towards the driver, workers and ESS daemons when the cluster runs it
   * (docs/operations.md#tls): PEM `ca` to verify them, and `cert`/`key` where the cluster
   * requires client certificates. Absent: plain TCP.
   */
  readonly tls?: ClientTls;
  /** 'push' (default): remote workers; 'ess': map output on this node's ESS (docs/architecture.md#ess-mode). */
  readonly mode?: ShuffleMode;
  /** ESS mode: the node-local ESS, as readers on other nodes reach it, and its directory. */
  readonly ess?: { readonly address: string; readonly dir: string };
  /** ESS mode: map outputs a reader fetches at the same time (default 16). */
  readonly essFetchParallelism?: number;
  /** Reported with MapperEnd for executor rolling (default `<hostname>-<pid>`). */
  readonly executorId?: string;
  /** A group's buffered bytes that trigger a push (default 1 MiB). */
  readonly pushBatchBytes?: number;
  /** Unacknowledged pushes per worker, the AIMD window's ceiling (default 32). */
  readonly maxInFlightPerWorker?: number;
  /** Bytes sealed into blocks but not yet acknowledged, for the whole client (default 256 MiB). */
  readonly maxInFlightBytes?: number;
  /**
   * Record bytes one writer buffers before flushIfNeeded pushes its largest groups (default
   * 64 MiB); also the most buffer memory the client keeps for its next writers.
   */
  readonly maxBufferedBytesPerWriter?: number;
  /** A push unanswered for this long fails over to a new worker pair (default 60 s). */
  readonly pushTimeoutMs?: number;
  /** Worker pairs one batch is tried on before the writer fails (default 8). */
  readonly pushAttempts?: number;
  /** Block compression (default lz4; 'none' for data that does not compress). */
  readonly compression?: Compression;
  /**
   * Largest decompressed block a reader accepts (default 1 GiB): a block claiming more is
   * refused as corrupt before anything is allocated for it. Writers refuse records over half
   * of it, so every block they write stays under it.
   */
  readonly maxBlockBytes?: number;
  /** Chunks in flight per reader stream (default 4): reader memory is fetchWindow × chunkBytes. */
  readonly fetchWindow?: number;
  /** A chunk fetch unanswered for this long fails over to the other replica (default 60 s). */
  readonly fetchTimeoutMs?: number;
  /** How long a reader waits for the driver's commit (default 120 s). */
  readonly fileGroupsTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
  /** Deadline of each DriverService call (default 10 s). */
  readonly deadlineMs?: number;
  /** Largest DriverService message sent or received (default 64 MiB, as `grpc.maxMessageBytes`). */
  readonly maxMessageBytes?: number;
  readonly logger?: ClientLogger;
}

export type ResolvedClientOptions = Required<
  Omit<ShuffleClientOptions, 'logger' | 'ess' | 'credential' | 'tls'>
> & {
  readonly ess: { readonly address: string; readonly dir: string } | undefined;
  readonly credential: AppCredential | undefined;
  readonly tls: ClientTls | undefined;
};

const MIB = 1024 * 1024;

export function resolveClientOptions(o: ShuffleClientOptions): ResolvedClientOptions {
  if (typeof o.driver !== 'string' || !/^[^:\s]+:\d{1,5}$/.test(o.driver))
    throw new InvalidArgumentError('driver', `must be host:port, got ${JSON.stringify(o.driver)}`);
  const r: ResolvedClientOptions = {
    driver: o.driver,
    credential:
      o.credential === undefined || o.credential === ''
        ? undefined
        : AppCredential.parse(o.credential, 'credential'),
    tls: o.tls,
    executorId: o.executorId ?? `${hostname()}-${process.pid}`,
    mode: o.mode ?? 'push',
    ess: o.ess,
    essFetchParallelism: o.essFetchParallelism ?? 16,
    pushBatchBytes: o.pushBatchBytes ?? MIB,
    maxInFlightPerWorker: o.maxInFlightPerWorker ?? 32,
    maxInFlightBytes: o.maxInFlightBytes ?? 256 * MIB,
    maxBufferedBytesPerWriter: o.maxBufferedBytesPerWriter ?? 64 * MIB,
    pushTimeoutMs: o.pushTimeoutMs ?? 60_000,
    pushAttempts: o.pushAttempts ?? 8,
    compression: o.compression ?? 'lz4',
    maxBlockBytes: o.maxBlockBytes ?? 1024 * MIB,
    fetchWindow: o.fetchWindow ?? 4,
    fetchTimeoutMs: o.fetchTimeoutMs ?? 60_000,
    fileGroupsTimeoutMs: o.fileGroupsTimeoutMs ?? 120_000,
    connectTimeoutMs: o.connectTimeoutMs ?? 10_000,
    deadlineMs: o.deadlineMs ?? 10_000,
    maxMessageBytes: o.maxMessageBytes ?? DEFAULT_GRPC_MAX_MESSAGE_BYTES,
  };
  for (const [key, value] of Object.entries(r)) {
    if (typeof value === 'number' && (!Number.isInteger(value) || value < 1))
      throw new InvalidArgumentError(key, `must be a positive integer, got ${value}`);
  }
  if (r.pushBatchBytes > r.maxBlockBytes / 2)
    throw new InvalidArgumentError(
      'pushBatchBytes',
      `must be at most half of maxBlockBytes (${r.maxBlockBytes}), got ${r.pushBatchBytes}`,
    );
  if (r.mode !== 'push' && r.mode !== 'ess')
    throw new InvalidArgumentError('mode', `must be 'push' or 'ess', got ${String(r.mode)}`);
  if (r.mode === 'ess' && (!r.ess || !/^[^:\s]+:\d{1,5}$/.test(r.ess.address) || !r.ess.dir))
    throw new InvalidArgumentError(
      'ess',
      "ESS mode needs ess: { address: 'host:port', dir: '/path' }",
    );
  if (r.compression !== 'lz4' && r.compression !== 'none')
    throw new InvalidArgumentError(
      'compression',
      `must be 'lz4' or 'none', got ${String(r.compression)}`,
    );
  return r;
}
