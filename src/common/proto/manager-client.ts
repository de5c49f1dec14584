// A promise-based ManagerService client for workers, drivers, the agent, the CLI and tests:
// the one client that knows about manager high availability (docs/architecture.md#cluster-manager).
// It takes one manager address or several, sends each call to the one it believes is the
// leader, follows NOT_LEADER redirects and rides out an election within a failover budget.
import * as grpc from '@grpc/grpc-js';
import { InvalidArgumentError, RetriesExceededError, SluiceError } from '../errors.js';
import { retry } from '../flow/retry.js';
import type { ManagerServiceClient } from './gen/sluice/v1/ManagerService.js';
import type { AllocateShuffleRequest } from './gen/sluice/v1/AllocateShuffleRequest.js';
import type { AllocateShuffleResponse__Output } from './gen/sluice/v1/AllocateShuffleResponse.js';
import type { AppHeartbeatRequest } from './gen/sluice/v1/AppHeartbeatRequest.js';
import type { AppHeartbeatResponse__Output } from './gen/sluice/v1/AppHeartbeatResponse.js';
import type { GetShuffleRequest } from './gen/sluice/v1/GetShuffleRequest.js';
import type { ShuffleState__Output } from './gen/sluice/v1/ShuffleState.js';
import type { GetClusterStateRequest } from './gen/sluice/v1/GetClusterStateRequest.js';
import type { GetClusterStateResponse__Output } from './gen/sluice/v1/GetClusterStateResponse.js';
import type { ReallocateGroupRequest } from './gen/sluice/v1/ReallocateGroupRequest.js';
import type { ReallocateGroupResponse__Output } from './gen/sluice/v1/ReallocateGroupResponse.js';
import type { RegisterAppRequest } from './gen/sluice/v1/RegisterAppRequest.js';
import type { RegisterAppResponse__Output } from './gen/sluice/v1/RegisterAppResponse.js';
import type { RegisterWorkerRequest } from './gen/sluice/v1/RegisterWorkerRequest.js';
import type { RegisterWorkerResponse__Output } from './gen/sluice/v1/RegisterWorkerResponse.js';
import type { ReleaseShuffleRequest } from './gen/sluice/v1/ReleaseShuffleRequest.js';
import type { UnregisterAppRequest } from './gen/sluice/v1/UnregisterAppRequest.js';
import type { WorkerHeartbeatRequest } from './gen/sluice/v1/WorkerHeartbeatRequest.js';
import type { WorkerHeartbeatResponse__Output } from './gen/sluice/v1/WorkerHeartbeatResponse.js';
import { sluiceV1 } from './load.js';
import { CODE_METADATA_KEY, callUnary, messageSizeOptions } from './rpc.js';
import type { CallSigner } from '../security/call-auth.js';

export interface ManagerClientOptions {
  /** Deadline of each call to one manager (default 10 s). */
  readonly deadlineMs?: number;
  /**
   * How long one call keeps looking for a reachable leader, back-offs included (default 30 s).
   * 0: one pass over the addresses (and the redirects they give), no back-off.
   */
  readonly failoverTimeoutMs?: number;
  /** NOT_LEADER redirects followed in one pass over the addresses (default 3). */
  readonly maxRedirects?: number;
  /** The option or configuration key the addresses came from, named in a validation error. */
  readonly field?: string;
  /** Largest message sent or received (default `grpc.maxMessageBytes`'s default, 64 MiB). */
  readonly maxMessageBytes?: number;
  /** Signs every call (a daemon's cluster credential); a driver sets its app's later (`signer`). */
  readonly signer?: CallSigner;
  /** TLS towards the managers (src/common/security/tls.ts); absent: plain TCP. */
  readonly credentials?: grpc.ChannelCredentials;
  /** Called when the client moves to another manager (for logs). */
  readonly onSwitch?: (to: string, from: string, cause: SluiceError) => void;
}

/** Per-call overrides. */
export interface ManagerCallOptions {
  /** This call's failover budget instead of the client's. */
  readonly failoverTimeoutMs?: number;
  /**
   * This call's deadline per manager tried, instead of the client's: a heartbeat need not wait
   * 10 s on a manager that is frozen (a paused leader answers nothing) before trying the next.
   */
  readonly deadlineMs?: number;
  /** Stops looking for a leader: the call fails with the last failure. */
  readonly signal?: AbortSignal;
}

