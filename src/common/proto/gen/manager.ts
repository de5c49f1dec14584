// @ts-nocheck
import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { AllocateShuffleRequest as _sluice_v1_AllocateShuffleRequest, AllocateShuffleRequest__Output as _sluice_v1_AllocateShuffleRequest__Output } from './sluice/v1/AllocateShuffleRequest.js';
import type { AllocateShuffleResponse as _sluice_v1_AllocateShuffleResponse, AllocateShuffleResponse__Output as _sluice_v1_AllocateShuffleResponse__Output } from './sluice/v1/AllocateShuffleResponse.js';
import type { AppHeartbeatRequest as _sluice_v1_AppHeartbeatRequest, AppHeartbeatRequest__Output as _sluice_v1_AppHeartbeatRequest__Output } from './sluice/v1/AppHeartbeatRequest.js';
import type { AppHeartbeatResponse as _sluice_v1_AppHeartbeatResponse, AppHeartbeatResponse__Output as _sluice_v1_AppHeartbeatResponse__Output } from './sluice/v1/AppHeartbeatResponse.js';
import type { AppState as _sluice_v1_AppState, AppState__Output as _sluice_v1_AppState__Output } from './sluice/v1/AppState.js';
import type { DiskInfo as _sluice_v1_DiskInfo, DiskInfo__Output as _sluice_v1_DiskInfo__Output } from './sluice/v1/DiskInfo.js';
import type { GetClusterStateRequest as _sluice_v1_GetClusterStateRequest, GetClusterStateRequest__Output as _sluice_v1_GetClusterStateRequest__Output } from './sluice/v1/GetClusterStateRequest.js';
import type { GetClusterStateResponse as _sluice_v1_GetClusterStateResponse, GetClusterStateResponse__Output as _sluice_v1_GetClusterStateResponse__Output } from './sluice/v1/GetClusterStateResponse.js';
import type { GetShuffleRequest as _sluice_v1_GetShuffleRequest, GetShuffleRequest__Output as _sluice_v1_GetShuffleRequest__Output } from './sluice/v1/GetShuffleRequest.js';
import type { HeldShuffle as _sluice_v1_HeldShuffle, HeldShuffle__Output as _sluice_v1_HeldShuffle__Output } from './sluice/v1/HeldShuffle.js';
import type { ManagerServiceClient as _sluice_v1_ManagerServiceClient, ManagerServiceDefinition as _sluice_v1_ManagerServiceDefinition } from './sluice/v1/ManagerService.js';
import type { PartitionGroup as _sluice_v1_PartitionGroup, PartitionGroup__Output as _sluice_v1_PartitionGroup__Output } from './sluice/v1/PartitionGroup.js';
import type { ReallocateGroupRequest as _sluice_v1_ReallocateGroupRequest, ReallocateGroupRequest__Output as _sluice_v1_ReallocateGroupRequest__Output } from './sluice/v1/ReallocateGroupRequest.js';
import type { ReallocateGroupResponse as _sluice_v1_ReallocateGroupResponse, ReallocateGroupResponse__Output as _sluice_v1_ReallocateGroupResponse__Output } from './sluice/v1/ReallocateGroupResponse.js';
import type { RegisterAppRequest as _sluice_v1_RegisterAppRequest, RegisterAppRequest__Output as _sluice_v1_RegisterAppRequest__Output } from './sluice/v1/RegisterAppRequest.js';
import type { RegisterAppResponse as _sluice_v1_RegisterAppResponse, RegisterAppResponse__Output as _sluice_v1_RegisterAppResponse__Output } from './sluice/v1/RegisterAppResponse.js';
import type { RegisterWorkerRequest as _sluice_v1_RegisterWorkerRequest, RegisterWorkerRequest__Output as _sluice_v1_RegisterWorkerRequest__Output } from './sluice/v1/RegisterWorkerRequest.js';
import type { RegisterWorkerResponse as _sluice_v1_RegisterWorkerResponse, RegisterWorkerResponse__Output as _sluice_v1_RegisterWorkerResponse__Output } from './sluice/v1/RegisterWorkerResponse.js';
import type { ReleaseShuffleRequest as _sluice_v1_ReleaseShuffleRequest, ReleaseShuffleRequest__Output as _sluice_v1_ReleaseShuffleRequest__Output } from './sluice/v1/ReleaseShuffleRequest.js';
import type { ReleaseShuffleResponse as _sluice_v1_ReleaseShuffleResponse, ReleaseShuffleResponse__Output as _sluice_v1_ReleaseShuffleResponse__Output } from './sluice/v1/ReleaseShuffleResponse.js';
import type { ShuffleRef as _sluice_v1_ShuffleRef, ShuffleRef__Output as _sluice_v1_ShuffleRef__Output } from './sluice/v1/ShuffleRef.js';
import type { ShuffleState as _sluice_v1_ShuffleState, ShuffleState__Output as _sluice_v1_ShuffleState__Output } from './sluice/v1/ShuffleState.js';
import type { UnregisterAppRequest as _sluice_v1_UnregisterAppRequest, UnregisterAppRequest__Output as _sluice_v1_UnregisterAppRequest__Output } from './sluice/v1/UnregisterAppRequest.js';
import type { UnregisterAppResponse as _sluice_v1_UnregisterAppResponse, UnregisterAppResponse__Output as _sluice_v1_UnregisterAppResponse__Output } from './sluice/v1/UnregisterAppResponse.js';
import type { WorkerAddress as _sluice_v1_WorkerAddress, WorkerAddress__Output as _sluice_v1_WorkerAddress__Output } from './sluice/v1/WorkerAddress.js';
import type { WorkerHeartbeatRequest as _sluice_v1_WorkerHeartbeatRequest, WorkerHeartbeatRequest__Output as _sluice_v1_WorkerHeartbeatRequest__Output } from './sluice/v1/WorkerHeartbeatRequest.js';
import type { WorkerHeartbeatResponse as _sluice_v1_WorkerHeartbeatResponse, WorkerHeartbeatResponse__Output as _sluice_v1_WorkerHeartbeatResponse__Output } from './sluice/v1/WorkerHeartbeatResponse.js';
import type { WorkerLoad as _sluice_v1_WorkerLoad, WorkerLoad__Output as _sluice_v1_WorkerLoad__Output } from './sluice/v1/WorkerLoad.js';
import type { WorkerState as _sluice_v1_WorkerState, WorkerState__Output as _sluice_v1_WorkerState__Output } from './sluice/v1/WorkerState.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  sluice: {
    v1: {
      AllocateShuffleRequest: MessageTypeDefinition<_sluice_v1_AllocateShuffleRequest, _sluice_v1_AllocateShuffleRequest__Output>
      AllocateShuffleResponse: MessageTypeDefinition<_sluice_v1_AllocateShuffleResponse, _sluice_v1_AllocateShuffleResponse__Output>
      AppHeartbeatRequest: MessageTypeDefinition<_sluice_v1_AppHeartbeatRequest, _sluice_v1_AppHeartbeatRequest__Output>
      AppHeartbeatResponse: MessageTypeDefinition<_sluice_v1_AppHeartbeatResponse, _sluice_v1_AppHeartbeatResponse__Output>
      AppState: MessageTypeDefinition<_sluice_v1_AppState, _sluice_v1_AppState__Output>
      DiskInfo: MessageTypeDefinition<_sluice_v1_DiskInfo, _sluice_v1_DiskInfo__Output>
      GetClusterStateRequest: MessageTypeDefinition<_sluice_v1_GetClusterStateRequest, _sluice_v1_GetClusterStateRequest__Output>
      GetClusterStateResponse: MessageTypeDefinition<_sluice_v1_GetClusterStateResponse, _sluice_v1_GetClusterStateResponse__Output>
      GetShuffleRequest: MessageTypeDefinition<_sluice_v1_GetShuffleRequest, _sluice_v1_GetShuffleRequest__Output>
      HeldShuffle: MessageTypeDefinition<_sluice_v1_HeldShuffle, _sluice_v1_HeldShuffle__Output>
      ManagerService: SubtypeConstructor<typeof grpc.Client, _sluice_v1_ManagerServiceClient> & { service: _sluice_v1_ManagerServiceDefinition }
      PartitionGroup: MessageTypeDefinition<_sluice_v1_PartitionGroup, _sluice_v1_PartitionGroup__Output>
      ReallocateGroupRequest: MessageTypeDefinition<_sluice_v1_ReallocateGroupRequest, _sluice_v1_ReallocateGroupRequest__Output>
      ReallocateGroupResponse: MessageTypeDefinition<_sluice_v1_ReallocateGroupResponse, _sluice_v1_ReallocateGroupResponse__Output>
      RegisterAppRequest: MessageTypeDefinition<_sluice_v1_RegisterAppRequest, _sluice_v1_RegisterAppRequest__Output>
      RegisterAppResponse: MessageTypeDefinition<_sluice_v1_RegisterAppResponse, _sluice_v1_RegisterAppResponse__Output>
      RegisterWorkerRequest: MessageTypeDefinition<_sluice_v1_RegisterWorkerRequest, _sluice_v1_RegisterWorkerRequest__Output>
      RegisterWorkerResponse: MessageTypeDefinition<_sluice_v1_RegisterWorkerResponse, _sluice_v1_RegisterWorkerResponse__Output>
      ReleaseShuffleRequest: MessageTypeDefinition<_sluice_v1_ReleaseShuffleRequest, _sluice_v1_ReleaseShuffleRequest__Output>
      ReleaseShuffleResponse: MessageTypeDefinition<_sluice_v1_ReleaseShuffleResponse, _sluice_v1_ReleaseShuffleResponse__Output>
      ShuffleRef: MessageTypeDefinition<_sluice_v1_ShuffleRef, _sluice_v1_ShuffleRef__Output>
      ShuffleState: MessageTypeDefinition<_sluice_v1_ShuffleState, _sluice_v1_ShuffleState__Output>
      UnregisterAppRequest: MessageTypeDefinition<_sluice_v1_UnregisterAppRequest, _sluice_v1_UnregisterAppRequest__Output>
      UnregisterAppResponse: MessageTypeDefinition<_sluice_v1_UnregisterAppResponse, _sluice_v1_UnregisterAppResponse__Output>
      WorkerAddress: MessageTypeDefinition<_sluice_v1_WorkerAddress, _sluice_v1_WorkerAddress__Output>
      WorkerHeartbeatRequest: MessageTypeDefinition<_sluice_v1_WorkerHeartbeatRequest, _sluice_v1_WorkerHeartbeatRequest__Output>
      WorkerHeartbeatResponse: MessageTypeDefinition<_sluice_v1_WorkerHeartbeatResponse, _sluice_v1_WorkerHeartbeatResponse__Output>
      WorkerLoad: MessageTypeDefinition<_sluice_v1_WorkerLoad, _sluice_v1_WorkerLoad__Output>
      WorkerServingState: EnumTypeDefinition
      WorkerState: MessageTypeDefinition<_sluice_v1_WorkerState, _sluice_v1_WorkerState__Output>
    }
  }
}

