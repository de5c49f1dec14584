// The HTTP side of security (docs/operations.md#security): endpoints that change state
// (POST: decommission, ...) need `Authorization: Bearer <admin token>` and are refused to a
// browser page of another origin; read-only endpoints need the token only when
// security.protectReadEndpoints is set. /healthz and /readyz always stay open for probes.
import type { IncomingHttpHeaders } from 'node:http';
import type { Config } from '../config/index.js';
import { ConfigError, UnauthenticatedError, UnauthorizedError } from '../errors.js';
import { readSecretFile, sameMac } from './keys.js';

export interface HttpAuth {
  /** The admin token; undefined: none configured. */
  readonly token: Buffer | undefined;
  /** Without a token, whether state-changing endpoints are refused (a cluster secret is set). */
  readonly locked: boolean;
  readonly protectReads: boolean;
}

export function httpAuthFrom(config: Config, clusterSecured: boolean): HttpAuth {
  const path = config['security.adminTokenFile'];
  if (config['security.protectReadEndpoints'] && !path)
    throw new ConfigError(
      'security.protectReadEndpoints',
      'needs security.adminTokenFile: the read endpoints would be protected by nothing',
    );
  return {
    token: path ? readSecretFile(path, 'security.adminTokenFile') : undefined,
    locked: clusterSecured,
    protectReads: config['security.protectReadEndpoints'],
  };
}

/**
 * Throws UnauthenticatedError (401) or UnauthorizedError (403) unless the request may go on.
 * `changesState`: a POST route; `open`: a probe endpoint.
 */
export function checkHttpRequest(
  auth: HttpAuth,
  headers: IncomingHttpHeaders,
  changesState: boolean,
): void {
  if (changesState) {
    // A page of another site may make the operator's browser send a POST (CSRF): refuse any
    // request a browser marks as coming from elsewhere, token or not.
    const origin = headers.origin;
    const site = headers['sec-fetch-site'];
    if (
      site === 'cross-site' ||
      site === 'same-site' ||
      (origin && !sameOrigin(origin, headers.host))
    )
      throw new UnauthorizedError(`cross-origin request from ${origin ?? site} refused`);
    if (!auth.token && auth.locked)
      throw new UnauthorizedError(
        'endpoints that change state are disabled: this cluster has a cluster secret but no security.adminTokenFile',
      );
  } else if (!auth.protectReads) {
    return;
  }
  if (!auth.token) return;
  const sent = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '')?.[1];
  if (sent === undefined)
    throw new UnauthenticatedError('this endpoint needs Authorization: Bearer <admin token>');
  if (!sameMac(Buffer.from(sent, 'utf8'), auth.token))
    throw new UnauthenticatedError('the bearer token is not the admin token');
}

function sameOrigin(origin: string, host: string | undefined): boolean {
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}