export const MANAGER_FAILOVER_DEFAULTS = Object.freeze({
  failoverTimeoutMs: 30_000,
  maxRedirects: 3,
  /** Back-off between passes over the addresses: 100 ms doubling, capped at 2 s, jittered. */
  baseDelayMs: 100,
  maxDelayMs: 2_000,
});

// grpc-js waits up to 2 minutes between reconnects to a refused address by default; a
// manager that comes back (or is elected) must be seen within one back-off of ours.
const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.initial_reconnect_backoff_ms': 200,
  'grpc.max_reconnect_backoff_ms': 2_000,
};

const ADDRESS = /^(?:\[[0-9A-Fa-f:.]+\]|[^\s:,[\]]+):(\d{1,5})$/;

/**
 * Parses "h1:9097,h2:9097" or ['h1:9097', 'h2:9097'] into a non-empty list of distinct
 * host:port addresses; anything else is an InvalidArgumentError naming `field`.
 */
export function parseManagerAddresses(
  input: string | readonly string[],
  field = 'manager',
): string[] {
  const parts: unknown[] =
    typeof input === 'string'
      ? input.split(',').map((s) => s.trim())
      : Array.isArray(input)
        ? [...input]
        : [input];
  if (parts.length === 0 || (parts.length === 1 && parts[0] === ''))
    throw new InvalidArgumentError(field, 'needs at least one manager address (host:port)');
  const out: string[] = [];
  for (const p of parts) {
    const m = typeof p === 'string' ? ADDRESS.exec(p.trim()) : null;
    const port = m ? Number(m[1]) : 0;
    if (!m || port < 1 || port > 65_535)
      throw new InvalidArgumentError(
        field,
        `must be host:port or a comma-separated list of them, got ${JSON.stringify(p)} in ${JSON.stringify(input)}`,
      );
    const address = (p as string).trim();
    if (!out.includes(address)) out.push(address);
  }
  return out;
}

/**
 * The failures that say "ask another manager": a follower's NOT_LEADER, a state store that
 * cannot be reached (STATE_UNAVAILABLE), and transport failures (UNAVAILABLE or
 * DEADLINE_EXCEEDED with no Sluice code: the peer never answered, e.g. connection refused).
 */
export function isFailoverError(err: unknown): boolean {
  if (!(err instanceof SluiceError)) return false;
  if (err.code === 'SLUICE_ERR_NOT_LEADER' || err.code === 'SLUICE_ERR_STATE_UNAVAILABLE')
    return true;
  const grpcCode = err.context['grpcCode'];
  if (grpcCode !== grpc.status.UNAVAILABLE && grpcCode !== grpc.status.DEADLINE_EXCEEDED)
    return false;
  const cause = err.cause as Partial<grpc.ServiceError> | undefined;
  return (cause?.metadata?.get(CODE_METADATA_KEY).length ?? 0) === 0;
}

function redirectOf(err: SluiceError): string | undefined {
  const leader = err.context['leader'];
  return err.code === 'SLUICE_ERR_NOT_LEADER' && typeof leader === 'string' && ADDRESS.test(leader)
    ? leader
    : undefined;
}

/**
 * One client for one manager or a set of them (leader and followers). Each call goes to the
 * address believed to be the leader (`leader`); then:
 * - NOT_LEADER naming the leader: the call is sent there at once (the address is added to
 *   the list when new), at most `maxRedirects` hops per pass so two confused managers cannot
 *   bounce a call forever;
 * - NOT_LEADER naming nobody, STATE_UNAVAILABLE or a transport failure: the next address;
 *   after a pass over all of them, a back-off (src/common/flow/retry.ts: exponential, jitter)
 *   and another pass, until `failoverTimeoutMs` is spent; then the last failure is thrown
 *   wrapped in RetriesExceededError, whose message names the addresses tried;
 * - any other failure (INVALID_ARGUMENT, NOT_FOUND, NO_WORKERS, ...) is thrown at once: it is
 *   the leader's answer, and whether to retry it is the caller's business.
 *
 * Sending a call again is safe for every ManagerService method, because a call that reached
 * a manager which then failed may or may not have been applied
 * (src/manager/cluster-manager.ts):
 * - RegisterWorker: an upsert keyed by worker id, with the same record;
 * - WorkerHeartbeat: overwrites the worker's last-seen time and load; the deletion orders
 *   in the reply are repeated on every beat and the worker de-duplicates them;
 * - RegisterApp: an upsert keyed by app id that keeps the first registration time;
 * - AppHeartbeat: overwrites the app's last-seen time;
 * - UnregisterApp: an app that is already gone is a no-op answered with success;
 * - AllocateShuffle: an existing shuffle with the same parameters is returned as it is;
 * - ReallocateGroup: a request naming an epoch that was already replaced gets the current
 *   group, so a resend for the same old epoch gets the same new epoch;
 * - ReleaseShuffle: a shuffle that is already released is a no-op answered with success;
 * - GetShuffle, GetClusterState: reads.
 *
 * With one address this is the plain client it always was (same errors, same deadline per
 * call), except that a manager that is unreachable for less than the budget is waited for.
 */
