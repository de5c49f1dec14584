// @ts-nocheck
// Original file: proto/sluice/v1/driver.proto


export interface WinningAttempt {
  'mapId'?: (number);
  'attemptId'?: (number);
}

export interface WinningAttempt__Output {
  'mapId': (number);
  'attemptId': (number);
}
