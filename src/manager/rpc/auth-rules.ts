// Who may call each ManagerService method when the cluster runs with a cluster secret
// (docs/operations.md#security): workers' calls need the cluster secret, an app's calls its own
// credential (or a daemon's), and RegisterApp is open: it is how a driver gets its credential.
// Registering an app id that is already live needs that app's credential (manager-service.ts).
import type { CallRule } from '../../common/security/call-auth.js';
import type { ManagerServiceHandlers } from '../../common/proto/gen/sluice/v1/ManagerService.js';

const ownApp = { app: (r: { appId: string }) => r.appId };

export const MANAGER_RULES = {
  RegisterWorker: 'cluster',
  WorkerHeartbeat: 'cluster',
  RegisterApp: 'open',
  AppHeartbeat: ownApp,
  UnregisterApp: ownApp,
  AllocateShuffle: ownApp,
  ReallocateGroup: ownApp,
  ReleaseShuffle: ownApp,
  GetShuffle: ownApp,
  // Every worker, app and shuffle of the cluster: daemons (the agent, workers) and operators.
  GetClusterState: 'cluster',
} satisfies Record<keyof ManagerServiceHandlers, CallRule<{ appId: string }>>;
