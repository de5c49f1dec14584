// Credentials on gRPC calls (docs/operations.md#security). A caller signs every call: the
// `sluice-auth` metadata entry carries who it is (the cluster, or an app and its key id), the
// time, a random nonce and an HMAC-SHA256 over them and the call's method path, keyed by the
// cluster secret or the app key. No secret crosses the wire, a signature is good for one
// method only, and one older than MAX_CLOCK_SKEW_MS (or that far in the future) is refused.
// Within that window a captured call can be replayed by whoever can see the traffic: TLS
// (tls.*) closes that.
//
//   sluice-auth = "v1" SP kind SP appId SP keyId SP timeMs SP nonce SP mac
//   kind        = "cluster" | "app"          appId, keyId = "-" for the cluster
//   mac         = base64url(HMAC(key, "sluice-call-v1" NUL kind NUL appId NUL keyId NUL path
//                                NUL timeMs NUL nonce))
//
// Servers declare a rule per method (guardService): open, cluster only, or the app the
// request names (the cluster may act for any app). With no cluster secret configured a
// server checks nothing: the cluster is open, and its daemons say so at start.
import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import {
  UnauthenticatedError,
  UnauthorizedError,
  asSluiceError,
  type ErrorCode,
} from '../errors.js';
import { parseAppId, type AppId } from '../ids.js';
import { toGrpcError } from '../proto/rpc.js';
import {
  type AppCredential,
  hmac,
  KEY_ID_LENGTH,
  sameMac,
  type KeyRing,
  type Principal,
} from './keys.js';

export const AUTH_METADATA_KEY = 'sluice-auth';
/** How far a signature's time may be from the server's clock. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

/** Signs one call: the metadata value for `path` ("/sluice.v1.ManagerService/RegisterApp"). */
export type CallSigner = (path: string) => string;

function sign(key: Buffer, kind: string, appId: string, keyId: string, path: string): string {
  const time = String(Date.now());
  const nonce = randomBytes(12).toString('base64url');
  const mac = hmac(key, 'sluice-call-v1', kind, appId, keyId, path, time, nonce);
  return `v1 ${kind} ${appId} ${keyId} ${time} ${nonce} ${mac.toString('base64url')}`;
}

/** A daemon's signer: proves the cluster secret. */
export function clusterSigner(secret: Buffer): CallSigner {
  return (path) => sign(secret, 'cluster', '-', '-', path);
}

/** A driver's or executor's signer: proves the app key. */
export function appSigner(credential: AppCredential): CallSigner {
  const keyId = credential.keyId.toString('hex');
  return (path) => sign(credential.key, 'app', credential.appId, keyId, path);
}

/** Metadata carrying a signature for `path`; empty without a signer (an open cluster). */
export function signedMetadata(signer: CallSigner | undefined, path: string): grpc.Metadata {
  const metadata = new grpc.Metadata();
  if (signer) metadata.set(AUTH_METADATA_KEY, signer(path));
  return metadata;
}

/**
 * Verifies the signature on a call to `path`; throws UnauthenticatedError (never naming the
 * expected MAC) when it is missing, malformed, stale, or does not verify with `keys`.
 */
