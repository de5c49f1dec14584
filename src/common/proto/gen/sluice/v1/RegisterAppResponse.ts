// @ts-nocheck
// Original file: proto/sluice/v1/manager.proto


export interface RegisterAppResponse {
  'heartbeatIntervalMs'?: (number);
  'appExpiryMs'?: (number);
  /**
   * The app's credential when the cluster runs with a cluster secret, else empty. The driver
   * signs its calls with it and hands it to its executors (ShuffleHandle.credential).
   */
  'credential'?: (string);
}

export interface RegisterAppResponse__Output {
  'heartbeatIntervalMs': (number);
  'appExpiryMs': (number);
  /**
   * The app's credential when the cluster runs with a cluster secret, else empty. The driver
   * signs its calls with it and hands it to its executors (ShuffleHandle.credential).
   */
  'credential': (string);
}
