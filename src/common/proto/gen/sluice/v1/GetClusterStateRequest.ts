// @ts-nocheck
// Original file: proto/sluice/v1/manager.proto


export interface GetClusterStateRequest {
}

export interface GetClusterStateRequest__Output {
}
