// @ts-nocheck
// Original file: proto/sluice/v1/manager.proto


export interface AppHeartbeatResponse {
}

export interface AppHeartbeatResponse__Output {
}
