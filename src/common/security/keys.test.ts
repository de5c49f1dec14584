// Secrets and app credentials (docs/operations.md#security): secret files are refused when
// short or readable by others, credentials round-trip as opaque strings, app keys derive from
// the cluster secret and nothing else.
import { chmodSync, mkdtempSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppId } from '../ids.js';
import {
  AppCredential,
  ClusterKeys,
  SingleAppKeys,
  createSecretFile,
  readSecretFile,
} from './keys.js';

const SECRET = Buffer.alloc(32, 7);
const APP = 'app.with.dots-1' as AppId;

describe('secret files', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-keys-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates a 0600 file once and reads it back trimmed', () => {
    const path = join(dir, 'cluster.secret');
    expect(createSecretFile(path)).toBe(true);
    expect(createSecretFile(path)).toBe(false); // kept: an existing secret is never replaced
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const secret = readSecretFile(path, 'security.clusterSecretFile');
    expect(secret.toString()).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses a file others can read, a short one and a missing one, naming the key', () => {
    const open = join(dir, 'open');
    writeFileSync(open, 'x'.repeat(40));
    chmodSync(open, 0o644);
    expect(() => readSecretFile(open, 'security.clusterSecretFile')).toThrow(
      /security.clusterSecretFile: .* readable by group or others \(mode 644\); run chmod 600/,
    );
    const short = join(dir, 'short');
    writeFileSync(short, 'too-short\n', { mode: 0o600 });
    expect(() => readSecretFile(short, 'k')).toThrow(/holds 9 bytes; a secret needs at least 32/);
    expect(() => readSecretFile(join(dir, 'none'), 'k')).toThrow(/k: cannot read/);
  });
});

describe('app credentials', () => {
  it('round-trip as an opaque string and verify against the cluster keys', () => {
    const cluster = new ClusterKeys(SECRET);
    const cred = cluster.mint(APP);
    const parsed = AppCredential.parse(cred.toString());
    expect(parsed.appId).toBe(APP);
    expect(parsed.key.equals(cred.key)).toBe(true);
    expect(cluster.appKey(APP, parsed.keyId).equals(cred.key)).toBe(true);
    // Another registration of the same app gets another key; another cluster derives another.
    expect(cluster.mint(APP).key.equals(cred.key)).toBe(false);
    expect(new ClusterKeys(Buffer.alloc(32, 8)).appKey(APP, cred.keyId).equals(cred.key)).toBe(
      false,
    );
  });

  it('a driver ring knows its own key only', () => {
    const cred = new ClusterKeys(SECRET).mint(APP);
    const ring = new SingleAppKeys(cred);
    expect(ring.appKey(APP, cred.keyId)?.equals(cred.key)).toBe(true);
    expect(ring.appKey('other' as AppId, cred.keyId)).toBeUndefined();
    expect(ring.appKey(APP, Buffer.alloc(16))).toBeUndefined();
    expect(ring.clusterSecret).toBeUndefined();
  });

  it('refuses malformed credentials without echoing them', () => {
    const good = new ClusterKeys(SECRET).mint(APP).toString();
    for (const bad of ['', 'nonsense', good.replace('sluice-app1', 'x'), `${good}AA`, 42]) {
      let message = '';
      try {
        AppCredential.parse(bad, 'credential');
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(/^credential: /);
      expect(message).not.toContain(good.split('.').at(-1));
    }
    expect(() => new ClusterKeys(Buffer.alloc(8))).toThrow(/at least 32 bytes/);
  });
});
