// deploy/Dockerfile cannot be built here (no container engine), so this checks what can be
// checked offline: two stages, the final one running as a non-root user; every file the
// build stage copies from the repository exists; the runtime stage carries what `sluice`
// loads at run time (package.json for the version, dist, bin, proto for gRPC, the native
// addon, node_modules); and every /app path the Kubernetes manifests run is in the image.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const text = readFileSync(join(ROOT, 'deploy/Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
const lines = text
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
const stages = lines.filter((l) => l.startsWith('FROM '));
const runtime = lines.slice(lines.lastIndexOf(stages.at(-1)!));

describe('deploy/Dockerfile', () => {
  it('builds in one stage and runs in another, as a non-root user', () => {
    expect(stages).toHaveLength(2);
    expect(stages[0]).toMatch(/ AS build$/);
    const user = runtime.find((l) => l.startsWith('USER '));
    expect(user).toMatch(/^USER [1-9]\d*(:[1-9]\d*)?$/);
    expect(runtime.at(-2)).toBe('ENTRYPOINT ["node", "/app/bin/sluice.js"]');
  });

  it('copies only files that exist in the repository', () => {
    for (const l of lines.filter((x) => x.startsWith('COPY ') && !x.includes('--from'))) {
      const sources = l.split(/\s+/).slice(1, -1);
      for (const s of sources) expect(existsSync(join(ROOT, s)), l).toBe(true);
    }
  });

  it('the runtime stage has what sluice loads, and what the Kubernetes manifests run', () => {
    // COPY [--from=build] <sources...> <dest>: the sources, relative to the repository.
    const copied = runtime
      .filter((l) => l.startsWith('COPY '))
      .flatMap((l) => l.split(/\s+/).slice(1, -1))
      .filter((x) => !x.startsWith('--'))
      .map((x) => x.replace(/^\/src\//, ''));
    for (const need of ['package.json', 'node_modules', 'dist', 'bin', 'proto'])
      expect(copied, need).toContain(need);
    expect(copied).toContain('native/build/Release/sluice_native.node');
    const k8s = readdirSync(join(ROOT, 'deploy/kubernetes'))
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => readFileSync(join(ROOT, 'deploy/kubernetes', f), 'utf8'))
      .join('\n');
    for (const [path] of k8s.matchAll(/\/app\/(\S+)/g)) expect(copied).toContain(path.slice(5));
  });
});
