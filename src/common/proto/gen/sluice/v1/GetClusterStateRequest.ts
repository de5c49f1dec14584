// @ts-nocheck
// Original file: proto/sluice/v1/manager.proto


export interface GetClusterStateRequest {
  /**
   * Groups of every shuffle can be large (10 000 partitions = 100 groups each); off by
   * default, the dashboard reads one shuffle's groups from /api/v1/shuffles/{app}/{id}.
   */
  'includeGroups'?: (boolean);
}

export interface GetClusterStateRequest__Output {
  /**
   * Groups of every shuffle can be large (10 000 partitions = 100 groups each); off by
   * default, the dashboard reads one shuffle's groups from /api/v1/shuffles/{app}/{id}.
   */
  'includeGroups': (boolean);
}
