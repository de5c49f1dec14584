// @ts-nocheck
// Original file: proto/sluice/v1/manager.proto


export interface RegisterAppRequest {
  'appId'?: (string);
  /**
   * 1 (highest) .. 5; 0 means the default (3)
   */
  'priority'?: (number);
  'name'?: (string);
  'user'?: (string);
  /**
   * A random token the driver picks once and sends with every attempt: in a cluster with a
   * cluster secret, a retry of a registration whose answer was lost carries the same token
   * and gets a credential; anyone else registering a live app id needs its credential.
   */
  'registration'?: (string);
}

export interface RegisterAppRequest__Output {
  'appId': (string);
  /**
   * 1 (highest) .. 5; 0 means the default (3)
   */
  'priority': (number);
  'name': (string);
  'user': (string);
  /**
   * A random token the driver picks once and sends with every attempt: in a cluster with a
   * cluster secret, a retry of a registration whose answer was lost carries the same token
   * and gets a credential; anyone else registering a live app id needs its credential.
   */
  'registration': (string);
}
