// Where a daemon listens versus the name others reach it by (docs/operations.md#host-identity).
// A daemon may listen on every interface (0.0.0.0 or ::) or on one private address, and
// advertise its routable name; its HTTP port may listen elsewhere (e.g. on 127.0.0.1 only).
import { hostname } from 'node:os';
import type { Config } from '../config/index.js';

/** Whether `host` is a wildcard address: listening there covers every interface. */
export function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::';
}

/** The name to hand out for a daemon listening on `bind`: `advertise`, else `bind` unless wildcard. */
export function advertisedHost(bind: string, advertise: string): string {
  return advertise || (isWildcard(bind) ? hostname() : bind);
}

export interface WorkerHostIdentity {
  /** Data and control ports listen here. */
  readonly bind: string;
  /** HTTP port listens here. */
  readonly httpBind: string;
  /** Registered with the manager; drivers and executors connect to it. */
  readonly advertise: string;
}

/** worker.bind / advertise / httpBind; worker.host is the default bind address. */
export function workerHostIdentity(c: Config): WorkerHostIdentity {
  const bind = c['worker.bind'] || c['worker.host'];
  return {
    bind,
    httpBind: c['worker.httpBind'] || bind,
    advertise: advertisedHost(bind, c['worker.advertise']),
  };
}
