// The dashboard at the manager's HTTP root (docs/operations.md#dashboard): static files that
// `npm run build` bundles from web/dashboard into dist/dashboard (scripts/build-dashboard.mjs),
// served from the installed package; nothing is fetched from elsewhere, so it works offline.
// The page reads the JSON API under /api/v1.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NotFoundError } from '../../common/errors.js';
import type { HttpResult, Route } from '../../common/obs/http-server.js';

/** dist/dashboard of the package (this file is src/manager/http or dist/manager/http). */
export const DASHBOARD_DIR = join(
  dirname(fileURLToPath(import.meta.url)),
  '../../../dist/dashboard',
);

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

// The page runs only its own script and style and talks only to this manager.
const HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-cache',
};

/** Reads the bundle once, on the first request (a few hundred KB). */
function loadAssets(dir: string): Map<string, HttpResult> {
  const assets = new Map<string, HttpResult>();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return assets;
  }
  for (const name of names) {
    const contentType = TYPES[extname(name)];
    if (contentType)
      assets.set(name, {
        text: readFileSync(join(dir, name), 'utf8'),
        contentType,
        headers: HEADERS,
      });
  }
  return assets;
}

export function dashboardRoutes(dir = DASHBOARD_DIR): Route[] {
  let assets: Map<string, HttpResult> | undefined;
  const asset = (name: string): HttpResult => {
    assets ??= loadAssets(dir);
    const found = assets.get(name);
    if (found) return found;
    if (!assets.has('index.html'))
      throw new NotFoundError(
        `the dashboard is not built (no ${join(dir, 'index.html')}); run npm run build`,
      );
    throw new NotFoundError(`no dashboard file ${name}`);
  };
  return [
    { method: 'GET', path: '/', handle: () => asset('index.html') },
    { method: 'GET', path: '/dashboard/:file', handle: (req) => asset(req.params.file!) },
  ];
}
