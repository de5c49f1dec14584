// gRPC call credentials (docs/operations.md#security): a signature binds who, when and which
// method; anything else (another key, path, time or a tampered field) is refused, and the
// per-method rules let the right callers through.
import { describe, expect, it } from 'vitest';
import type { AppId } from '../ids.js';
import {
  MAX_CLOCK_SKEW_MS,
  appSigner,
  authorize,
  clusterSigner,
  verifyCall,
  type CallRule,
} from './call-auth.js';
import { ClusterKeys, SingleAppKeys } from './keys.js';

const keys = new ClusterKeys(Buffer.alloc(32, 1));
const PATH = '/sluice.v1.ManagerService/AllocateShuffle';
const cred = keys.mint('app-a' as AppId);

describe('verifyCall', () => {
  it('accepts the cluster and an app, for the path signed', () => {
    expect(verifyCall(keys, clusterSigner(keys.clusterSecret)(PATH), PATH)).toEqual({
      kind: 'cluster',
    });
    expect(verifyCall(keys, appSigner(cred)(PATH), PATH)).toEqual({ kind: 'app', appId: 'app-a' });
    // A driver's ring verifies its own app's executors.
    expect(verifyCall(new SingleAppKeys(cred), appSigner(cred)(PATH), PATH).kind).toBe('app');
  });

  it('refuses a missing, malformed, foreign, stale or replayed-elsewhere credential', () => {
    const token = appSigner(cred)(PATH);
    const other = new ClusterKeys(Buffer.alloc(32, 2));
    const cases: [unknown, string, number?][] = [
      [undefined, 'no credential'],
      ['garbage', 'malformed'],
      [token.replace('app-a', 'app-b'), 'does not verify'],
      [appSigner(other.mint('app-a' as AppId))(PATH), 'does not verify'],
      [clusterSigner(other.clusterSecret)(PATH), 'does not verify'],
      [appSigner(cred)('/sluice.v1.ManagerService/GetShuffle'), 'does not verify'],
      [token, 'minutes from this server', Date.now() + MAX_CLOCK_SKEW_MS + 60_000],
      [token.replace(/ (\d+) /, (_m, t: string) => ` ${Number(t) + 1} `), 'does not verify'],
    ];
    for (const [value, why, now] of cases) {
      let code = '';
      let message = '';
      try {
        verifyCall(keys, value, PATH, now);
      } catch (err) {
        code = (err as { code: string }).code;
        message = (err as Error).message;
      }
      expect([code, message]).toEqual(['SLUICE_ERR_UNAUTHENTICATED', expect.stringContaining(why)]);
    }
    // A driver cannot verify daemons: it has no cluster secret.
    expect(() =>
      verifyCall(new SingleAppKeys(cred), clusterSigner(keys.clusterSecret)(PATH), PATH),
    ).toThrow(/does not verify/);
  });
});

describe('authorize', () => {
  const own: CallRule<{ appId: string }> = { app: (r) => r.appId };
  const cluster = { kind: 'cluster' } as const;
  const appA = { kind: 'app', appId: 'app-a' as AppId } as const;
  const refused = (fn: () => void) => {
    try {
      fn();
      return 'allowed';
    } catch (err) {
      return (err as { code: string }).code;
    }
  };

  it('applies open, cluster and own-app rules', () => {
    expect(refused(() => authorize('open', undefined, {}, 'x'))).toBe('allowed');
    expect(refused(() => authorize('cluster', cluster, {}, 'x'))).toBe('allowed');
    expect(refused(() => authorize('cluster', appA, {}, 'x'))).toBe('SLUICE_ERR_UNAUTHORIZED');
    expect(refused(() => authorize(own, appA, { appId: 'app-a' }, 'x'))).toBe('allowed');
    expect(refused(() => authorize(own, appA, { appId: 'app-b' }, 'x'))).toBe(
      'SLUICE_ERR_UNAUTHORIZED',
    );
    expect(refused(() => authorize(own, cluster, { appId: 'app-b' }, 'x'))).toBe('allowed');
  });
});
