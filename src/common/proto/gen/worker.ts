// @ts-nocheck
import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { CommitFilesRequest as _sluice_v1_CommitFilesRequest, CommitFilesRequest__Output as _sluice_v1_CommitFilesRequest__Output } from './sluice/v1/CommitFilesRequest.js';
import type { CommitFilesResponse as _sluice_v1_CommitFilesResponse, CommitFilesResponse__Output as _sluice_v1_CommitFilesResponse__Output } from './sluice/v1/CommitFilesResponse.js';
import type { CommittedFile as _sluice_v1_CommittedFile, CommittedFile__Output as _sluice_v1_CommittedFile__Output } from './sluice/v1/CommittedFile.js';
import type { DecommissionRequest as _sluice_v1_DecommissionRequest, DecommissionRequest__Output as _sluice_v1_DecommissionRequest__Output } from './sluice/v1/DecommissionRequest.js';
import type { DecommissionResponse as _sluice_v1_DecommissionResponse, DecommissionResponse__Output as _sluice_v1_DecommissionResponse__Output } from './sluice/v1/DecommissionResponse.js';
import type { DestroyShuffleRequest as _sluice_v1_DestroyShuffleRequest, DestroyShuffleRequest__Output as _sluice_v1_DestroyShuffleRequest__Output } from './sluice/v1/DestroyShuffleRequest.js';
import type { DestroyShuffleResponse as _sluice_v1_DestroyShuffleResponse, DestroyShuffleResponse__Output as _sluice_v1_DestroyShuffleResponse__Output } from './sluice/v1/DestroyShuffleResponse.js';
import type { FailedPartition as _sluice_v1_FailedPartition, FailedPartition__Output as _sluice_v1_FailedPartition__Output } from './sluice/v1/FailedPartition.js';
import type { WorkerControlServiceClient as _sluice_v1_WorkerControlServiceClient, WorkerControlServiceDefinition as _sluice_v1_WorkerControlServiceDefinition } from './sluice/v1/WorkerControlService.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  sluice: {
    v1: {
      CommitFilesRequest: MessageTypeDefinition<_sluice_v1_CommitFilesRequest, _sluice_v1_CommitFilesRequest__Output>
      CommitFilesResponse: MessageTypeDefinition<_sluice_v1_CommitFilesResponse, _sluice_v1_CommitFilesResponse__Output>
      CommittedFile: MessageTypeDefinition<_sluice_v1_CommittedFile, _sluice_v1_CommittedFile__Output>
      DecommissionRequest: MessageTypeDefinition<_sluice_v1_DecommissionRequest, _sluice_v1_DecommissionRequest__Output>
      DecommissionResponse: MessageTypeDefinition<_sluice_v1_DecommissionResponse, _sluice_v1_DecommissionResponse__Output>
      DestroyShuffleRequest: MessageTypeDefinition<_sluice_v1_DestroyShuffleRequest, _sluice_v1_DestroyShuffleRequest__Output>
      DestroyShuffleResponse: MessageTypeDefinition<_sluice_v1_DestroyShuffleResponse, _sluice_v1_DestroyShuffleResponse__Output>
      FailedPartition: MessageTypeDefinition<_sluice_v1_FailedPartition, _sluice_v1_FailedPartition__Output>
      WorkerControlService: SubtypeConstructor<typeof grpc.Client, _sluice_v1_WorkerControlServiceClient> & { service: _sluice_v1_WorkerControlServiceDefinition }
    }
  }
}

