// A promise-based ManagerService client for workers, drivers, the CLI and tests. Each call
// has a deadline; callers that retry use the shared retry helper (src/common/flow/retry.ts).
import * as grpc from '@grpc/grpc-js';
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
import { callUnary } from './rpc.js';

export interface ManagerClientOptions {
  /** Deadline of each call (default 10 s). */
  readonly deadlineMs?: number;
}

export class ManagerClient {
  readonly address: string;
  readonly #client: ManagerServiceClient;
  readonly #deadlineMs: number;

  constructor(address: string, options: ManagerClientOptions = {}) {
    this.address = address;
    this.#client = new (sluiceV1().ManagerService)(address, grpc.credentials.createInsecure());
    this.#deadlineMs = options.deadlineMs ?? 10_000;
  }

  #call<Req, Res>(name: keyof ManagerServiceClient & string, request: Req): Promise<Res> {
    const method = this.#client[name] as unknown as Parameters<typeof callUnary<Req, Res>>[1];
    return callUnary<Req, Res>(
      this.#client,
      method,
      `ManagerService.${name}`,
      request,
      this.#deadlineMs,
    );
  }

  registerWorker(r: RegisterWorkerRequest): Promise<RegisterWorkerResponse__Output> {
    return this.#call('RegisterWorker', r);
  }
  workerHeartbeat(r: WorkerHeartbeatRequest): Promise<WorkerHeartbeatResponse__Output> {
    return this.#call('WorkerHeartbeat', r);
  }
  registerApp(r: RegisterAppRequest): Promise<RegisterAppResponse__Output> {
    return this.#call('RegisterApp', r);
  }
  appHeartbeat(r: AppHeartbeatRequest): Promise<AppHeartbeatResponse__Output> {
    return this.#call('AppHeartbeat', r);
  }
  unregisterApp(r: UnregisterAppRequest): Promise<object> {
    return this.#call('UnregisterApp', r);
  }
  allocateShuffle(r: AllocateShuffleRequest): Promise<AllocateShuffleResponse__Output> {
    return this.#call('AllocateShuffle', r);
  }
  reallocateGroup(r: ReallocateGroupRequest): Promise<ReallocateGroupResponse__Output> {
    return this.#call('ReallocateGroup', r);
  }
  releaseShuffle(r: ReleaseShuffleRequest): Promise<object> {
    return this.#call('ReleaseShuffle', r);
  }
  getShuffle(r: GetShuffleRequest): Promise<ShuffleState__Output> {
    return this.#call('GetShuffle', r);
  }
  getClusterState(r: GetClusterStateRequest = {}): Promise<GetClusterStateResponse__Output> {
    return this.#call('GetClusterState', r);
  }

  close(): void {
    this.#client.close();
  }
}
