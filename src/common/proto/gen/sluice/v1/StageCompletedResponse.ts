// @ts-nocheck
// Original file: proto/sluice/v1/agent.proto


export interface StageCompletedResponse {
}

export interface StageCompletedResponse__Output {
}
