import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SluiceError } from '../../common/errors.js';
import type { Route } from '../../common/obs/http-server.js';
import { dashboardRoutes } from './dashboard.js';

const get = (routes: Route[], path: string, file = '') =>
  routes
    .find((r) => r.path === path)!
    .handle({ method: 'GET', path, query: new URLSearchParams(), params: { file } });

describe('dashboard routes', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('serves the bundle with its content types and a CSP, and nothing else', async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-dash-'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>t</title>');
    writeFileSync(join(dir, 'app.js'), 'export {};');
    writeFileSync(join(dir, 'notes.txt'), 'not an asset');
    const routes = dashboardRoutes(dir);
    const page = await get(routes, '/');
    expect(page).toMatchObject({ text: '<!doctype html><title>t</title>' });
    expect(page.contentType).toMatch(/^text\/html/);
    expect(page.headers?.['content-security-policy']).toContain("script-src 'self'");
    expect((await get(routes, '/dashboard/:file', 'app.js')).contentType).toMatch(
      /^text\/javascript/,
    );
    for (const name of ['notes.txt', '../index.html', 'missing.js']) {
      const err = await Promise.resolve()
        .then(() => get(routes, '/dashboard/:file', name))
        .catch((e: unknown) => e);
      expect((err as SluiceError).code, name).toBe('SLUICE_ERR_NOT_FOUND');
    }
  });

  it('says how to build it when the bundle is missing', async () => {
    const err = await Promise.resolve()
      .then(() => get(dashboardRoutes('/nonexistent/dashboard'), '/'))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SluiceError);
    expect((err as SluiceError).message).toMatch(/not built .*run npm run build/);
  });
});
