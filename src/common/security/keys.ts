// Secrets and keys (docs/operations.md#security).
//
// - The cluster secret: at least 32 bytes, read from a file only its owner can read, shared by
//   the manager(s), workers, ESS daemons and the agent. Daemon-to-daemon calls prove it.
// - An app key: minted by the manager when a driver registers its app and handed to that
//   driver only, as an opaque credential string; the driver passes it to its executors inside
//   the shuffle handle. The key is HMAC-SHA256(cluster secret, appId, keyId) with a fresh random
//   128-bit keyId per registration, the scheme Hadoop uses for its delegation and block tokens:
//   every daemon that holds the cluster secret can check an app's proof without asking the
//   manager, and without the cluster secret a key is as unguessable as 256 random bits. Keys
//   are not revoked one by one: an ended app's id cannot be registered again (its tombstone),
//   and rotating the cluster secret invalidates every key.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, closeSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { ConfigError, InvalidArgumentError } from '../errors.js';
import { parseAppId, type AppId } from '../ids.js';

/** The shortest cluster secret accepted. */
export const MIN_SECRET_BYTES = 32;
const KEY_ID_BYTES = 16;
const KEY_BYTES = 32;
const CREDENTIAL_PREFIX = 'sluice-app1';

/** Who a verified request comes from. */
export type Principal =
  { readonly kind: 'cluster' } | { readonly kind: 'app'; readonly appId: AppId };

/** HMAC-SHA256 of `parts` joined by NUL bytes (no part can spill into the next). */
export function hmac(key: Buffer, ...parts: (string | Buffer)[]): Buffer {
  const h = createHmac('sha256', key);
  parts.forEach((p, i) => {
    if (i > 0) h.update('\0');
    h.update(p);
  });
  return h.digest();
}

/** Constant-time equality of two MACs (false for different lengths). */
export function sameMac(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Reads a secret file: its content without surrounding whitespace, at least 32 bytes. The file
 * must not be readable by group or others (like ssh keys): a secret everyone on the host can
 * read protects nothing.
 */
export function readSecretFile(path: string, key: string): Buffer {
  let mode: number;
  let text: string;
  try {
    mode = statSync(path).mode;
    text = readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new ConfigError(key, `cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  if ((mode & 0o077) !== 0)
    throw new ConfigError(
      key,
      `${path} is readable by group or others (mode ${(mode & 0o777).toString(8)}); run chmod 600 ${path}`,
    );
  const secret = Buffer.from(text, 'utf8');
  if (secret.length < MIN_SECRET_BYTES)
    throw new ConfigError(
      key,
      `${path} holds ${secret.length} bytes; a secret needs at least ${MIN_SECRET_BYTES} (e.g. openssl rand -hex 32 > ${path})`,
    );
  return secret;
}

/**
 * Writes a new random secret (64 hex characters) to `path` with mode 0600 unless the file
 * exists; returns whether it wrote one. For `sluice dev`, which runs authenticated.
 */
export function createSecretFile(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    writeSync(fd, `${randomBytes(32).toString('hex')}\n`);
  } finally {
    closeSync(fd);
  }
  chmodSync(path, 0o600); // the umask may have narrowed nothing, but never widened
  return true;
}

/** An app's credential: what its driver and executors prove themselves with. */
export class AppCredential {
  readonly appId: AppId;
  readonly keyId: Buffer;
  readonly key: Buffer;

  constructor(appId: AppId, keyId: Buffer, key: Buffer) {
    this.appId = appId;
    this.keyId = keyId;
    this.key = key;
  }

  /** The opaque string a driver hands to its executors (`ShuffleHandle.credential`). */
  toString(): string {
    return `${CREDENTIAL_PREFIX}.${this.appId}.${this.keyId.toString('hex')}.${this.key.toString('base64url')}`;
  }

  /** Parses a credential string; the error names `field` and never echoes the key. */
  static parse(text: unknown, field = 'credential'): AppCredential {
    const parts = typeof text === 'string' ? text.split('.') : [];
    const bad = (why: string) =>
      new InvalidArgumentError(field, `not a Sluice app credential: ${why}`);
    if (parts.length < 4 || parts[0] !== CREDENTIAL_PREFIX)
      throw bad(`expected ${CREDENTIAL_PREFIX}.<appId>.<keyId>.<key>, as ShuffleHandle.credential`);
    const key = Buffer.from(parts.at(-1)!, 'base64url');
    const keyIdHex = parts.at(-2)!;
    const keyId = Buffer.from(keyIdHex, 'hex');
    if (keyId.length !== KEY_ID_BYTES || keyIdHex.length !== KEY_ID_BYTES * 2)
      throw bad('the key id is not 32 hex digits');
    if (key.length !== KEY_BYTES) throw bad(`the key is not ${KEY_BYTES} bytes`);
    const appId = parseAppId(parts.slice(1, -2).join('.'), field);
    return new AppCredential(appId, keyId, key);
  }
}

/** What a verifier knows: the cluster secret (daemons) or one app's key (a driver). */
export interface KeyRing {
  /** The cluster secret, for daemon credentials; undefined where only an app key is known. */
  readonly clusterSecret: Buffer | undefined;
  /** The key of (appId, keyId), or undefined when this ring cannot know it. */
  appKey(appId: AppId, keyId: Buffer): Buffer | undefined;
}

/** The daemons' ring: the cluster secret, from which every app key derives. */
export class ClusterKeys implements KeyRing {
  readonly clusterSecret: Buffer;

  constructor(secret: Buffer) {
    if (secret.length < MIN_SECRET_BYTES)
      throw new InvalidArgumentError('clusterSecret', `needs at least ${MIN_SECRET_BYTES} bytes`);
    this.clusterSecret = secret;
  }

  appKey(appId: AppId, keyId: Buffer): Buffer {
    return hmac(this.clusterSecret, 'sluice-app-key-v1', appId, keyId);
  }

  /** A new credential for `appId` (RegisterApp). */
  mint(appId: AppId): AppCredential {
    const keyId = randomBytes(KEY_ID_BYTES);
    return new AppCredential(appId, keyId, this.appKey(appId, keyId));
  }
}

/** A driver's ring: its own app's key and nothing else. */
export class SingleAppKeys implements KeyRing {
  readonly clusterSecret = undefined;
  readonly #credential: AppCredential;

  constructor(credential: AppCredential) {
    this.#credential = credential;
  }

  appKey(appId: AppId, keyId: Buffer): Buffer | undefined {
    const c = this.#credential;
    return appId === c.appId && sameMac(keyId, c.keyId) ? c.key : undefined;
  }
}

/** Builds the daemons' ring from a secret file; undefined (an open cluster) without one. */
export function clusterKeysFrom(path: string, key: string): ClusterKeys | undefined {
  return path ? new ClusterKeys(readSecretFile(path, key)) : undefined;
}

export const KEY_ID_LENGTH = KEY_ID_BYTES;
