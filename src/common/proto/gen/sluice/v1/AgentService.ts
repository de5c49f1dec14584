// @ts-nocheck
// Original file: proto/sluice/v1/agent.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { Decision as _sluice_v1_Decision, Decision__Output as _sluice_v1_Decision__Output } from '../../sluice/v1/Decision.js';
import type { ExecutorEventRequest as _sluice_v1_ExecutorEventRequest, ExecutorEventRequest__Output as _sluice_v1_ExecutorEventRequest__Output } from '../../sluice/v1/ExecutorEventRequest.js';
import type { ExecutorEventResponse as _sluice_v1_ExecutorEventResponse, ExecutorEventResponse__Output as _sluice_v1_ExecutorEventResponse__Output } from '../../sluice/v1/ExecutorEventResponse.js';
import type { StageCompletedRequest as _sluice_v1_StageCompletedRequest, StageCompletedRequest__Output as _sluice_v1_StageCompletedRequest__Output } from '../../sluice/v1/StageCompletedRequest.js';
import type { StageCompletedResponse as _sluice_v1_StageCompletedResponse, StageCompletedResponse__Output as _sluice_v1_StageCompletedResponse__Output } from '../../sluice/v1/StageCompletedResponse.js';
import type { StageProgressRequest as _sluice_v1_StageProgressRequest, StageProgressRequest__Output as _sluice_v1_StageProgressRequest__Output } from '../../sluice/v1/StageProgressRequest.js';
import type { StageSubmittedRequest as _sluice_v1_StageSubmittedRequest, StageSubmittedRequest__Output as _sluice_v1_StageSubmittedRequest__Output } from '../../sluice/v1/StageSubmittedRequest.js';
import type { WatchDecisionsRequest as _sluice_v1_WatchDecisionsRequest, WatchDecisionsRequest__Output as _sluice_v1_WatchDecisionsRequest__Output } from '../../sluice/v1/WatchDecisionsRequest.js';

export interface AgentServiceClient extends grpc.Client {
  ExecutorEvent(argument: _sluice_v1_ExecutorEventRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_ExecutorEventResponse__Output>): grpc.ClientUnaryCall;
  ExecutorEvent(argument: _sluice_v1_ExecutorEventRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_ExecutorEventResponse__Output>): grpc.ClientUnaryCall;
  ExecutorEvent(argument: _sluice_v1_ExecutorEventRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_ExecutorEventResponse__Output>): grpc.ClientUnaryCall;
  ExecutorEvent(argument: _sluice_v1_ExecutorEventRequest, callback: grpc.requestCallback<_sluice_v1_ExecutorEventResponse__Output>): grpc.ClientUnaryCall;
  executorEvent(argument: _sluice_v1_ExecutorEventRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_ExecutorEventResponse__Output>): grpc.ClientUnaryCall;
  executorEvent(argument: _sluice_v1_ExecutorEventRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_ExecutorEventResponse__Output>): grpc.ClientUnaryCall;
  executorEvent(argument: _sluice_v1_ExecutorEventRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_ExecutorEventResponse__Output>): grpc.ClientUnaryCall;
  executorEvent(argument: _sluice_v1_ExecutorEventRequest, callback: grpc.requestCallback<_sluice_v1_ExecutorEventResponse__Output>): grpc.ClientUnaryCall;
  
  StageCompleted(argument: _sluice_v1_StageCompletedRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_StageCompletedResponse__Output>): grpc.ClientUnaryCall;
  StageCompleted(argument: _sluice_v1_StageCompletedRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_StageCompletedResponse__Output>): grpc.ClientUnaryCall;
  StageCompleted(argument: _sluice_v1_StageCompletedRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_StageCompletedResponse__Output>): grpc.ClientUnaryCall;
  StageCompleted(argument: _sluice_v1_StageCompletedRequest, callback: grpc.requestCallback<_sluice_v1_StageCompletedResponse__Output>): grpc.ClientUnaryCall;
  stageCompleted(argument: _sluice_v1_StageCompletedRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_StageCompletedResponse__Output>): grpc.ClientUnaryCall;
  stageCompleted(argument: _sluice_v1_StageCompletedRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_StageCompletedResponse__Output>): grpc.ClientUnaryCall;
  stageCompleted(argument: _sluice_v1_StageCompletedRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_StageCompletedResponse__Output>): grpc.ClientUnaryCall;
  stageCompleted(argument: _sluice_v1_StageCompletedRequest, callback: grpc.requestCallback<_sluice_v1_StageCompletedResponse__Output>): grpc.ClientUnaryCall;
  
