// TLS for the gRPC services and the framed data plane (docs/operations.md#tls). Daemons take
// PEM files from tls.certFile / tls.keyFile / tls.caFile; the client library takes PEM contents
// (`tls: { ca, cert, key }`), as Node's tls module does. A daemon's certificate serves its
// ports and is also its client certificate towards other daemons (mutual TLS when
// tls.requireClientCert is on). Peers are verified against `ca` (else the system's CAs) and
// the name or IP address they were dialled by.
import { readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import type { ConnectionOptions, TlsOptions } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import type { Config } from '../config/index.js';
import { ConfigError, InvalidArgumentError } from '../errors.js';

/** PEM material as the client library takes it (contents, not paths). */
export interface ClientTls {
  /** CA certificates the servers' certificates must chain to; absent: the system's. */
  readonly ca?: string | Buffer;
  /** A client certificate and its key, for clusters that require one (mutual TLS). */
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
}

/** A daemon's TLS: its certificate serves and, towards other daemons, identifies it. */
export interface DaemonTls extends ClientTls {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** Servers ask for and verify a client certificate (mutual TLS). */
  readonly requireClientCert: boolean;
}

const buf = (v: string | Buffer | undefined) =>
  v === undefined ? undefined : Buffer.isBuffer(v) ? v : Buffer.from(v);

function readPem(config: Config, key: 'tls.certFile' | 'tls.keyFile' | 'tls.caFile'): Buffer {
  const path = config[key];
  let pem: Buffer;
  let mode: number;
  try {
    pem = readFileSync(path);
    mode = statSync(path).mode;
  } catch (err) {
    throw new ConfigError(key, `cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  // A private key others can read is no key (certificates are public).
  if (key === 'tls.keyFile' && (mode & 0o077) !== 0)
    throw new ConfigError(
      key,
      `${path} is readable by group or others (mode ${(mode & 0o777).toString(8)}); run chmod 600 ${path}`,
    );
  return pem;
}

/** The daemon's TLS from tls.*; undefined without tls.certFile (plain TCP). */
export function daemonTlsFrom(config: Config): DaemonTls | undefined {
  const cert = config['tls.certFile'];
  const key = config['tls.keyFile'];
  if (!cert && !key) {
    if (config['tls.requireClientCert'])
      throw new ConfigError('tls.requireClientCert', 'needs tls.certFile and tls.keyFile');
    return undefined;
  }
  if (!cert || !key)
    throw new ConfigError(
      cert ? 'tls.keyFile' : 'tls.certFile',
      'tls.certFile and tls.keyFile go together',
    );
  const requireClientCert = config['tls.requireClientCert'];
  if (requireClientCert && !config['tls.caFile'])
    throw new ConfigError('tls.caFile', 'tls.requireClientCert needs the CA that signs clients');
  return {
    cert: readPem(config, 'tls.certFile'),
    key: readPem(config, 'tls.keyFile'),
    ca: config['tls.caFile'] ? readPem(config, 'tls.caFile') : undefined,
    requireClientCert,
  };
}

/** A gRPC server's credentials: TLS with a certificate and key, plain without. */
export function grpcServerCredentials(
  tls: (ClientTls & { readonly requireClientCert?: boolean }) | undefined,
): grpc.ServerCredentials {
  if (!tls?.cert || !tls.key) return grpc.ServerCredentials.createInsecure();
  return grpc.ServerCredentials.createSsl(
    buf(tls.ca) ?? null,
    [{ cert_chain: buf(tls.cert)!, private_key: buf(tls.key)! }],
    tls.requireClientCert ?? false,
  );
}

/** A gRPC channel's credentials: TLS with `tls` (a client certificate when it has one). */
export function grpcChannelCredentials(tls: ClientTls | undefined): grpc.ChannelCredentials {
  if (!tls) return grpc.credentials.createInsecure();
  if ((tls.cert === undefined) !== (tls.key === undefined))
    throw new InvalidArgumentError('tls', 'cert and key go together');
  return grpc.credentials.createSsl(
    buf(tls.ca) ?? null,
    buf(tls.key) ?? null,
    buf(tls.cert) ?? null,
  );
}

/** Options of a framed data server under TLS. */
export function tlsServerOptions(tls: DaemonTls): TlsOptions {
  return {
    cert: tls.cert,
    key: tls.key,
    ca: tls.ca,
    requestCert: tls.requireClientCert,
    rejectUnauthorized: tls.requireClientCert,
  };
}

/** Options of a data connection to `host` under TLS. */
export function tlsConnectOptions(tls: ClientTls, host: string): ConnectionOptions {
  if ((tls.cert === undefined) !== (tls.key === undefined))
    throw new InvalidArgumentError('tls', 'cert and key go together');
  return {
    ca: tls.ca,
    cert: tls.cert,
    key: tls.key,
    // SNI takes a name, never an address; the certificate is checked against `host` either way.
    servername: isIP(host) ? undefined : host,
  };
}
