// @ts-nocheck
import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { AgentServiceClient as _sluice_v1_AgentServiceClient, AgentServiceDefinition as _sluice_v1_AgentServiceDefinition } from './sluice/v1/AgentService.js';
import type { Decision as _sluice_v1_Decision, Decision__Output as _sluice_v1_Decision__Output } from './sluice/v1/Decision.js';
import type { ExecutorEventRequest as _sluice_v1_ExecutorEventRequest, ExecutorEventRequest__Output as _sluice_v1_ExecutorEventRequest__Output } from './sluice/v1/ExecutorEventRequest.js';
import type { ExecutorEventResponse as _sluice_v1_ExecutorEventResponse, ExecutorEventResponse__Output as _sluice_v1_ExecutorEventResponse__Output } from './sluice/v1/ExecutorEventResponse.js';
import type { StageCompletedRequest as _sluice_v1_StageCompletedRequest, StageCompletedRequest__Output as _sluice_v1_StageCompletedRequest__Output } from './sluice/v1/StageCompletedRequest.js';
import type { StageCompletedResponse as _sluice_v1_StageCompletedResponse, StageCompletedResponse__Output as _sluice_v1_StageCompletedResponse__Output } from './sluice/v1/StageCompletedResponse.js';
import type { StageFeatures as _sluice_v1_StageFeatures, StageFeatures__Output as _sluice_v1_StageFeatures__Output } from './sluice/v1/StageFeatures.js';
import type { StageProgressRequest as _sluice_v1_StageProgressRequest, StageProgressRequest__Output as _sluice_v1_StageProgressRequest__Output } from './sluice/v1/StageProgressRequest.js';
import type { StageSubmittedRequest as _sluice_v1_StageSubmittedRequest, StageSubmittedRequest__Output as _sluice_v1_StageSubmittedRequest__Output } from './sluice/v1/StageSubmittedRequest.js';
import type { WatchDecisionsRequest as _sluice_v1_WatchDecisionsRequest, WatchDecisionsRequest__Output as _sluice_v1_WatchDecisionsRequest__Output } from './sluice/v1/WatchDecisionsRequest.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  sluice: {
    v1: {
      AgentService: SubtypeConstructor<typeof grpc.Client, _sluice_v1_AgentServiceClient> & { service: _sluice_v1_AgentServiceDefinition }
      Decision: MessageTypeDefinition<_sluice_v1_Decision, _sluice_v1_Decision__Output>
      ExecutorEventRequest: MessageTypeDefinition<_sluice_v1_ExecutorEventRequest, _sluice_v1_ExecutorEventRequest__Output>
      ExecutorEventResponse: MessageTypeDefinition<_sluice_v1_ExecutorEventResponse, _sluice_v1_ExecutorEventResponse__Output>
      StageCompletedRequest: MessageTypeDefinition<_sluice_v1_StageCompletedRequest, _sluice_v1_StageCompletedRequest__Output>
      StageCompletedResponse: MessageTypeDefinition<_sluice_v1_StageCompletedResponse, _sluice_v1_StageCompletedResponse__Output>
      StageFeatures: MessageTypeDefinition<_sluice_v1_StageFeatures, _sluice_v1_StageFeatures__Output>
      StageProgressRequest: MessageTypeDefinition<_sluice_v1_StageProgressRequest, _sluice_v1_StageProgressRequest__Output>
      StageSubmittedRequest: MessageTypeDefinition<_sluice_v1_StageSubmittedRequest, _sluice_v1_StageSubmittedRequest__Output>
      WatchDecisionsRequest: MessageTypeDefinition<_sluice_v1_WatchDecisionsRequest, _sluice_v1_WatchDecisionsRequest__Output>
    }
  }
}

