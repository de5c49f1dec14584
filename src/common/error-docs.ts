// Renders docs/errors.md from ERROR_CODES and the wire status table; a test keeps them equal.
import { ERROR_CODES } from './errors.js';
import { WIRE_STATUSES } from './status-codes.js';

export function renderErrorDocs(): string {
  const lines = [
    '# Errors',
    '',
    'Generated from `src/common/errors.ts` and `src/common/status-codes.ts` by `npm run gen:docs`;',
    'do not edit by hand. Match on `code`, never on message text.',
    '',
    '## Error codes',
    '',
    'Every error Sluice raises or returns carries one of these codes. Over gRPC the code travels in',
    'the `sluice-code` trailer next to the gRPC status shown here.',
    '',
    '| code | retriable | gRPC status | meaning |',
    '|---|---|---|---|',
    ...Object.values(ERROR_CODES).map(
      (e) => `| \`${e.code}\` | ${e.retriable ? 'yes' : 'no'} | ${e.grpc} | ${e.doc} |`,
    ),
    '',
    '## Data-plane status codes',
    '',
    'Numeric statuses in PUSH_ACK and ERROR frames of the framed TCP protocol (docs/protocol.md).',
    'The table is append-only. A failure answered with a status becomes an error with its code;',
    '"push client" and "reader" say what the library does with it (the actions are explained in',
    '`src/common/status-codes.ts`).',
    '',
    '| value | name | data accepted | retriable | error code | push client | reader | meaning |',
    '|---|---|---|---|---|---|---|---|',
    ...WIRE_STATUSES.map(
      (s) =>
        `| ${s.value} | \`${s.name}\` | ${s.ok ? 'yes' : 'no'} | ${s.retriable ? 'yes' : 'no'} | ${s.code ? `\`${s.code}\`` : '—'} | ${s.push} | ${s.read} | ${s.doc} |`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}
