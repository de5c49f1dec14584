// A throwaway PKI for tests and benchmarks of TLS (docs/operations.md#tls), made with the
// `openssl` command: a CA, a daemon certificate for 127.0.0.1 and localhost (server and client
// use, as daemons use theirs both ways), a client certificate, and a "rogue" certificate from
// another CA that no Sluice daemon trusts. Keys are P-256, valid for one day.
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CertPair {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: Buffer;
  readonly key: Buffer;
}

export interface TestPki {
  readonly caFile: string;
  readonly ca: Buffer;
  readonly daemon: CertPair;
  readonly client: CertPair;
  readonly rogue: CertPair;
}

/** A new P-256 key, unencrypted, for `openssl req`. */
const NEW_P256_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });

function makeCa(dir: string, name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  openssl([
    'req',
    '-x509',
    ...NEW_P256_KEY,
    '-keyout',
    key,
    '-out',
    cert,
    '-days',
    '1',
    '-subj',
    `/CN=${name}`,
  ]);
  return { cert, key };
}

function issue(dir: string, name: string, ca: { cert: string; key: string }): CertPair {
  const keyFile = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const certFile = join(dir, `${name}.crt`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(
    ext,
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n',
  );
  openssl([
    'req',
    '-new',
    ...NEW_P256_KEY,
    '-keyout',
    keyFile,
    '-out',
    csr,
    '-subj',
    `/CN=${name}`,
  ]);
  openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    ext,
    '-out',
    certFile,
  ]);
  chmodSync(keyFile, 0o600);
  return { certFile, keyFile, cert: readFileSync(certFile), key: readFileSync(keyFile) };
}

/** Writes the PKI into `dir` (which the caller removes). */
export function makeTestPki(dir: string): TestPki {
  const ca = makeCa(dir, 'sluice-test-ca');
  const other = makeCa(dir, 'rogue-ca');
  return {
    caFile: ca.cert,
    ca: readFileSync(ca.cert),
    daemon: issue(dir, 'daemon', ca),
    client: issue(dir, 'client', ca),
    rogue: issue(dir, 'rogue', other),
  };
}
