import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { renderConfigDocs } from './docs.js';
import { envName } from './load.js';
import { CONFIG_ENTRIES } from './registry.js';
import { formatValue } from './types.js';

const DOCS_FILE = fileURLToPath(new URL('../../../docs/configuration.md', import.meta.url));

describe('docs/configuration.md', () => {
  it('is the current output of renderConfigDocs()', () => {
    const committed = existsSync(DOCS_FILE) ? readFileSync(DOCS_FILE, 'utf8') : '(missing)';
    expect(
      committed,
      'docs/configuration.md is missing or stale: run `npm run gen:docs` and commit the result',
    ).toBe(renderConfigDocs());
  });
});

describe('renderConfigDocs', () => {
  const docs = renderConfigDocs();

  it('lists every public key with its type, default and environment name', () => {
    for (const e of CONFIG_ENTRIES.filter((x) => !x.internal)) {
      const row = docs.split('\n').find((line) => line.startsWith(`| \`${e.key}\` |`));
      expect(row, e.key).toBeDefined();
      expect(row).toContain(`\`${formatValue(e, e.default)}\``);
      expect(row).toContain(`\`${envName(e.key)}\``);
      expect(row).toContain(e.doc);
    }
  });

  it('has one section per category with public keys (internal test.* keys are not documented)', () => {
    const categories = new Set(CONFIG_ENTRIES.filter((e) => !e.internal).map((e) => e.category));
    expect(docs).not.toContain('test.diskWriteBytesPerSec');
    const headings = docs.split('\n').filter((line) => line.startsWith('## '));
    expect(headings).toEqual([...categories].map((c) => `## ${c}`));
  });

  it('shows ranges and enum values', () => {
    expect(docs).toContain('| `manager.grpcPort` | int (0..65535) | `9097` |');
    expect(docs).toContain('| `manager.state` | sqlite \\| memory \\| zookeeper | `sqlite` |');
    expect(docs).toContain('| `manager.minFreeDiskBytes` | bytes (0..) | `1GiB` |');
  });

  it('ends with exactly one newline', () => {
    expect(docs.endsWith('|\n')).toBe(true);
  });
});
