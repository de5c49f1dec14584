// Renders docs/configuration.md from the registry; a test compares it with the committed file.
import { CONFIG_ENTRIES } from './registry.js';
import { envName } from './load.js';
import { formatValue } from './types.js';

export function renderConfigDocs(): string {
  const lines = [
    '# Configuration',
    '',
    'Generated from `src/common/config/registry.ts` by `npm run gen:docs`; do not edit by hand.',
    '',
    'Every key can be set in a JSON file (`--config FILE`, flat dotted keys or nested objects),',
    'in the environment (`SLUICE_` + the key in upper snake case), or as a flag',
    '(`--set key=value`, or the short flags each command lists in `--help`). Later sources win:',
    'defaults < file < environment < flags. Unknown keys are refused with a hint, and a daemon',
    'with an invalid value refuses to start and names the key.',
    '',
    'Sizes accept `B`, `KiB`, `MiB`, `GiB` (and `KB`, `MB`, `GB`); durations accept `ms`, `s`,',
    '`m`, `h` (a bare number is milliseconds).',
  ];
  const categories = [...new Set(CONFIG_ENTRIES.filter((e) => !e.internal).map((e) => e.category))];
  for (const category of categories) {
    lines.push(
      '',
      `## ${category}`,
      '',
      '| key | type | default | environment | description |',
      '|---|---|---|---|---|',
    );
    for (const e of CONFIG_ENTRIES.filter((x) => x.category === category && !x.internal)) {
      const type = e.type === 'enum' ? (e.values ?? []).join(' \\| ') : e.type;
      const range =
        e.min !== undefined || e.max !== undefined ? ` (${e.min ?? ''}..${e.max ?? ''})` : '';
      lines.push(
        `| \`${e.key}\` | ${type}${range} | \`${formatValue(e, e.default)}\` | \`${envName(e.key)}\` | ${e.doc} |`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
