// @ts-nocheck
// Original file: proto/sluice/v1/manager.proto


export interface ReleaseShuffleResponse {
}

export interface ReleaseShuffleResponse__Output {
}
