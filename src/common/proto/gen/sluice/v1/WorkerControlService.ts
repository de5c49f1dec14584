// @ts-nocheck
// Original file: proto/sluice/v1/worker.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { CommitFilesRequest as _sluice_v1_CommitFilesRequest, CommitFilesRequest__Output as _sluice_v1_CommitFilesRequest__Output } from '../../sluice/v1/CommitFilesRequest.js';
import type { CommitFilesResponse as _sluice_v1_CommitFilesResponse, CommitFilesResponse__Output as _sluice_v1_CommitFilesResponse__Output } from '../../sluice/v1/CommitFilesResponse.js';
import type { DecommissionRequest as _sluice_v1_DecommissionRequest, DecommissionRequest__Output as _sluice_v1_DecommissionRequest__Output } from '../../sluice/v1/DecommissionRequest.js';
import type { DecommissionResponse as _sluice_v1_DecommissionResponse, DecommissionResponse__Output as _sluice_v1_DecommissionResponse__Output } from '../../sluice/v1/DecommissionResponse.js';
import type { DestroyShuffleRequest as _sluice_v1_DestroyShuffleRequest, DestroyShuffleRequest__Output as _sluice_v1_DestroyShuffleRequest__Output } from '../../sluice/v1/DestroyShuffleRequest.js';
import type { DestroyShuffleResponse as _sluice_v1_DestroyShuffleResponse, DestroyShuffleResponse__Output as _sluice_v1_DestroyShuffleResponse__Output } from '../../sluice/v1/DestroyShuffleResponse.js';

export interface WorkerControlServiceClient extends grpc.Client {
  /**
   * Stop the shuffle's pushes (STAGE_ENDED), flush, fsync, write indexes. Idempotent.
   */
  CommitFiles(argument: _sluice_v1_CommitFilesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_CommitFilesResponse__Output>): grpc.ClientUnaryCall;
  CommitFiles(argument: _sluice_v1_CommitFilesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_CommitFilesResponse__Output>): grpc.ClientUnaryCall;
  CommitFiles(argument: _sluice_v1_CommitFilesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_CommitFilesResponse__Output>): grpc.ClientUnaryCall;
  CommitFiles(argument: _sluice_v1_CommitFilesRequest, callback: grpc.requestCallback<_sluice_v1_CommitFilesResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Stop the shuffle's pushes (STAGE_ENDED), flush, fsync, write indexes. Idempotent.
   */
  commitFiles(argument: _sluice_v1_CommitFilesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_CommitFilesResponse__Output>): grpc.ClientUnaryCall;
  commitFiles(argument: _sluice_v1_CommitFilesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_CommitFilesResponse__Output>): grpc.ClientUnaryCall;
  commitFiles(argument: _sluice_v1_CommitFilesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_CommitFilesResponse__Output>): grpc.ClientUnaryCall;
  commitFiles(argument: _sluice_v1_CommitFilesRequest, callback: grpc.requestCallback<_sluice_v1_CommitFilesResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * No new allocations; the worker exits once idle.
   */
  Decommission(argument: _sluice_v1_DecommissionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_DecommissionResponse__Output>): grpc.ClientUnaryCall;
  Decommission(argument: _sluice_v1_DecommissionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_DecommissionResponse__Output>): grpc.ClientUnaryCall;
  Decommission(argument: _sluice_v1_DecommissionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_DecommissionResponse__Output>): grpc.ClientUnaryCall;
  Decommission(argument: _sluice_v1_DecommissionRequest, callback: grpc.requestCallback<_sluice_v1_DecommissionResponse__Output>): grpc.ClientUnaryCall;
  /**
   * No new allocations; the worker exits once idle.
   */
  decommission(argument: _sluice_v1_DecommissionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_DecommissionResponse__Output>): grpc.ClientUnaryCall;
  decommission(argument: _sluice_v1_DecommissionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_DecommissionResponse__Output>): grpc.ClientUnaryCall;
  decommission(argument: _sluice_v1_DecommissionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_DecommissionResponse__Output>): grpc.ClientUnaryCall;
  decommission(argument: _sluice_v1_DecommissionRequest, callback: grpc.requestCallback<_sluice_v1_DecommissionResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Delete every file of a shuffle on this worker.
   */
  DestroyShuffle(argument: _sluice_v1_DestroyShuffleRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_DestroyShuffleResponse__Output>): grpc.ClientUnaryCall;
  DestroyShuffle(argument: _sluice_v1_DestroyShuffleRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_DestroyShuffleResponse__Output>): grpc.ClientUnaryCall;
  DestroyShuffle(argument: _sluice_v1_DestroyShuffleRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_DestroyShuffleResponse__Output>): grpc.ClientUnaryCall;
  DestroyShuffle(argument: _sluice_v1_DestroyShuffleRequest, callback: grpc.requestCallback<_sluice_v1_DestroyShuffleResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Delete every file of a shuffle on this worker.
   */
  destroyShuffle(argument: _sluice_v1_DestroyShuffleRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_DestroyShuffleResponse__Output>): grpc.ClientUnaryCall;
  destroyShuffle(argument: _sluice_v1_DestroyShuffleRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_DestroyShuffleResponse__Output>): grpc.ClientUnaryCall;
  destroyShuffle(argument: _sluice_v1_DestroyShuffleRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_DestroyShuffleResponse__Output>): grpc.ClientUnaryCall;
  destroyShuffle(argument: _sluice_v1_DestroyShuffleRequest, callback: grpc.requestCallback<_sluice_v1_DestroyShuffleResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface WorkerControlServiceHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Stop the shuffle's pushes (STAGE_ENDED), flush, fsync, write indexes. Idempotent.
   */
  CommitFiles: grpc.handleUnaryCall<_sluice_v1_CommitFilesRequest__Output, _sluice_v1_CommitFilesResponse>;
  
  /**
   * No new allocations; the worker exits once idle.
   */
  Decommission: grpc.handleUnaryCall<_sluice_v1_DecommissionRequest__Output, _sluice_v1_DecommissionResponse>;
  
  /**
   * Delete every file of a shuffle on this worker.
   */
  DestroyShuffle: grpc.handleUnaryCall<_sluice_v1_DestroyShuffleRequest__Output, _sluice_v1_DestroyShuffleResponse>;
  
}

export interface WorkerControlServiceDefinition extends grpc.ServiceDefinition {
  CommitFiles: MethodDefinition<_sluice_v1_CommitFilesRequest, _sluice_v1_CommitFilesResponse, _sluice_v1_CommitFilesRequest__Output, _sluice_v1_CommitFilesResponse__Output>
  Decommission: MethodDefinition<_sluice_v1_DecommissionRequest, _sluice_v1_DecommissionResponse, _sluice_v1_DecommissionRequest__Output, _sluice_v1_DecommissionResponse__Output>
  DestroyShuffle: MethodDefinition<_sluice_v1_DestroyShuffleRequest, _sluice_v1_DestroyShuffleResponse, _sluice_v1_DestroyShuffleRequest__Output, _sluice_v1_DestroyShuffleResponse__Output>
}
