// @ts-nocheck
// Original file: proto/sluice/v1/agent.proto


export interface ExecutorEventResponse {
}

export interface ExecutorEventResponse__Output {
}
