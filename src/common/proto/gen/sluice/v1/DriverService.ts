// @ts-nocheck
// Original file: proto/sluice/v1/driver.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { GetFileGroupsRequest as _sluice_v1_GetFileGroupsRequest, GetFileGroupsRequest__Output as _sluice_v1_GetFileGroupsRequest__Output } from '../../sluice/v1/GetFileGroupsRequest.js';
import type { GetFileGroupsResponse as _sluice_v1_GetFileGroupsResponse, GetFileGroupsResponse__Output as _sluice_v1_GetFileGroupsResponse__Output } from '../../sluice/v1/GetFileGroupsResponse.js';
import type { GetShuffleGroupsRequest as _sluice_v1_GetShuffleGroupsRequest, GetShuffleGroupsRequest__Output as _sluice_v1_GetShuffleGroupsRequest__Output } from '../../sluice/v1/GetShuffleGroupsRequest.js';
import type { GetShuffleGroupsResponse as _sluice_v1_GetShuffleGroupsResponse, GetShuffleGroupsResponse__Output as _sluice_v1_GetShuffleGroupsResponse__Output } from '../../sluice/v1/GetShuffleGroupsResponse.js';
import type { MapperEndRequest as _sluice_v1_MapperEndRequest, MapperEndRequest__Output as _sluice_v1_MapperEndRequest__Output } from '../../sluice/v1/MapperEndRequest.js';
import type { MapperEndResponse as _sluice_v1_MapperEndResponse, MapperEndResponse__Output as _sluice_v1_MapperEndResponse__Output } from '../../sluice/v1/MapperEndResponse.js';
import type { ReallocateRequest as _sluice_v1_ReallocateRequest, ReallocateRequest__Output as _sluice_v1_ReallocateRequest__Output } from '../../sluice/v1/ReallocateRequest.js';
import type { ReallocateResponse as _sluice_v1_ReallocateResponse, ReallocateResponse__Output as _sluice_v1_ReallocateResponse__Output } from '../../sluice/v1/ReallocateResponse.js';

