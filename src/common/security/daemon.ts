// What every daemon (manager, worker, ESS, agent) sets up for security from its configuration
// (docs/operations.md#security): the cluster keys and the signer its own calls carry, the HTTP
// admin token, and the refusal counter. Without a cluster secret the daemon warns, once at
// start, that the cluster is open.
import type * as grpc from '@grpc/grpc-js';
import { Counter, type Registry } from 'prom-client';
import type { Config } from '../config/index.js';
import type { Logger } from '../obs/logger.js';
import { clusterSigner, type CallGuard, type CallSigner } from './call-auth.js';
import { httpAuthFrom, type HttpAuth } from './http-auth.js';
import { clusterKeysFrom, type ClusterKeys } from './keys.js';
import {
  daemonTlsFrom,
  grpcChannelCredentials,
  grpcServerCredentials,
  type DaemonTls,
} from './tls.js';

export type RefusalInterface = 'grpc' | 'data' | 'http';

export interface DaemonSecurity {
  /** The cluster keys; undefined: an open cluster. */
  readonly keys: ClusterKeys | undefined;
  /** Signs this daemon's own gRPC calls with the cluster secret. */
  readonly signer: CallSigner | undefined;
  readonly http: HttpAuth;
  /** Counts a refused request or connection. */
  refused(iface: RefusalInterface, code: string): void;
  /** The guard of this daemon's gRPC services. */
  readonly guard: CallGuard;
  /** TLS (tls.*); undefined: plain TCP. */
  readonly tls: DaemonTls | undefined;
  /** Credentials of this daemon's gRPC servers and of its channels to other daemons. */
  readonly serverCredentials: () => grpc.ServerCredentials;
  readonly channelCredentials: () => grpc.ChannelCredentials;
}

/**
 * Reads `security.*` and registers `<prefix>_auth_refusals_total` in `registry`. Throws a
 * ConfigError for an unreadable, too short or world-readable secret file.
 */
export function daemonSecurity(
  config: Config,
  registry: Registry,
  prefix: string,
  logger: Logger,
): DaemonSecurity {
  const keys = clusterKeysFrom(config['security.clusterSecretFile'], 'security.clusterSecretFile');
  const http = httpAuthFrom(config, keys !== undefined);
  const tls = daemonTlsFrom(config);
  const counter = new Counter({
    name: `${prefix}_auth_refusals_total`,
    help: 'Requests and connections refused for their credential (code SLUICE_ERR_UNAUTHENTICATED: none or one that does not verify; SLUICE_ERR_UNAUTHORIZED: not allowed), by interface (grpc, data, http).',
    labelNames: ['interface', 'code'],
    registers: [registry],
  });
  if (!keys)
    logger.warn(
      'no cluster secret (security.clusterSecretFile): the cluster is open, anyone who reaches its ports can read, write and delete shuffle data (docs/operations.md#security)',
    );
  const refused = (iface: RefusalInterface, code: string) =>
    counter.inc({ interface: iface, code });
  return {
    keys,
    signer: keys && clusterSigner(keys.clusterSecret),
    http,
    refused,
    guard: { keys, onRefused: (_method, code) => refused('grpc', code) },
    tls,
    serverCredentials: () => grpcServerCredentials(tls),
    channelCredentials: () => grpcChannelCredentials(tls),
  };
}
