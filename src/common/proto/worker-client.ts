// A promise-based WorkerControlService client (drivers commit through it; tests and the CLI
// use it too). Each call has a deadline; CommitFiles gets a longer one, it fsyncs.
import * as grpc from '@grpc/grpc-js';
import type { WorkerControlServiceClient } from './gen/sluice/v1/WorkerControlService.js';
import type { CommitFilesRequest } from './gen/sluice/v1/CommitFilesRequest.js';
import type { CommitFilesResponse__Output } from './gen/sluice/v1/CommitFilesResponse.js';
import type { DestroyShuffleRequest } from './gen/sluice/v1/DestroyShuffleRequest.js';
import type { DestroyShuffleResponse__Output } from './gen/sluice/v1/DestroyShuffleResponse.js';
import type { DecommissionRequest } from './gen/sluice/v1/DecommissionRequest.js';
import { sluiceV1 } from './load.js';
import { callUnary, messageSizeOptions } from './rpc.js';
import type { CallSigner } from '../security/call-auth.js';

export class WorkerControlClient {
  readonly address: string;
  readonly #client: WorkerControlServiceClient;
  readonly #deadlineMs: number;

  readonly #signer: CallSigner | undefined;

  /** `signer`: the caller's credential (an app's for CommitFiles, the cluster's for Decommission). */
  constructor(
    address: string,
    options: {
      deadlineMs?: number;
      maxMessageBytes?: number;
      signer?: CallSigner;
      /** TLS towards the worker; absent: plain TCP. */
      credentials?: grpc.ChannelCredentials;
    } = {},
  ) {
    this.address = address;
    this.#client = new (sluiceV1().WorkerControlService)(
      address,
      options.credentials ?? grpc.credentials.createInsecure(),
      messageSizeOptions(options.maxMessageBytes),
    );
    this.#deadlineMs = options.deadlineMs ?? 10_000;
    this.#signer = options.signer;
  }

  #call<Req, Res>(
    name: keyof WorkerControlServiceClient & string,
    request: Req,
    deadlineMs = this.#deadlineMs,
  ): Promise<Res> {
    const method = this.#client[name] as unknown as Parameters<typeof callUnary<Req, Res>>[1];
    return callUnary<Req, Res>(
      this.#client,
      method,
      `WorkerControlService.${name}`,
      request,
      deadlineMs,
      this.#signer,
    );
  }

  commitFiles(r: CommitFilesRequest, deadlineMs = 120_000): Promise<CommitFilesResponse__Output> {
    return this.#call('CommitFiles', r, deadlineMs);
  }

  destroyShuffle(r: DestroyShuffleRequest): Promise<DestroyShuffleResponse__Output> {
    return this.#call('DestroyShuffle', r);
  }

  decommission(r: DecommissionRequest): Promise<object> {
    return this.#call('Decommission', r);
  }

  close(): void {
    this.#client.close();
  }
}