export function verifyCall(
  keys: KeyRing,
  value: unknown,
  path: string,
  now = Date.now(),
): Principal {
  if (value === undefined)
    throw new UnauthenticatedError(`${path}: no credential; this cluster requires one`);
  const fields = typeof value === 'string' ? value.split(' ') : [];
  const [version, kind, appId, keyId, time, nonce, mac] = fields;
  if (fields.length !== 7 || version !== 'v1' || (kind !== 'cluster' && kind !== 'app'))
    throw new UnauthenticatedError(`${path}: the ${AUTH_METADATA_KEY} credential is malformed`);
  const at = Number(time);
  if (!Number.isSafeInteger(at) || Math.abs(now - at) > MAX_CLOCK_SKEW_MS)
    throw new UnauthenticatedError(
      `${path}: the credential's time is more than ${MAX_CLOCK_SKEW_MS / 60_000} minutes from this server's clock`,
    );
  let key: Buffer | undefined;
  let principal: Principal;
  if (kind === 'cluster') {
    key = keys.clusterSecret;
    principal = { kind: 'cluster' };
  } else {
    let id: AppId;
    try {
      id = parseAppId(appId, 'credential.appId');
    } catch {
      throw new UnauthenticatedError(`${path}: the credential names no valid app`);
    }
    const keyIdBytes = Buffer.from(keyId!, 'hex');
    key = keyIdBytes.length === KEY_ID_LENGTH ? keys.appKey(id, keyIdBytes) : undefined;
    principal = { kind: 'app', appId: id };
  }
  const expected = key && hmac(key, 'sluice-call-v1', kind, appId!, keyId!, path, time!, nonce!);
  if (!expected || !sameMac(expected, Buffer.from(mac!, 'base64url')))
    throw new UnauthenticatedError(
      `${path}: the ${kind} credential does not verify (wrong or rotated secret?)`,
    );
  return principal;
}

/**
 * Who may call a method:
 * - 'open': anyone (a credential that is sent is still verified);
 * - 'cluster': daemons only;
 * - { app }: the app the request names (`app(request)`), or a daemon acting for it.
 */
export type CallRule<Req = never> =
  'open' | 'cluster' | { readonly app: (request: Req) => unknown };

/** Throws UnauthorizedError unless `principal` satisfies `rule` for `request`. */
export function authorize<Req>(
  rule: CallRule<Req>,
  principal: Principal | undefined,
  request: Req,
  what: string,
): void {
  if (rule === 'open' || principal?.kind === 'cluster') return;
  if (rule === 'cluster')
    throw new UnauthorizedError(`${what}: only Sluice daemons (the cluster secret) may call this`);
  const wanted = rule.app(request);
  if (principal?.appId !== wanted)
    throw new UnauthorizedError(
      `${what}: the credential is app ${principal?.appId}'s, the request is for app ${String(wanted)}`,
    );
}

export interface CallGuard {
  /** The server's ring; undefined: an open cluster, nothing is checked. */
  readonly keys: KeyRing | undefined;
  /** Counts a refusal (the auth metric). */
  readonly onRefused: (method: string, code: ErrorCode) => void;
}

const principals = new WeakMap<object, Principal>();

/** The verified caller of a call a guarded handler is serving (undefined: an open call). */
export function principalOf(call: object): Principal | undefined {
  return principals.get(call);
}

type AnyHandler = (
  call: grpc.ServerUnaryCall<unknown, unknown>,
  callback?: grpc.sendUnaryData<unknown>,
) => void;

/**
 * Wraps every handler of a service with its method's rule: a refused call is answered
 * UNAUTHENTICATED or PERMISSION_DENIED (with its SLUICE_ERR_* code) before the handler runs.
 * `rules` must name every method, so a new method cannot be added unguarded.
 */
export function guardService<H extends object>(
  handlers: H,
  rules: { readonly [K in keyof H]: CallRule<never> },
  guard: CallGuard,
): H {
  const keys = guard.keys;
  if (!keys) return handlers;
  const out: Record<string, AnyHandler> = {};
  for (const [method, handler] of Object.entries(handlers) as [string, AnyHandler][]) {
    const rule = (rules as Record<string, CallRule<unknown>>)[method]!;
    out[method] = (call, callback) => {
      const path = call.getPath();
      try {
        const value = call.metadata.get(AUTH_METADATA_KEY)[0];
        const principal =
          rule === 'open' && value === undefined ? undefined : verifyCall(keys, value, path);
        authorize(rule, principal, call.request, path);
        if (principal) principals.set(call, principal);
      } catch (err) {
        const e = asSluiceError(err);
        guard.onRefused(method, e.code);
        const status = toGrpcError(e);
        if (callback) callback(status);
        else call.emit('error', status); // a server-streaming call
        return;
      }
      handler(call, callback);
    };
  }
  return out as H;
}
