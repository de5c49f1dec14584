// @ts-nocheck
import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { DiskInfo as _sluice_v1_DiskInfo, DiskInfo__Output as _sluice_v1_DiskInfo__Output } from './sluice/v1/DiskInfo.js';
import type { PartitionGroup as _sluice_v1_PartitionGroup, PartitionGroup__Output as _sluice_v1_PartitionGroup__Output } from './sluice/v1/PartitionGroup.js';
import type { ShuffleRef as _sluice_v1_ShuffleRef, ShuffleRef__Output as _sluice_v1_ShuffleRef__Output } from './sluice/v1/ShuffleRef.js';
import type { WorkerAddress as _sluice_v1_WorkerAddress, WorkerAddress__Output as _sluice_v1_WorkerAddress__Output } from './sluice/v1/WorkerAddress.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  sluice: {
    v1: {
      DiskInfo: MessageTypeDefinition<_sluice_v1_DiskInfo, _sluice_v1_DiskInfo__Output>
      PartitionGroup: MessageTypeDefinition<_sluice_v1_PartitionGroup, _sluice_v1_PartitionGroup__Output>
      ShuffleRef: MessageTypeDefinition<_sluice_v1_ShuffleRef, _sluice_v1_ShuffleRef__Output>
      WorkerAddress: MessageTypeDefinition<_sluice_v1_WorkerAddress, _sluice_v1_WorkerAddress__Output>
    }
  }
}

