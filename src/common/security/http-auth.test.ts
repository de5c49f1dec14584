// The HTTP checks (docs/operations.md#security): state-changing requests need the admin token
// and must not come from another site; reads need it only when protected, which needs a token.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/index.js';
import { checkHttpRequest, httpAuthFrom, type HttpAuth } from './http-auth.js';

const TOKEN = 'a'.repeat(64);
const auth = (o: Partial<HttpAuth> = {}): HttpAuth => ({
  token: Buffer.from(TOKEN),
  locked: true,
  protectReads: false,
  ...o,
});
const codeOf = (fn: () => void) => {
  try {
    fn();
    return 'ok';
  } catch (err) {
    return (err as { code: string }).code;
  }
};

describe('checkHttpRequest', () => {
  it('needs the bearer token for POST and refuses cross-site requests even with it', () => {
    const bearer = { authorization: `Bearer ${TOKEN}`, host: 'm:9098' };
    expect(codeOf(() => checkHttpRequest(auth(), bearer, true))).toBe('ok');
    expect(codeOf(() => checkHttpRequest(auth(), { host: 'm:9098' }, true))).toBe(
      'SLUICE_ERR_UNAUTHENTICATED',
    );
    expect(
      codeOf(() => checkHttpRequest(auth(), { ...bearer, authorization: 'Bearer nope' }, true)),
    ).toBe('SLUICE_ERR_UNAUTHENTICATED');
    expect(
      codeOf(() => checkHttpRequest(auth(), { ...bearer, origin: 'http://evil.example' }, true)),
    ).toBe('SLUICE_ERR_UNAUTHORIZED');
    expect(
      codeOf(() => checkHttpRequest(auth(), { ...bearer, 'sec-fetch-site': 'cross-site' }, true)),
    ).toBe('SLUICE_ERR_UNAUTHORIZED');
    expect(
      codeOf(() => checkHttpRequest(auth(), { ...bearer, origin: 'http://m:9098' }, true)),
    ).toBe('ok');
  });

  it('locks POST without a token when the cluster is secured; leaves an open cluster open', () => {
    expect(codeOf(() => checkHttpRequest(auth({ token: undefined }), {}, true))).toBe(
      'SLUICE_ERR_UNAUTHORIZED',
    );
    expect(
      codeOf(() => checkHttpRequest(auth({ token: undefined, locked: false }), {}, true)),
    ).toBe('ok');
  });

  it('protects reads only when asked to', () => {
    expect(codeOf(() => checkHttpRequest(auth(), {}, false))).toBe('ok');
    expect(codeOf(() => checkHttpRequest(auth({ protectReads: true }), {}, false))).toBe(
      'SLUICE_ERR_UNAUTHENTICATED',
    );
  });

  it('refuses to protect reads with no token to protect them with', () => {
    const config = loadConfig({ overrides: { 'security.protectReadEndpoints': true } });
    expect(() => httpAuthFrom(config, true)).toThrow(
      /security.protectReadEndpoints: needs security.adminTokenFile/,
    );
  });
});
