// @ts-nocheck
import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { DiskInfo as _sluice_v1_DiskInfo, DiskInfo__Output as _sluice_v1_DiskInfo__Output } from './sluice/v1/DiskInfo.js';
import type { DriverServiceClient as _sluice_v1_DriverServiceClient, DriverServiceDefinition as _sluice_v1_DriverServiceDefinition } from './sluice/v1/DriverService.js';
import type { EpochFiles as _sluice_v1_EpochFiles, EpochFiles__Output as _sluice_v1_EpochFiles__Output } from './sluice/v1/EpochFiles.js';
import type { FileReplica as _sluice_v1_FileReplica, FileReplica__Output as _sluice_v1_FileReplica__Output } from './sluice/v1/FileReplica.js';
import type { GetFileGroupsRequest as _sluice_v1_GetFileGroupsRequest, GetFileGroupsRequest__Output as _sluice_v1_GetFileGroupsRequest__Output } from './sluice/v1/GetFileGroupsRequest.js';
import type { GetFileGroupsResponse as _sluice_v1_GetFileGroupsResponse, GetFileGroupsResponse__Output as _sluice_v1_GetFileGroupsResponse__Output } from './sluice/v1/GetFileGroupsResponse.js';
import type { GetShuffleGroupsRequest as _sluice_v1_GetShuffleGroupsRequest, GetShuffleGroupsRequest__Output as _sluice_v1_GetShuffleGroupsRequest__Output } from './sluice/v1/GetShuffleGroupsRequest.js';
import type { GetShuffleGroupsResponse as _sluice_v1_GetShuffleGroupsResponse, GetShuffleGroupsResponse__Output as _sluice_v1_GetShuffleGroupsResponse__Output } from './sluice/v1/GetShuffleGroupsResponse.js';
import type { MapperEndRequest as _sluice_v1_MapperEndRequest, MapperEndRequest__Output as _sluice_v1_MapperEndRequest__Output } from './sluice/v1/MapperEndRequest.js';
import type { MapperEndResponse as _sluice_v1_MapperEndResponse, MapperEndResponse__Output as _sluice_v1_MapperEndResponse__Output } from './sluice/v1/MapperEndResponse.js';
import type { PartitionColumns as _sluice_v1_PartitionColumns, PartitionColumns__Output as _sluice_v1_PartitionColumns__Output } from './sluice/v1/PartitionColumns.js';
import type { PartitionGroup as _sluice_v1_PartitionGroup, PartitionGroup__Output as _sluice_v1_PartitionGroup__Output } from './sluice/v1/PartitionGroup.js';
import type { PartitionWritten as _sluice_v1_PartitionWritten, PartitionWritten__Output as _sluice_v1_PartitionWritten__Output } from './sluice/v1/PartitionWritten.js';
import type { ReallocateRequest as _sluice_v1_ReallocateRequest, ReallocateRequest__Output as _sluice_v1_ReallocateRequest__Output } from './sluice/v1/ReallocateRequest.js';
import type { ReallocateResponse as _sluice_v1_ReallocateResponse, ReallocateResponse__Output as _sluice_v1_ReallocateResponse__Output } from './sluice/v1/ReallocateResponse.js';
import type { ShuffleRef as _sluice_v1_ShuffleRef, ShuffleRef__Output as _sluice_v1_ShuffleRef__Output } from './sluice/v1/ShuffleRef.js';
import type { WinningAttempt as _sluice_v1_WinningAttempt, WinningAttempt__Output as _sluice_v1_WinningAttempt__Output } from './sluice/v1/WinningAttempt.js';
import type { WorkerAddress as _sluice_v1_WorkerAddress, WorkerAddress__Output as _sluice_v1_WorkerAddress__Output } from './sluice/v1/WorkerAddress.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  sluice: {
    v1: {
      DiskInfo: MessageTypeDefinition<_sluice_v1_DiskInfo, _sluice_v1_DiskInfo__Output>
      DriverService: SubtypeConstructor<typeof grpc.Client, _sluice_v1_DriverServiceClient> & { service: _sluice_v1_DriverServiceDefinition }
      EpochFiles: MessageTypeDefinition<_sluice_v1_EpochFiles, _sluice_v1_EpochFiles__Output>
      FileReplica: MessageTypeDefinition<_sluice_v1_FileReplica, _sluice_v1_FileReplica__Output>
      GetFileGroupsRequest: MessageTypeDefinition<_sluice_v1_GetFileGroupsRequest, _sluice_v1_GetFileGroupsRequest__Output>
      GetFileGroupsResponse: MessageTypeDefinition<_sluice_v1_GetFileGroupsResponse, _sluice_v1_GetFileGroupsResponse__Output>
      GetShuffleGroupsRequest: MessageTypeDefinition<_sluice_v1_GetShuffleGroupsRequest, _sluice_v1_GetShuffleGroupsRequest__Output>
      GetShuffleGroupsResponse: MessageTypeDefinition<_sluice_v1_GetShuffleGroupsResponse, _sluice_v1_GetShuffleGroupsResponse__Output>
      MapperEndRequest: MessageTypeDefinition<_sluice_v1_MapperEndRequest, _sluice_v1_MapperEndRequest__Output>
      MapperEndResponse: MessageTypeDefinition<_sluice_v1_MapperEndResponse, _sluice_v1_MapperEndResponse__Output>
      PartitionColumns: MessageTypeDefinition<_sluice_v1_PartitionColumns, _sluice_v1_PartitionColumns__Output>
      PartitionGroup: MessageTypeDefinition<_sluice_v1_PartitionGroup, _sluice_v1_PartitionGroup__Output>
      PartitionWritten: MessageTypeDefinition<_sluice_v1_PartitionWritten, _sluice_v1_PartitionWritten__Output>
      ReallocateRequest: MessageTypeDefinition<_sluice_v1_ReallocateRequest, _sluice_v1_ReallocateRequest__Output>
      ReallocateResponse: MessageTypeDefinition<_sluice_v1_ReallocateResponse, _sluice_v1_ReallocateResponse__Output>
      ShuffleRef: MessageTypeDefinition<_sluice_v1_ShuffleRef, _sluice_v1_ShuffleRef__Output>
      WinningAttempt: MessageTypeDefinition<_sluice_v1_WinningAttempt, _sluice_v1_WinningAttempt__Output>
      WorkerAddress: MessageTypeDefinition<_sluice_v1_WorkerAddress, _sluice_v1_WorkerAddress__Output>
    }
  }
}

