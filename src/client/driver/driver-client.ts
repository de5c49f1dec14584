// Executors' DriverService client (docs/architecture.md#lifecycle-of-one-shuffle): every call has a deadline and retriable
// failures are retried with the shared helper (at most 10 attempts, 5 s max back-off).
import * as grpc from '@grpc/grpc-js';
import { retry } from '../../common/flow/retry.js';
import { isRetriable } from '../../common/errors.js';
import { sluiceV1 } from '../../common/proto/load.js';
import { callUnary, messageSizeOptions } from '../../common/proto/rpc.js';
import type { CallSigner } from '../../common/security/call-auth.js';
import type { DriverServiceClient } from '../../common/proto/gen/sluice/v1/DriverService.js';
import type { MapperEndRequest } from '../../common/proto/gen/sluice/v1/MapperEndRequest.js';
import type { MapperEndResponse__Output } from '../../common/proto/gen/sluice/v1/MapperEndResponse.js';
import type { GetFileGroupsResponse__Output } from '../../common/proto/gen/sluice/v1/GetFileGroupsResponse.js';
import type { ReallocateRequest } from '../../common/proto/gen/sluice/v1/ReallocateRequest.js';
import type { ReallocateResponse__Output } from '../../common/proto/gen/sluice/v1/ReallocateResponse.js';
import type { GetShuffleGroupsResponse__Output } from '../../common/proto/gen/sluice/v1/GetShuffleGroupsResponse.js';

export class DriverClient {
  readonly address: string;
  readonly #client: DriverServiceClient;
  readonly #deadlineMs: number;
  readonly #signer: CallSigner | undefined;

  /** `signer`: the app's credential, which the driver requires when the cluster has a secret. */
  constructor(
    address: string,
    deadlineMs: number,
    maxMessageBytes?: number,
    signer?: CallSigner,
    credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
  ) {
    this.address = address;
    this.#client = new (sluiceV1().DriverService)(
      address,
      credentials,
      messageSizeOptions(maxMessageBytes),
    );
    this.#deadlineMs = deadlineMs;
    this.#signer = signer;
  }

  /** `until` (epoch ms) bounds the call and its retries in all, whatever the attempt count. */
  #call<Req, Res>(
    name: keyof DriverServiceClient & string,
    request: Req,
    deadlineMs = this.#deadlineMs,
    until?: number,
  ): Promise<Res> {
    const method = this.#client[name] as unknown as Parameters<typeof callUnary<Req, Res>>[1];
    const remaining = () => (until === undefined ? deadlineMs : Math.max(1, until - Date.now()));
    return retry(
      () =>
        callUnary<Req, Res>(
          this.#client,
          method,
          `DriverService.${name}`,
          request,
          remaining(),
          this.#signer,
        ),
      {
        what: `DriverService.${name} at ${this.address}`,
        maxAttempts: until === undefined ? undefined : Number.POSITIVE_INFINITY,
        retriable: (err) => isRetriable(err) && (until === undefined || Date.now() < until),
      },
    );
  }

  mapperEnd(r: MapperEndRequest): Promise<MapperEndResponse__Output> {
    return this.#call('MapperEnd', r);
  }

  /**
   * Waits for the commit on the driver side, so the deadline is long. The driver answers
   * "not yet" after its own commitWaitMs; retries continue until `deadlineMs` has passed in
   * all (not deadlineMs per attempt, times ten attempts).
   */
  getFileGroups(
    appId: string,
    shuffleId: number,
    partition: number,
    deadlineMs: number,
  ): Promise<GetFileGroupsResponse__Output> {
    const until = Date.now() + deadlineMs;
    return this.#call('GetFileGroups', { appId, shuffleId, partition }, deadlineMs, until);
  }

  reallocate(r: ReallocateRequest): Promise<ReallocateResponse__Output> {
    return this.#call('Reallocate', r);
  }

  getShuffleGroups(appId: string, shuffleId: number): Promise<GetShuffleGroupsResponse__Output> {
    return this.#call('GetShuffleGroups', { appId, shuffleId });
  }

  close(): void {
    this.#client.close();
  }
}
