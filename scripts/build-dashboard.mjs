// Bundles the dashboard (web/dashboard) into dist/dashboard with esbuild: app.js (the page and
// uPlot), app.css and index.html. The manager serves these files at its HTTP root
// (src/manager/http/dashboard.ts); nothing is loaded from elsewhere at run time.
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

const out = 'dist/dashboard';
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: ['web/dashboard/app.ts'],
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2022',
  outdir: out,
  logLevel: 'warning',
});
copyFileSync('web/dashboard/index.html', `${out}/index.html`);
