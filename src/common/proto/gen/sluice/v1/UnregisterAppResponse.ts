// @ts-nocheck
// Original file: proto/sluice/v1/manager.proto


export interface UnregisterAppResponse {
}

export interface UnregisterAppResponse__Output {
}
