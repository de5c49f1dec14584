#!/usr/bin/env node
// Thin launcher: the CLI is compiled TypeScript under dist/ (built by `npm install` / `npm run build`).
import('../dist/cli/main.js').then(
  (m) => m.main(process.argv.slice(2)),
  (err) => {
    process.stderr.write(
      `sluice: cannot load dist/cli/main.js (${err.message}); run \`npm run build\` first\n`,
    );
    process.exit(1);
  },
);
