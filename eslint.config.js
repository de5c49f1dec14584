// ESLint: typescript-eslint's recommended rules plus the layering rule of docs/development.md#layout:
// `common` imports nothing from the process folders, and process folders never import each
// other (only cli and testing, which assemble processes, may).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const PROCESS_FOLDERS = ['manager', 'worker', 'client', 'agent', 'ess', 'cli', 'testing'];

const forbid = (self, allowed = []) => ({
  files: [`src/${self}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: PROCESS_FOLDERS.filter((f) => f !== self && !allowed.includes(f)).map((f) => ({
          group: [`**/${f}/**`, `**/${f}`],
          message: `src/${self} must not import from src/${f} (docs/development.md#layout: common <- process folders, no sideways imports).`,
        })),
      },
    ],
  },
});

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'node_modules/',
      'src/common/proto/gen/',
      'native/build/',
      '.sluice/',
      'bench/results/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-console': 'error',
    },
  },
  forbid('common'),
  forbid('manager'),
  forbid('worker'),
  forbid('client'),
  forbid('agent'),
  forbid('ess'),
  {
    files: ['bin/**', 'scripts/**', 'test/**', 'bench/**', 'deploy/**'],
    rules: { 'no-console': 'off' },
  },
  {
    // A spread into call arguments puts every element on the stack: Math.max(...list),
    // push(...list) or String.fromCharCode(...bytes) throw RangeError once a list from a peer
    // (partitions, groups, shuffles) grows past about 10^5 elements. Loop or reduce instead.
    files: ['src/**/*.ts'],
    ignores: ['src/**/*.test.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        ...['CallExpression', 'NewExpression'].map((call) => ({
          selector: `${call} > SpreadElement`,
          message:
            'No spread into call arguments: a long array overflows the stack. Loop or reduce instead.',
        })),
      ],
    },
  },
);
