// The whole cluster state, read page by page (GetClusterState is paginated: at most
// manager.maxClusterStatePageSize entries per answer, proto/sluice/v1/manager.proto). The one
// helper for callers that need every worker, app and shuffle: the agent's guard, the workers'
// priority lookups, test harnesses. The pages are not one snapshot: an entry changed between
// two calls shows as it was when its page was read, and one added behind the cursor is missed.
import { SluiceError } from '../errors.js';
import type { GetClusterStateResponse__Output } from './gen/sluice/v1/GetClusterStateResponse.js';
import type { ManagerCallOptions, ManagerClient } from './manager-client.js';

export interface ReadClusterStateOptions extends ManagerCallOptions {
  readonly includeGroups?: boolean;
  /** Entries per page; 0 (default) means the manager's maximum. */
  readonly pageSize?: number;
}

export async function readClusterState(
  client: Pick<ManagerClient, 'getClusterState'>,
  options: ReadClusterStateOptions = {},
): Promise<GetClusterStateResponse__Output> {
  const { includeGroups = false, pageSize = 0, ...call } = options;
  const all: GetClusterStateResponse__Output = {
    workers: [],
    apps: [],
    shuffles: [],
    nextPageToken: '',
  };
  let pageToken = '';
  for (;;) {
    const page = await client.getClusterState({ includeGroups, pageSize, pageToken }, call);
    // One entry at a time, never push(...list): a page may hold many thousands.
    for (const w of page.workers) all.workers.push(w);
    for (const a of page.apps) all.apps.push(a);
    for (const s of page.shuffles) all.shuffles.push(s);
    if (page.nextPageToken === '') return all;
    if (page.nextPageToken === pageToken)
      throw new SluiceError(
        'SLUICE_ERR_INTERNAL',
        `GetClusterState answered the page token ${JSON.stringify(pageToken)} again`,
      );
    pageToken = page.nextPageToken;
  }
}
