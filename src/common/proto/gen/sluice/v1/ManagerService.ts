// @ts-nocheck
// Original file: proto/sluice/v1/manager.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AllocateShuffleRequest as _sluice_v1_AllocateShuffleRequest, AllocateShuffleRequest__Output as _sluice_v1_AllocateShuffleRequest__Output } from '../../sluice/v1/AllocateShuffleRequest.js';
import type { AllocateShuffleResponse as _sluice_v1_AllocateShuffleResponse, AllocateShuffleResponse__Output as _sluice_v1_AllocateShuffleResponse__Output } from '../../sluice/v1/AllocateShuffleResponse.js';
import type { AppHeartbeatRequest as _sluice_v1_AppHeartbeatRequest, AppHeartbeatRequest__Output as _sluice_v1_AppHeartbeatRequest__Output } from '../../sluice/v1/AppHeartbeatRequest.js';
import type { AppHeartbeatResponse as _sluice_v1_AppHeartbeatResponse, AppHeartbeatResponse__Output as _sluice_v1_AppHeartbeatResponse__Output } from '../../sluice/v1/AppHeartbeatResponse.js';
import type { GetClusterStateRequest as _sluice_v1_GetClusterStateRequest, GetClusterStateRequest__Output as _sluice_v1_GetClusterStateRequest__Output } from '../../sluice/v1/GetClusterStateRequest.js';
import type { GetClusterStateResponse as _sluice_v1_GetClusterStateResponse, GetClusterStateResponse__Output as _sluice_v1_GetClusterStateResponse__Output } from '../../sluice/v1/GetClusterStateResponse.js';
import type { GetShuffleRequest as _sluice_v1_GetShuffleRequest, GetShuffleRequest__Output as _sluice_v1_GetShuffleRequest__Output } from '../../sluice/v1/GetShuffleRequest.js';
import type { ReallocateGroupRequest as _sluice_v1_ReallocateGroupRequest, ReallocateGroupRequest__Output as _sluice_v1_ReallocateGroupRequest__Output } from '../../sluice/v1/ReallocateGroupRequest.js';
import type { ReallocateGroupResponse as _sluice_v1_ReallocateGroupResponse, ReallocateGroupResponse__Output as _sluice_v1_ReallocateGroupResponse__Output } from '../../sluice/v1/ReallocateGroupResponse.js';
import type { RegisterAppRequest as _sluice_v1_RegisterAppRequest, RegisterAppRequest__Output as _sluice_v1_RegisterAppRequest__Output } from '../../sluice/v1/RegisterAppRequest.js';
import type { RegisterAppResponse as _sluice_v1_RegisterAppResponse, RegisterAppResponse__Output as _sluice_v1_RegisterAppResponse__Output } from '../../sluice/v1/RegisterAppResponse.js';
import type { RegisterWorkerRequest as _sluice_v1_RegisterWorkerRequest, RegisterWorkerRequest__Output as _sluice_v1_RegisterWorkerRequest__Output } from '../../sluice/v1/RegisterWorkerRequest.js';
import type { RegisterWorkerResponse as _sluice_v1_RegisterWorkerResponse, RegisterWorkerResponse__Output as _sluice_v1_RegisterWorkerResponse__Output } from '../../sluice/v1/RegisterWorkerResponse.js';
import type { ReleaseShuffleRequest as _sluice_v1_ReleaseShuffleRequest, ReleaseShuffleRequest__Output as _sluice_v1_ReleaseShuffleRequest__Output } from '../../sluice/v1/ReleaseShuffleRequest.js';
import type { ReleaseShuffleResponse as _sluice_v1_ReleaseShuffleResponse, ReleaseShuffleResponse__Output as _sluice_v1_ReleaseShuffleResponse__Output } from '../../sluice/v1/ReleaseShuffleResponse.js';
import type { ShuffleState as _sluice_v1_ShuffleState, ShuffleState__Output as _sluice_v1_ShuffleState__Output } from '../../sluice/v1/ShuffleState.js';
import type { UnregisterAppRequest as _sluice_v1_UnregisterAppRequest, UnregisterAppRequest__Output as _sluice_v1_UnregisterAppRequest__Output } from '../../sluice/v1/UnregisterAppRequest.js';
import type { UnregisterAppResponse as _sluice_v1_UnregisterAppResponse, UnregisterAppResponse__Output as _sluice_v1_UnregisterAppResponse__Output } from '../../sluice/v1/UnregisterAppResponse.js';
import type { WorkerHeartbeatRequest as _sluice_v1_WorkerHeartbeatRequest, WorkerHeartbeatRequest__Output as _sluice_v1_WorkerHeartbeatRequest__Output } from '../../sluice/v1/WorkerHeartbeatRequest.js';
import type { WorkerHeartbeatResponse as _sluice_v1_WorkerHeartbeatResponse, WorkerHeartbeatResponse__Output as _sluice_v1_WorkerHeartbeatResponse__Output } from '../../sluice/v1/WorkerHeartbeatResponse.js';

