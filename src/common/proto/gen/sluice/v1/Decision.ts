// @ts-nocheck
// Original file: proto/sluice/v1/agent.proto


export interface Decision {
  'appId'?: (string);
  'stageId'?: (number);
  'targetExecutors'?: (number);
  'drainExecutors'?: (string)[];
  /**
   * initial | search | guard | rolling | scale-down
   */
  'reason'?: (string);
  /**
   * the shuffle-capacity guard held scale-up back
   */
  'guarded'?: (boolean);
}

export interface Decision__Output {
  'appId': (string);
  'stageId': (number);
  'targetExecutors': (number);
  'drainExecutors': (string)[];
  /**
   * initial | search | guard | rolling | scale-down
   */
  'reason': (string);
  /**
   * the shuffle-capacity guard held scale-up back
   */
  'guarded': (boolean);
}