  StageProgress(argument: _sluice_v1_StageProgressRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_Decision__Output>): grpc.ClientUnaryCall;
  StageProgress(argument: _sluice_v1_StageProgressRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_Decision__Output>): grpc.ClientUnaryCall;
  StageProgress(argument: _sluice_v1_StageProgressRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_Decision__Output>): grpc.ClientUnaryCall;
  StageProgress(argument: _sluice_v1_StageProgressRequest, callback: grpc.requestCallback<_sluice_v1_Decision__Output>): grpc.ClientUnaryCall;
  stageProgress(argument: _sluice_v1_StageProgressRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_Decision__Output>): grpc.ClientUnaryCall;
  stageProgress(argument: _sluice_v1_StageProgressRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_Decision__Output>): grpc.ClientUnaryCall;
  stageProgress(argument: _sluice_v1_StageProgressRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_Decision__Output>): grpc.ClientUnaryCall;
  stageProgress(argument: _sluice_v1_StageProgressRequest, callback: grpc.requestCallback<_sluice_v1_Decision__Output>): grpc.ClientUnaryCall;
  
  StageSubmitted(argument: _sluice_v1_StageSubmittedRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_Decision__Output>): grpc.ClientUnaryCall;
  StageSubmitted(argument: _sluice_v1_StageSubmittedRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_Decision__Output>): grpc.ClientUnaryCall;
  StageSubmitted(argument: _sluice_v1_StageSubmittedRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_Decision__Output>): grpc.ClientUnaryCall;
  StageSubmitted(argument: _sluice_v1_StageSubmittedRequest, callback: grpc.requestCallback<_sluice_v1_Decision__Output>): grpc.ClientUnaryCall;
  stageSubmitted(argument: _sluice_v1_StageSubmittedRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_Decision__Output>): grpc.ClientUnaryCall;
  stageSubmitted(argument: _sluice_v1_StageSubmittedRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_Decision__Output>): grpc.ClientUnaryCall;
  stageSubmitted(argument: _sluice_v1_StageSubmittedRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_Decision__Output>): grpc.ClientUnaryCall;
  stageSubmitted(argument: _sluice_v1_StageSubmittedRequest, callback: grpc.requestCallback<_sluice_v1_Decision__Output>): grpc.ClientUnaryCall;
  
  /**
   * Decisions as they are made (scale changes, drains, rolls) for one app.
   */
  WatchDecisions(argument: _sluice_v1_WatchDecisionsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_sluice_v1_Decision__Output>;
  WatchDecisions(argument: _sluice_v1_WatchDecisionsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_sluice_v1_Decision__Output>;
  /**
   * Decisions as they are made (scale changes, drains, rolls) for one app.
   */
  watchDecisions(argument: _sluice_v1_WatchDecisionsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_sluice_v1_Decision__Output>;
  watchDecisions(argument: _sluice_v1_WatchDecisionsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_sluice_v1_Decision__Output>;
  
}

export interface AgentServiceHandlers extends grpc.UntypedServiceImplementation {
  ExecutorEvent: grpc.handleUnaryCall<_sluice_v1_ExecutorEventRequest__Output, _sluice_v1_ExecutorEventResponse>;
  
  StageCompleted: grpc.handleUnaryCall<_sluice_v1_StageCompletedRequest__Output, _sluice_v1_StageCompletedResponse>;
  
  StageProgress: grpc.handleUnaryCall<_sluice_v1_StageProgressRequest__Output, _sluice_v1_Decision>;
  
  StageSubmitted: grpc.handleUnaryCall<_sluice_v1_StageSubmittedRequest__Output, _sluice_v1_Decision>;
  
  /**
   * Decisions as they are made (scale changes, drains, rolls) for one app.
   */
  WatchDecisions: grpc.handleServerStreamingCall<_sluice_v1_WatchDecisionsRequest__Output, _sluice_v1_Decision>;
  
}

export interface AgentServiceDefinition extends grpc.ServiceDefinition {
  ExecutorEvent: MethodDefinition<_sluice_v1_ExecutorEventRequest, _sluice_v1_ExecutorEventResponse, _sluice_v1_ExecutorEventRequest__Output, _sluice_v1_ExecutorEventResponse__Output>
  StageCompleted: MethodDefinition<_sluice_v1_StageCompletedRequest, _sluice_v1_StageCompletedResponse, _sluice_v1_StageCompletedRequest__Output, _sluice_v1_StageCompletedResponse__Output>
  StageProgress: MethodDefinition<_sluice_v1_StageProgressRequest, _sluice_v1_Decision, _sluice_v1_StageProgressRequest__Output, _sluice_v1_Decision__Output>
  StageSubmitted: MethodDefinition<_sluice_v1_StageSubmittedRequest, _sluice_v1_Decision, _sluice_v1_StageSubmittedRequest__Output, _sluice_v1_Decision__Output>
  WatchDecisions: MethodDefinition<_sluice_v1_WatchDecisionsRequest, _sluice_v1_Decision, _sluice_v1_WatchDecisionsRequest__Output, _sluice_v1_Decision__Output>
}
