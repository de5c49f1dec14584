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
}

export interface RegisterAppRequest__Output {
  'appId': (string);
  /**
   * 1 (highest) .. 5; 0 means the default (3)
   */
  'priority': (number);
  'name': (string);
  'user': (string);
}
