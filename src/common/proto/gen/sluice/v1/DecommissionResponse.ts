// @ts-nocheck
// Original file: proto/sluice/v1/worker.proto


export interface DecommissionResponse {
}

export interface DecommissionResponse__Output {
}
