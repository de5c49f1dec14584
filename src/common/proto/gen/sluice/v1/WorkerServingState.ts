// @ts-nocheck
// Original file: proto/sluice/v1/manager.proto

export const WorkerServingState = {
  WORKER_SERVING_STATE_UNSPECIFIED: 'WORKER_SERVING_STATE_UNSPECIFIED',
  SERVING: 'SERVING',
  /**
   * memory above the pause watermark
   */
  PUSH_PAUSED: 'PUSH_PAUSED',
  /**
   * memory above the full watermark
   */
  FULL: 'FULL',
  /**
   * no new allocations; exits when idle
   */
  DECOMMISSIONING: 'DECOMMISSIONING',
  /**
   * SIGTERM received
   */
  SHUTTING_DOWN: 'SHUTTING_DOWN',
} as const;

export type WorkerServingState =
  | 'WORKER_SERVING_STATE_UNSPECIFIED'
  | 0
  | 'SERVING'
  | 1
  /**
   * memory above the pause watermark
   */
  | 'PUSH_PAUSED'
  | 2
  /**
   * memory above the full watermark
   */
  | 'FULL'
  | 3
  /**
   * no new allocations; exits when idle
   */
  | 'DECOMMISSIONING'
  | 4
  /**
   * SIGTERM received
   */
  | 'SHUTTING_DOWN'
  | 5

export type WorkerServingState__Output = typeof WorkerServingState[keyof typeof WorkerServingState]
