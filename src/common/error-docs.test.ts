import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { renderErrorDocs } from './error-docs.js';
import { ERROR_CODES } from './errors.js';
import { WIRE_STATUSES } from './status-codes.js';

const DOCS_FILE = fileURLToPath(new URL('../../docs/errors.md', import.meta.url));

describe('docs/errors.md', () => {
  it('is the current output of renderErrorDocs()', () => {
    const committed = existsSync(DOCS_FILE) ? readFileSync(DOCS_FILE, 'utf8') : '(missing)';
    expect(
      committed,
      'docs/errors.md is missing or stale: run `npm run gen:docs` ' +
        '(or `npm run build && node bin/sluice.js docs errors > docs/errors.md`) and commit it',
    ).toBe(renderErrorDocs());
  });
});

describe('renderErrorDocs', () => {
  const lines = renderErrorDocs().split('\n');

  it('has one row per error code, in table order', () => {
    const rows = lines.filter((l) => l.startsWith('| `SLUICE_ERR_'));
    expect(rows).toEqual(
      Object.values(ERROR_CODES).map(
        (e) => `| \`${e.code}\` | ${e.retriable ? 'yes' : 'no'} | ${e.grpc} | ${e.doc} |`,
      ),
    );
  });

  it('has one row per wire status, in value order', () => {
    const rows = lines.filter((l) => /^\| \d+ \| `/.test(l));
    expect(rows.map((r) => r.split(' | ')[1])).toEqual(WIRE_STATUSES.map((s) => `\`${s.name}\``));
    expect(rows).toContain(
      '| 1 | `OK_CONGESTED` | yes | no | — | accept-slow-down | fail-over | Accepted, but the worker is above its pause watermark: halve the in-flight window. |',
    );
    expect(rows).toContain(
      '| 11 | `THROTTLED` | no | yes | `SLUICE_ERR_THROTTLED` | retry | back-off | The server is over a limit: the app over its fetch quota (docs/architecture.md#request-throttling), too many connections, frames in progress or open streams: back off and retry. |',
    );
  });
});