export interface DriverServiceClient extends grpc.Client {
  /**
   * Where a partition's committed files are, per epoch (waits for the commit).
   */
  GetFileGroups(argument: _sluice_v1_GetFileGroupsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_GetFileGroupsResponse__Output>): grpc.ClientUnaryCall;
  GetFileGroups(argument: _sluice_v1_GetFileGroupsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_GetFileGroupsResponse__Output>): grpc.ClientUnaryCall;
  GetFileGroups(argument: _sluice_v1_GetFileGroupsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_GetFileGroupsResponse__Output>): grpc.ClientUnaryCall;
  GetFileGroups(argument: _sluice_v1_GetFileGroupsRequest, callback: grpc.requestCallback<_sluice_v1_GetFileGroupsResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Where a partition's committed files are, per epoch (waits for the commit).
   */
  getFileGroups(argument: _sluice_v1_GetFileGroupsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_GetFileGroupsResponse__Output>): grpc.ClientUnaryCall;
  getFileGroups(argument: _sluice_v1_GetFileGroupsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_GetFileGroupsResponse__Output>): grpc.ClientUnaryCall;
  getFileGroups(argument: _sluice_v1_GetFileGroupsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_GetFileGroupsResponse__Output>): grpc.ClientUnaryCall;
  getFileGroups(argument: _sluice_v1_GetFileGroupsRequest, callback: grpc.requestCallback<_sluice_v1_GetFileGroupsResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * The shuffle's partition groups with their current epochs (writers ask once per shuffle).
   */
  GetShuffleGroups(argument: _sluice_v1_GetShuffleGroupsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_GetShuffleGroupsResponse__Output>): grpc.ClientUnaryCall;
  GetShuffleGroups(argument: _sluice_v1_GetShuffleGroupsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_GetShuffleGroupsResponse__Output>): grpc.ClientUnaryCall;
  GetShuffleGroups(argument: _sluice_v1_GetShuffleGroupsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_GetShuffleGroupsResponse__Output>): grpc.ClientUnaryCall;
  GetShuffleGroups(argument: _sluice_v1_GetShuffleGroupsRequest, callback: grpc.requestCallback<_sluice_v1_GetShuffleGroupsResponse__Output>): grpc.ClientUnaryCall;
  /**
   * The shuffle's partition groups with their current epochs (writers ask once per shuffle).
   */
  getShuffleGroups(argument: _sluice_v1_GetShuffleGroupsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_GetShuffleGroupsResponse__Output>): grpc.ClientUnaryCall;
  getShuffleGroups(argument: _sluice_v1_GetShuffleGroupsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_GetShuffleGroupsResponse__Output>): grpc.ClientUnaryCall;
  getShuffleGroups(argument: _sluice_v1_GetShuffleGroupsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_GetShuffleGroupsResponse__Output>): grpc.ClientUnaryCall;
  getShuffleGroups(argument: _sluice_v1_GetShuffleGroupsRequest, callback: grpc.requestCallback<_sluice_v1_GetShuffleGroupsResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * A map attempt finished pushing. The first attempt of a mapId to report wins.
   */
  MapperEnd(argument: _sluice_v1_MapperEndRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_MapperEndResponse__Output>): grpc.ClientUnaryCall;
  MapperEnd(argument: _sluice_v1_MapperEndRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_MapperEndResponse__Output>): grpc.ClientUnaryCall;
  MapperEnd(argument: _sluice_v1_MapperEndRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_MapperEndResponse__Output>): grpc.ClientUnaryCall;
  MapperEnd(argument: _sluice_v1_MapperEndRequest, callback: grpc.requestCallback<_sluice_v1_MapperEndResponse__Output>): grpc.ClientUnaryCall;
  /**
   * A map attempt finished pushing. The first attempt of a mapId to report wins.
   */
  mapperEnd(argument: _sluice_v1_MapperEndRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_MapperEndResponse__Output>): grpc.ClientUnaryCall;
  mapperEnd(argument: _sluice_v1_MapperEndRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_MapperEndResponse__Output>): grpc.ClientUnaryCall;
  mapperEnd(argument: _sluice_v1_MapperEndRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_MapperEndResponse__Output>): grpc.ClientUnaryCall;
  mapperEnd(argument: _sluice_v1_MapperEndRequest, callback: grpc.requestCallback<_sluice_v1_MapperEndResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * A push failed: move the group to a new worker pair (the manager bumps the epoch).
   */
  Reallocate(argument: _sluice_v1_ReallocateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_ReallocateResponse__Output>): grpc.ClientUnaryCall;
  Reallocate(argument: _sluice_v1_ReallocateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_ReallocateResponse__Output>): grpc.ClientUnaryCall;
  Reallocate(argument: _sluice_v1_ReallocateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_ReallocateResponse__Output>): grpc.ClientUnaryCall;
  Reallocate(argument: _sluice_v1_ReallocateRequest, callback: grpc.requestCallback<_sluice_v1_ReallocateResponse__Output>): grpc.ClientUnaryCall;
  /**
   * A push failed: move the group to a new worker pair (the manager bumps the epoch).
   */
  reallocate(argument: _sluice_v1_ReallocateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_ReallocateResponse__Output>): grpc.ClientUnaryCall;
  reallocate(argument: _sluice_v1_ReallocateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_ReallocateResponse__Output>): grpc.ClientUnaryCall;
  reallocate(argument: _sluice_v1_ReallocateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_ReallocateResponse__Output>): grpc.ClientUnaryCall;
  reallocate(argument: _sluice_v1_ReallocateRequest, callback: grpc.requestCallback<_sluice_v1_ReallocateResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface DriverServiceHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Where a partition's committed files are, per epoch (waits for the commit).
   */
  GetFileGroups: grpc.handleUnaryCall<_sluice_v1_GetFileGroupsRequest__Output, _sluice_v1_GetFileGroupsResponse>;
  
  /**
   * The shuffle's partition groups with their current epochs (writers ask once per shuffle).
   */
  GetShuffleGroups: grpc.handleUnaryCall<_sluice_v1_GetShuffleGroupsRequest__Output, _sluice_v1_GetShuffleGroupsResponse>;
  
  /**
   * A map attempt finished pushing. The first attempt of a mapId to report wins.
   */
  MapperEnd: grpc.handleUnaryCall<_sluice_v1_MapperEndRequest__Output, _sluice_v1_MapperEndResponse>;
  
  /**
   * A push failed: move the group to a new worker pair (the manager bumps the epoch).
   */
  Reallocate: grpc.handleUnaryCall<_sluice_v1_ReallocateRequest__Output, _sluice_v1_ReallocateResponse>;
  
}

export interface DriverServiceDefinition extends grpc.ServiceDefinition {
  GetFileGroups: MethodDefinition<_sluice_v1_GetFileGroupsRequest, _sluice_v1_GetFileGroupsResponse, _sluice_v1_GetFileGroupsRequest__Output, _sluice_v1_GetFileGroupsResponse__Output>
  GetShuffleGroups: MethodDefinition<_sluice_v1_GetShuffleGroupsRequest, _sluice_v1_GetShuffleGroupsResponse, _sluice_v1_GetShuffleGroupsRequest__Output, _sluice_v1_GetShuffleGroupsResponse__Output>
  MapperEnd: MethodDefinition<_sluice_v1_MapperEndRequest, _sluice_v1_MapperEndResponse, _sluice_v1_MapperEndRequest__Output, _sluice_v1_MapperEndResponse__Output>
  Reallocate: MethodDefinition<_sluice_v1_ReallocateRequest, _sluice_v1_ReallocateResponse, _sluice_v1_ReallocateRequest__Output, _sluice_v1_ReallocateResponse__Output>
}
