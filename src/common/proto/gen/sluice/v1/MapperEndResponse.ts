// @ts-nocheck
// Original file: proto/sluice/v1/driver.proto


export interface MapperEndResponse {
  /**
   * False when another attempt of the same mapId already won.
   */
  'winner'?: (boolean);
  'winningAttemptId'?: (number);
}

export interface MapperEndResponse__Output {
  /**
   * False when another attempt of the same mapId already won.
   */
  'winner': (boolean);
  'winningAttemptId': (number);
}
