// @ts-nocheck
// Original file: proto/sluice/v1/manager.proto


export interface GetClusterStateRequest {
  /**
   * Groups of every shuffle can be large (10 000 partitions = 100 groups each); off by
   * default, the dashboard reads one shuffle's groups from /api/v1/shuffles/{app}/{id}.
   */
  'includeGroups'?: (boolean);
  /**
   * Entries (workers, then apps, then shuffles) per page: 0, or more than the manager's
   * manager.maxClusterStatePageSize, means that maximum. With include_groups a shuffle counts
   * as many entries as it has groups. A page always holds at least one entry.
   */
  'pageSize'?: (number);
  /**
   * next_page_token of the previous page; empty for the first page.
   */
  'pageToken'?: (string);
}

export interface GetClusterStateRequest__Output {
  /**
   * Groups of every shuffle can be large (10 000 partitions = 100 groups each); off by
   * default, the dashboard reads one shuffle's groups from /api/v1/shuffles/{app}/{id}.
   */
  'includeGroups': (boolean);
  /**
   * Entries (workers, then apps, then shuffles) per page: 0, or more than the manager's
   * manager.maxClusterStatePageSize, means that maximum. With include_groups a shuffle counts
   * as many entries as it has groups. A page always holds at least one entry.
   */
  'pageSize': (number);
  /**
   * next_page_token of the previous page; empty for the first page.
   */
  'pageToken': (string);
}