export class ManagerClient {
  /** The addresses as configured, comma-separated (for logs). */
  readonly address: string;
  readonly #addresses: string[];
  readonly #clients = new Map<string, ManagerServiceClient>();
  readonly #deadlineMs: number;
  readonly #failoverTimeoutMs: number;
  readonly #maxRedirects: number;
  readonly #maxMessageBytes: number | undefined;
  readonly #credentials: grpc.ChannelCredentials;
  readonly #onSwitch: ManagerClientOptions['onSwitch'];
  readonly #closing = new AbortController();
  #leader: string;
  /** Signs every call from now on (docs/operations.md#security); undefined: unsigned. */
  signer: CallSigner | undefined;

  constructor(addresses: string | readonly string[], options: ManagerClientOptions = {}) {
    this.#addresses = parseManagerAddresses(addresses, options.field);
    this.address = this.#addresses.join(',');
    this.#maxMessageBytes = options.maxMessageBytes;
    this.#credentials = options.credentials ?? grpc.credentials.createInsecure();
    this.#leader = this.#addresses[0]!;
    this.#deadlineMs = options.deadlineMs ?? 10_000;
    this.#failoverTimeoutMs =
      options.failoverTimeoutMs ?? MANAGER_FAILOVER_DEFAULTS.failoverTimeoutMs;
    this.#maxRedirects = options.maxRedirects ?? MANAGER_FAILOVER_DEFAULTS.maxRedirects;
    this.#onSwitch = options.onSwitch;
    this.signer = options.signer;
  }

  /** The address calls go to now: the leader as far as this client knows. */
  get leader(): string {
    return this.#leader;
  }

  /** Every address known: the configured ones, then leaders learnt from redirects. */
  get addresses(): readonly string[] {
    return [...this.#addresses];
  }

  #client(address: string): ManagerServiceClient {
    let c = this.#clients.get(address);
    if (!c) {
      c = new (sluiceV1().ManagerService)(address, this.#credentials, {
        ...CHANNEL_OPTIONS,
        ...messageSizeOptions(this.#maxMessageBytes),
      });
      this.#clients.set(address, c);
    }
    return c;
  }

  #send<Req, Res>(address: string, name: string, request: Req, deadlineMs: number): Promise<Res> {
    if (this.#closing.signal.aborted)
      return Promise.reject(
        new SluiceError('SLUICE_ERR_UNAVAILABLE', `ManagerService.${name}: the client is closed`, {
          retriable: false,
        }),
      );
    const client = this.#client(address);
    const method = client[name as keyof ManagerServiceClient] as unknown as Parameters<
      typeof callUnary<Req, Res>
    >[1];
    return callUnary<Req, Res>(
      client,
      method,
      `ManagerService.${name}`,
      request,
      deadlineMs,
      this.signer,
    );
  }

  #moveTo(address: string, cause: SluiceError): void {
    if (!this.#addresses.includes(address)) this.#addresses.push(address);
    if (this.#leader === address) return;
    const from = this.#leader;
    this.#leader = address;
    this.#onSwitch?.(address, from, cause);
  }

  /** The first address from `start` on (cyclically) that is not in `skip`. */
  #nextAfter(start: string, skip: ReadonlySet<string>): string | undefined {
    const i = this.#addresses.indexOf(start);
    for (let k = 1; k <= this.#addresses.length; k++) {
      const a = this.#addresses[(i + k) % this.#addresses.length]!;
      if (!skip.has(a)) return a;
    }
    return undefined;
  }