export interface ManagerServiceClient extends grpc.Client {
  /**
   * Splits a shuffle's partitions into groups and assigns each a primary and a replica.
   */
  AllocateShuffle(argument: _sluice_v1_AllocateShuffleRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_AllocateShuffleResponse__Output>): grpc.ClientUnaryCall;
  AllocateShuffle(argument: _sluice_v1_AllocateShuffleRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_AllocateShuffleResponse__Output>): grpc.ClientUnaryCall;
  AllocateShuffle(argument: _sluice_v1_AllocateShuffleRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_AllocateShuffleResponse__Output>): grpc.ClientUnaryCall;
  AllocateShuffle(argument: _sluice_v1_AllocateShuffleRequest, callback: grpc.requestCallback<_sluice_v1_AllocateShuffleResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Splits a shuffle's partitions into groups and assigns each a primary and a replica.
   */
  allocateShuffle(argument: _sluice_v1_AllocateShuffleRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_AllocateShuffleResponse__Output>): grpc.ClientUnaryCall;
  allocateShuffle(argument: _sluice_v1_AllocateShuffleRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_AllocateShuffleResponse__Output>): grpc.ClientUnaryCall;
  allocateShuffle(argument: _sluice_v1_AllocateShuffleRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_AllocateShuffleResponse__Output>): grpc.ClientUnaryCall;
  allocateShuffle(argument: _sluice_v1_AllocateShuffleRequest, callback: grpc.requestCallback<_sluice_v1_AllocateShuffleResponse__Output>): grpc.ClientUnaryCall;
  
  AppHeartbeat(argument: _sluice_v1_AppHeartbeatRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_AppHeartbeatResponse__Output>): grpc.ClientUnaryCall;
  AppHeartbeat(argument: _sluice_v1_AppHeartbeatRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_AppHeartbeatResponse__Output>): grpc.ClientUnaryCall;
  AppHeartbeat(argument: _sluice_v1_AppHeartbeatRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_AppHeartbeatResponse__Output>): grpc.ClientUnaryCall;
  AppHeartbeat(argument: _sluice_v1_AppHeartbeatRequest, callback: grpc.requestCallback<_sluice_v1_AppHeartbeatResponse__Output>): grpc.ClientUnaryCall;
  appHeartbeat(argument: _sluice_v1_AppHeartbeatRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_AppHeartbeatResponse__Output>): grpc.ClientUnaryCall;
  appHeartbeat(argument: _sluice_v1_AppHeartbeatRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_AppHeartbeatResponse__Output>): grpc.ClientUnaryCall;
  appHeartbeat(argument: _sluice_v1_AppHeartbeatRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_AppHeartbeatResponse__Output>): grpc.ClientUnaryCall;
  appHeartbeat(argument: _sluice_v1_AppHeartbeatRequest, callback: grpc.requestCallback<_sluice_v1_AppHeartbeatResponse__Output>): grpc.ClientUnaryCall;
  
  GetClusterState(argument: _sluice_v1_GetClusterStateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_GetClusterStateResponse__Output>): grpc.ClientUnaryCall;
  GetClusterState(argument: _sluice_v1_GetClusterStateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_GetClusterStateResponse__Output>): grpc.ClientUnaryCall;
  GetClusterState(argument: _sluice_v1_GetClusterStateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_GetClusterStateResponse__Output>): grpc.ClientUnaryCall;
  GetClusterState(argument: _sluice_v1_GetClusterStateRequest, callback: grpc.requestCallback<_sluice_v1_GetClusterStateResponse__Output>): grpc.ClientUnaryCall;
  getClusterState(argument: _sluice_v1_GetClusterStateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_GetClusterStateResponse__Output>): grpc.ClientUnaryCall;
  getClusterState(argument: _sluice_v1_GetClusterStateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_GetClusterStateResponse__Output>): grpc.ClientUnaryCall;
  getClusterState(argument: _sluice_v1_GetClusterStateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_GetClusterStateResponse__Output>): grpc.ClientUnaryCall;
  getClusterState(argument: _sluice_v1_GetClusterStateRequest, callback: grpc.requestCallback<_sluice_v1_GetClusterStateResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * One shuffle's current groups; workers use it to check that a push is for a group
   * allocated to them (NOT_FOUND when the shuffle is not allocated).
   */
  GetShuffle(argument: _sluice_v1_GetShuffleRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_ShuffleState__Output>): grpc.ClientUnaryCall;
  GetShuffle(argument: _sluice_v1_GetShuffleRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_ShuffleState__Output>): grpc.ClientUnaryCall;
  GetShuffle(argument: _sluice_v1_GetShuffleRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_ShuffleState__Output>): grpc.ClientUnaryCall;
  GetShuffle(argument: _sluice_v1_GetShuffleRequest, callback: grpc.requestCallback<_sluice_v1_ShuffleState__Output>): grpc.ClientUnaryCall;
  /**
   * One shuffle's current groups; workers use it to check that a push is for a group
   * allocated to them (NOT_FOUND when the shuffle is not allocated).
   */
  getShuffle(argument: _sluice_v1_GetShuffleRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_ShuffleState__Output>): grpc.ClientUnaryCall;
  getShuffle(argument: _sluice_v1_GetShuffleRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_ShuffleState__Output>): grpc.ClientUnaryCall;
  getShuffle(argument: _sluice_v1_GetShuffleRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_ShuffleState__Output>): grpc.ClientUnaryCall;
  getShuffle(argument: _sluice_v1_GetShuffleRequest, callback: grpc.requestCallback<_sluice_v1_ShuffleState__Output>): grpc.ClientUnaryCall;
  
  /**
   * Moves one group to a new worker pair and bumps its epoch; idempotent per old epoch.
   */
  ReallocateGroup(argument: _sluice_v1_ReallocateGroupRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_ReallocateGroupResponse__Output>): grpc.ClientUnaryCall;
  ReallocateGroup(argument: _sluice_v1_ReallocateGroupRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_ReallocateGroupResponse__Output>): grpc.ClientUnaryCall;
  ReallocateGroup(argument: _sluice_v1_ReallocateGroupRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_ReallocateGroupResponse__Output>): grpc.ClientUnaryCall;
  ReallocateGroup(argument: _sluice_v1_ReallocateGroupRequest, callback: grpc.requestCallback<_sluice_v1_ReallocateGroupResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Moves one group to a new worker pair and bumps its epoch; idempotent per old epoch.
   */
  reallocateGroup(argument: _sluice_v1_ReallocateGroupRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_ReallocateGroupResponse__Output>): grpc.ClientUnaryCall;
  reallocateGroup(argument: _sluice_v1_ReallocateGroupRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_ReallocateGroupResponse__Output>): grpc.ClientUnaryCall;
  reallocateGroup(argument: _sluice_v1_ReallocateGroupRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_ReallocateGroupResponse__Output>): grpc.ClientUnaryCall;
  reallocateGroup(argument: _sluice_v1_ReallocateGroupRequest, callback: grpc.requestCallback<_sluice_v1_ReallocateGroupResponse__Output>): grpc.ClientUnaryCall;
  
  RegisterApp(argument: _sluice_v1_RegisterAppRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_RegisterAppResponse__Output>): grpc.ClientUnaryCall;
  RegisterApp(argument: _sluice_v1_RegisterAppRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_RegisterAppResponse__Output>): grpc.ClientUnaryCall;
  RegisterApp(argument: _sluice_v1_RegisterAppRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_RegisterAppResponse__Output>): grpc.ClientUnaryCall;
  RegisterApp(argument: _sluice_v1_RegisterAppRequest, callback: grpc.requestCallback<_sluice_v1_RegisterAppResponse__Output>): grpc.ClientUnaryCall;
  registerApp(argument: _sluice_v1_RegisterAppRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_RegisterAppResponse__Output>): grpc.ClientUnaryCall;
  registerApp(argument: _sluice_v1_RegisterAppRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_RegisterAppResponse__Output>): grpc.ClientUnaryCall;
  registerApp(argument: _sluice_v1_RegisterAppRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_RegisterAppResponse__Output>): grpc.ClientUnaryCall;
  registerApp(argument: _sluice_v1_RegisterAppRequest, callback: grpc.requestCallback<_sluice_v1_RegisterAppResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * A worker announces itself (again after a manager restart or failover).
   */
  RegisterWorker(argument: _sluice_v1_RegisterWorkerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_RegisterWorkerResponse__Output>): grpc.ClientUnaryCall;
  RegisterWorker(argument: _sluice_v1_RegisterWorkerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_RegisterWorkerResponse__Output>): grpc.ClientUnaryCall;
  RegisterWorker(argument: _sluice_v1_RegisterWorkerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_RegisterWorkerResponse__Output>): grpc.ClientUnaryCall;
  RegisterWorker(argument: _sluice_v1_RegisterWorkerRequest, callback: grpc.requestCallback<_sluice_v1_RegisterWorkerResponse__Output>): grpc.ClientUnaryCall;
  /**
   * A worker announces itself (again after a manager restart or failover).
   */
  registerWorker(argument: _sluice_v1_RegisterWorkerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_RegisterWorkerResponse__Output>): grpc.ClientUnaryCall;
  registerWorker(argument: _sluice_v1_RegisterWorkerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_RegisterWorkerResponse__Output>): grpc.ClientUnaryCall;
  registerWorker(argument: _sluice_v1_RegisterWorkerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_RegisterWorkerResponse__Output>): grpc.ClientUnaryCall;
  registerWorker(argument: _sluice_v1_RegisterWorkerRequest, callback: grpc.requestCallback<_sluice_v1_RegisterWorkerResponse__Output>): grpc.ClientUnaryCall;
  
  ReleaseShuffle(argument: _sluice_v1_ReleaseShuffleRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_ReleaseShuffleResponse__Output>): grpc.ClientUnaryCall;
  ReleaseShuffle(argument: _sluice_v1_ReleaseShuffleRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_ReleaseShuffleResponse__Output>): grpc.ClientUnaryCall;
  ReleaseShuffle(argument: _sluice_v1_ReleaseShuffleRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_ReleaseShuffleResponse__Output>): grpc.ClientUnaryCall;
  ReleaseShuffle(argument: _sluice_v1_ReleaseShuffleRequest, callback: grpc.requestCallback<_sluice_v1_ReleaseShuffleResponse__Output>): grpc.ClientUnaryCall;
  releaseShuffle(argument: _sluice_v1_ReleaseShuffleRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_ReleaseShuffleResponse__Output>): grpc.ClientUnaryCall;
  releaseShuffle(argument: _sluice_v1_ReleaseShuffleRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_ReleaseShuffleResponse__Output>): grpc.ClientUnaryCall;
  releaseShuffle(argument: _sluice_v1_ReleaseShuffleRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_ReleaseShuffleResponse__Output>): grpc.ClientUnaryCall;
  releaseShuffle(argument: _sluice_v1_ReleaseShuffleRequest, callback: grpc.requestCallback<_sluice_v1_ReleaseShuffleResponse__Output>): grpc.ClientUnaryCall;
  
  UnregisterApp(argument: _sluice_v1_UnregisterAppRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_UnregisterAppResponse__Output>): grpc.ClientUnaryCall;
  UnregisterApp(argument: _sluice_v1_UnregisterAppRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_UnregisterAppResponse__Output>): grpc.ClientUnaryCall;
  UnregisterApp(argument: _sluice_v1_UnregisterAppRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_UnregisterAppResponse__Output>): grpc.ClientUnaryCall;
  UnregisterApp(argument: _sluice_v1_UnregisterAppRequest, callback: grpc.requestCallback<_sluice_v1_UnregisterAppResponse__Output>): grpc.ClientUnaryCall;
  unregisterApp(argument: _sluice_v1_UnregisterAppRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_UnregisterAppResponse__Output>): grpc.ClientUnaryCall;
  unregisterApp(argument: _sluice_v1_UnregisterAppRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_UnregisterAppResponse__Output>): grpc.ClientUnaryCall;
  unregisterApp(argument: _sluice_v1_UnregisterAppRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_UnregisterAppResponse__Output>): grpc.ClientUnaryCall;
  unregisterApp(argument: _sluice_v1_UnregisterAppRequest, callback: grpc.requestCallback<_sluice_v1_UnregisterAppResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Every worker.heartbeatInterval; the reply says which data to delete.
   */
  WorkerHeartbeat(argument: _sluice_v1_WorkerHeartbeatRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_WorkerHeartbeatResponse__Output>): grpc.ClientUnaryCall;
  WorkerHeartbeat(argument: _sluice_v1_WorkerHeartbeatRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_WorkerHeartbeatResponse__Output>): grpc.ClientUnaryCall;
  WorkerHeartbeat(argument: _sluice_v1_WorkerHeartbeatRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_WorkerHeartbeatResponse__Output>): grpc.ClientUnaryCall;
  WorkerHeartbeat(argument: _sluice_v1_WorkerHeartbeatRequest, callback: grpc.requestCallback<_sluice_v1_WorkerHeartbeatResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Every worker.heartbeatInterval; the reply says which data to delete.
   */
  workerHeartbeat(argument: _sluice_v1_WorkerHeartbeatRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_WorkerHeartbeatResponse__Output>): grpc.ClientUnaryCall;
  workerHeartbeat(argument: _sluice_v1_WorkerHeartbeatRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_WorkerHeartbeatResponse__Output>): grpc.ClientUnaryCall;
  workerHeartbeat(argument: _sluice_v1_WorkerHeartbeatRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_WorkerHeartbeatResponse__Output>): grpc.ClientUnaryCall;
  workerHeartbeat(argument: _sluice_v1_WorkerHeartbeatRequest, callback: grpc.requestCallback<_sluice_v1_WorkerHeartbeatResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface ManagerServiceHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Splits a shuffle's partitions into groups and assigns each a primary and a replica.
   */
  AllocateShuffle: grpc.handleUnaryCall<_sluice_v1_AllocateShuffleRequest__Output, _sluice_v1_AllocateShuffleResponse>;
  
  AppHeartbeat: grpc.handleUnaryCall<_sluice_v1_AppHeartbeatRequest__Output, _sluice_v1_AppHeartbeatResponse>;
  
  GetClusterState: grpc.handleUnaryCall<_sluice_v1_GetClusterStateRequest__Output, _sluice_v1_GetClusterStateResponse>;
  
  /**
   * One shuffle's current groups; workers use it to check that a push is for a group
   * allocated to them (NOT_FOUND when the shuffle is not allocated).
   */
  GetShuffle: grpc.handleUnaryCall<_sluice_v1_GetShuffleRequest__Output, _sluice_v1_ShuffleState>;
  
  /**
   * Moves one group to a new worker pair and bumps its epoch; idempotent per old epoch.
   */
  ReallocateGroup: grpc.handleUnaryCall<_sluice_v1_ReallocateGroupRequest__Output, _sluice_v1_ReallocateGroupResponse>;
  
  RegisterApp: grpc.handleUnaryCall<_sluice_v1_RegisterAppRequest__Output, _sluice_v1_RegisterAppResponse>;
  
  /**
   * A worker announces itself (again after a manager restart or failover).
   */
  RegisterWorker: grpc.handleUnaryCall<_sluice_v1_RegisterWorkerRequest__Output, _sluice_v1_RegisterWorkerResponse>;
  
  ReleaseShuffle: grpc.handleUnaryCall<_sluice_v1_ReleaseShuffleRequest__Output, _sluice_v1_ReleaseShuffleResponse>;
  
  UnregisterApp: grpc.handleUnaryCall<_sluice_v1_UnregisterAppRequest__Output, _sluice_v1_UnregisterAppResponse>;
  
  /**
   * Every worker.heartbeatInterval; the reply says which data to delete.
   */
  WorkerHeartbeat: grpc.handleUnaryCall<_sluice_v1_WorkerHeartbeatRequest__Output, _sluice_v1_WorkerHeartbeatResponse>;
  
}

export interface ManagerServiceDefinition extends grpc.ServiceDefinition {
  AllocateShuffle: MethodDefinition<_sluice_v1_AllocateShuffleRequest, _sluice_v1_AllocateShuffleResponse, _sluice_v1_AllocateShuffleRequest__Output, _sluice_v1_AllocateShuffleResponse__Output>
  AppHeartbeat: MethodDefinition<_sluice_v1_AppHeartbeatRequest, _sluice_v1_AppHeartbeatResponse, _sluice_v1_AppHeartbeatRequest__Output, _sluice_v1_AppHeartbeatResponse__Output>
  GetClusterState: MethodDefinition<_sluice_v1_GetClusterStateRequest, _sluice_v1_GetClusterStateResponse, _sluice_v1_GetClusterStateRequest__Output, _sluice_v1_GetClusterStateResponse__Output>
  GetShuffle: MethodDefinition<_sluice_v1_GetShuffleRequest, _sluice_v1_ShuffleState, _sluice_v1_GetShuffleRequest__Output, _sluice_v1_ShuffleState__Output>
  ReallocateGroup: MethodDefinition<_sluice_v1_ReallocateGroupRequest, _sluice_v1_ReallocateGroupResponse, _sluice_v1_ReallocateGroupRequest__Output, _sluice_v1_ReallocateGroupResponse__Output>
  RegisterApp: MethodDefinition<_sluice_v1_RegisterAppRequest, _sluice_v1_RegisterAppResponse, _sluice_v1_RegisterAppRequest__Output, _sluice_v1_RegisterAppResponse__Output>
  RegisterWorker: MethodDefinition<_sluice_v1_RegisterWorkerRequest, _sluice_v1_RegisterWorkerResponse, _sluice_v1_RegisterWorkerRequest__Output, _sluice_v1_RegisterWorkerResponse__Output>
  ReleaseShuffle: MethodDefinition<_sluice_v1_ReleaseShuffleRequest, _sluice_v1_ReleaseShuffleResponse, _sluice_v1_ReleaseShuffleRequest__Output, _sluice_v1_ReleaseShuffleResponse__Output>
  UnregisterApp: MethodDefinition<_sluice_v1_UnregisterAppRequest, _sluice_v1_UnregisterAppResponse, _sluice_v1_UnregisterAppRequest__Output, _sluice_v1_UnregisterAppResponse__Output>
  WorkerHeartbeat: MethodDefinition<_sluice_v1_WorkerHeartbeatRequest, _sluice_v1_WorkerHeartbeatResponse, _sluice_v1_WorkerHeartbeatRequest__Output, _sluice_v1_WorkerHeartbeatResponse__Output>
}
