// The repository explains itself: code, tests, benchmarks and docs cite the project's own
// documents (docs/*.md, bench/README.md, deploy/README.md), never a file outside the
// repository. Someone who clones Sluice or installs it from npm must be able to read what
// every comment points at. And every `docs/<name>.md#<anchor>` a file cites must name a
// heading that exists, so a renamed section cannot leave dangling pointers behind.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { anchorsOf, githubAnchor } from './markdown.js';

const ROOT = join(import.meta.dirname, '..');
const SCANNED = [
  'src',
  'test',
  'bench',
  'docs',
  'deploy',
  'native',
  'scripts',
  'proto',
  '.ci',
  'README.md',
  'eslint.config.js',
  'package.json',
];

/** Tracked and new (not ignored) text files under SCANNED; results and lockfiles excluded. */
function files(): string[] {
  const out = execFileSync(
    'git',
    ['ls-files', '--cached', '--others', '--exclude-standard', '--', ...SCANNED],
    { cwd: ROOT, encoding: 'utf8' },
  );
  return out
    .split('\n')
    .filter((f) => f !== '' && existsSync(join(ROOT, f)))
    .filter((f) => !f.startsWith('bench/results/') && !/\.(json|svg|png)$/.test(f));
}

// Assembled from pieces so that this file does not match itself.
const FORBIDDEN: readonly { what: string; re: RegExp }[] = [
  { what: 'a path into the steering folder', re: new RegExp('\\.\\./' + 'shared' + '/') },
  { what: 'the external specification', re: new RegExp('design' + '\\.md') },
  { what: 'a section of the external specification', re: new RegExp('[Dd]esign' + ' §') },
  { what: 'the external conventions', re: new RegExp('conventions' + '(\\.md| §|: src)') },
  { what: 'a reference paper by file name', re: new RegExp('reference' + '/0\\d\\d') },
];

describe('citations inside the repository', () => {
  const all = files();

  it('scans the source tree (guards against an empty scan)', () => {
    expect(all.length).toBeGreaterThan(100);
    expect(all).toContain('src/client/index.ts');
  });

  it('no file cites anything outside the repository', () => {
    const found: string[] = [];
    for (const f of all) {
      const lines = readFileSync(join(ROOT, f), 'utf8').split('\n');
      lines.forEach((line, i) => {
        for (const { what, re } of FORBIDDEN) {
          if (re.test(line)) found.push(`${f}:${i + 1}: ${what}: ${line.trim().slice(0, 120)}`);
        }
      });
    }
    expect(found).toEqual([]);
  });

  it('every docs/<name>.md#<anchor> cited names an existing heading', () => {
    const cache = new Map<string, Set<string> | undefined>();
    const anchors = (doc: string): Set<string> | undefined => {
      if (!cache.has(doc)) {
        const path = join(ROOT, doc);
        cache.set(doc, existsSync(path) ? anchorsOf(readFileSync(path, 'utf8')) : undefined);
      }
      return cache.get(doc);
    };
    const broken: string[] = [];
    let checked = 0;
    for (const f of all) {
      const text = readFileSync(join(ROOT, f), 'utf8');
      for (const m of text.matchAll(/\b((?:docs|bench|deploy)\/[\w-]+\.md)(?:#([\w-]+))?/g)) {
        const [, doc, anchor] = m;
        const known = anchors(doc!);
        checked++;
        if (known === undefined) broken.push(`${f}: ${doc} does not exist`);
        else if (anchor !== undefined && !known.has(anchor)) {
          broken.push(`${f}: ${doc}#${anchor} is not a heading of ${doc}`);
        }
      }
    }
    expect(checked).toBeGreaterThan(100);
    expect([...new Set(broken)]).toEqual([]);
  });
});

describe('githubAnchor', () => {
  it.each([
    ['Lifecycle of one shuffle', 'lifecycle-of-one-shuffle'],
    ['On-disk layout and index format', 'on-disk-layout-and-index-format'],
    ['`PUSH` (type 1)', 'push-type-1'],
    ['ESS mode', 'ess-mode'],
  ])('%s → %s', (heading, anchor) => {
    expect(githubAnchor(heading)).toBe(anchor);
  });
});
