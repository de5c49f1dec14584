// TLS settings of a daemon (docs/operations.md#tls): incomplete or unsafe settings are refused at
// start, naming the key.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/index.js';
import { daemonTlsFrom } from './tls.js';

describe('daemonTlsFrom', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-tls-conf-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const conf = (o: Record<string, unknown>) => loadConfig({ overrides: o });

  it('is off without files, and refuses half a configuration', () => {
    expect(daemonTlsFrom(conf({}))).toBeUndefined();
    expect(() => daemonTlsFrom(conf({ 'tls.certFile': join(dir, 'c') }))).toThrow(/tls.keyFile/);
    expect(() => daemonTlsFrom(conf({ 'tls.requireClientCert': true }))).toThrow(
      /tls.requireClientCert: needs tls.certFile/,
    );
  });

  it('refuses a key file others can read, and mutual TLS without a CA', () => {
    const cert = join(dir, 'c.pem');
    const key = join(dir, 'k.pem');
    writeFileSync(cert, 'CERT');
    writeFileSync(key, 'KEY');
    chmodSync(key, 0o644);
    expect(() => daemonTlsFrom(conf({ 'tls.certFile': cert, 'tls.keyFile': key }))).toThrow(
      /tls.keyFile: .* readable by group or others \(mode 644\)/,
    );
    chmodSync(key, 0o600);
    expect(daemonTlsFrom(conf({ 'tls.certFile': cert, 'tls.keyFile': key }))?.key.toString()).toBe(
      'KEY',
    );
    expect(() =>
      daemonTlsFrom(
        conf({ 'tls.certFile': cert, 'tls.keyFile': key, 'tls.requireClientCert': true }),
      ),
    ).toThrow(/tls.caFile: tls.requireClientCert needs the CA/);
  });
});
