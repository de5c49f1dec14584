// Regenerates the TypeScript types of proto/sluice/v1/*.proto into src/common/proto/gen/.
// The options must match the runtime loader's (src/common/proto/load.ts): CI checks the
// committed output is current by running this and diffing.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const bin = require.resolve('@grpc/proto-loader/build/bin/proto-loader-gen-types.js');
const protoDir = join(root, 'proto');
const files = readdirSync(join(protoDir, 'sluice/v1'))
  .filter((f) => f.endsWith('.proto'))
  .sort()
  .map((f) => `sluice/v1/${f}`);
// `--out DIR` writes elsewhere (the staleness test compares a fresh run with the committed tree).
const outFlag = process.argv.indexOf('--out');
const outDir = outFlag === -1 ? join(root, 'src/common/proto/gen') : process.argv[outFlag + 1];
rmSync(outDir, { recursive: true, force: true });
execFileSync(
  process.execPath,
  [
    bin,
    // Files first: --includeDirs is an array option and would swallow them.
    ...files,
    '--grpcLib=@grpc/grpc-js',
    '--longs=Number',
    '--enums=String',
    '--defaults',
    '--oneofs',
    '--includeComments',
    '--importFileExtension=.js',
    `--outDir=${outDir}`,
    `--includeDirs=${protoDir}`,
  ],
  { stdio: 'inherit', cwd: protoDir },
);

// The generator records absolute source paths; make them relative so the output does not
// depend on where the repository is checked out.
for (const entry of readdirSync(outDir, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile()) continue;
  const file = join(entry.parentPath ?? entry.path, entry.name);
  const text = readFileSync(file, 'utf8');
  // Generated code declares helpers it does not use; it is not ours to lint or check.
  writeFileSync(file, `// @ts-nocheck\n${text.replaceAll(`${root}/`, '')}`);
}