  /** One pass: the believed leader, its redirects, then every other address once. */
  async #pass<Req, Res>(
    name: string,
    request: Req,
    tried: Set<string>,
    signal: AbortSignal,
    deadlineMs: number,
  ): Promise<Res> {
    const failed = new Set<string>();
    let target = this.#leader;
    let hops = 0;
    for (;;) {
      tried.add(target);
      try {
        const response = await this.#send<Req, Res>(target, name, request, deadlineMs);
        if (this.#leader !== target) this.#leader = target;
        return response;
      } catch (err) {
        if (!isFailoverError(err) || signal.aborted) throw err;
        const failure = err as SluiceError;
        failed.add(target);
        const named = redirectOf(failure);
        if (named !== undefined && named !== target && hops < this.#maxRedirects) {
          hops++;
          this.#moveTo(named, failure);
          target = named;
          continue;
        }
        const next = this.#nextAfter(target, failed);
        if (next === undefined) throw err;
        // Another call may have found the leader meanwhile: then start from there.
        if (this.#leader === target) this.#moveTo(next, failure);
        target = failed.has(this.#leader) ? next : this.#leader;
      }
    }
  }

  async #call<Req, Res>(
    name: string,
    request: Req,
    options: ManagerCallOptions = {},
  ): Promise<Res> {
    const signal = options.signal
      ? AbortSignal.any([this.#closing.signal, options.signal])
      : this.#closing.signal;
    const tried = new Set<string>();
    let last: unknown;
    try {
      return await retry(
        async () => {
          try {
            return await this.#pass<Req, Res>(
              name,
              request,
              tried,
              signal,
              options.deadlineMs ?? this.#deadlineMs,
            );
          } catch (err) {
            last = err;
            throw err;
          }
        },
        {
          maxAttempts: Number.POSITIVE_INFINITY,
          budgetMs: options.failoverTimeoutMs ?? this.#failoverTimeoutMs,
          baseDelayMs: MANAGER_FAILOVER_DEFAULTS.baseDelayMs,
          maxDelayMs: MANAGER_FAILOVER_DEFAULTS.maxDelayMs,
          retriable: isFailoverError,
          signal,
        },
      );
    } catch (err) {
      if (err instanceof RetriesExceededError)
        throw new RetriesExceededError(
          err.attempts,
          err.cause,
          `ManagerService.${name} (managers tried: ${[...tried].join(', ')})`,
        );
      // Aborted during a back-off: the last failure, not the timer's AbortError.
      if (signal.aborted && last !== undefined) throw last;
      throw err;
    }
  }

  registerWorker(
    r: RegisterWorkerRequest,
    o?: ManagerCallOptions,
  ): Promise<RegisterWorkerResponse__Output> {
    return this.#call('RegisterWorker', r, o);
  }
  workerHeartbeat(
    r: WorkerHeartbeatRequest,
    o?: ManagerCallOptions,
  ): Promise<WorkerHeartbeatResponse__Output> {
    return this.#call('WorkerHeartbeat', r, o);
  }
  registerApp(r: RegisterAppRequest, o?: ManagerCallOptions): Promise<RegisterAppResponse__Output> {
    return this.#call('RegisterApp', r, o);
  }
  appHeartbeat(
    r: AppHeartbeatRequest,
    o?: ManagerCallOptions,
  ): Promise<AppHeartbeatResponse__Output> {
    return this.#call('AppHeartbeat', r, o);
  }
  unregisterApp(r: UnregisterAppRequest, o?: ManagerCallOptions): Promise<object> {
    return this.#call('UnregisterApp', r, o);
  }
  allocateShuffle(
    r: AllocateShuffleRequest,
    o?: ManagerCallOptions,
  ): Promise<AllocateShuffleResponse__Output> {
    return this.#call('AllocateShuffle', r, o);
  }
  reallocateGroup(
    r: ReallocateGroupRequest,
    o?: ManagerCallOptions,
  ): Promise<ReallocateGroupResponse__Output> {
    return this.#call('ReallocateGroup', r, o);
  }
  releaseShuffle(r: ReleaseShuffleRequest, o?: ManagerCallOptions): Promise<object> {
    return this.#call('ReleaseShuffle', r, o);
  }
  getShuffle(r: GetShuffleRequest, o?: ManagerCallOptions): Promise<ShuffleState__Output> {
    return this.#call('GetShuffle', r, o);
  }
  getClusterState(
    r: GetClusterStateRequest = {},
    o?: ManagerCallOptions,
  ): Promise<GetClusterStateResponse__Output> {
    return this.#call('GetClusterState', r, o);
  }

  /** Closes every connection; calls waiting for a leader fail with their last failure. */
  close(): void {
    this.#closing.abort();
    for (const c of this.#clients.values()) c.close();
    this.#clients.clear();
  }
}
