// The layering rule of docs/development.md#layout, enforced by ESLint (eslint.config.js): common imports
// no process folder, and process folders never import each other. This checks the rule
// itself catches violations, so a config edit cannot silently switch it off.
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../src/testing/manager.js';

const eslint = new ESLint({ cwd: PACKAGE_ROOT });

async function restricted(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${PACKAGE_ROOT}/${filePath}` });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layering lint rule', () => {
  it.each([
    [
      'src/common/x.ts',
      "import { ManagerServer } from '../manager/server.js';\nexport { ManagerServer };\n",
    ],
    ['src/common/config/x.ts', "import { main } from '../../cli/main.js';\nexport { main };\n"],
    [
      'src/worker/x.ts',
      "import { ClusterManager } from '../manager/cluster-manager.js';\nexport { ClusterManager };\n",
    ],
    [
      'src/manager/rpc/x.ts',
      "import { startManager } from '../../testing/manager.js';\nexport { startManager };\n",
    ],
    ['src/client/x.ts', "import { x } from '../worker/push/x.js';\nexport { x };\n"],
  ])('refuses %s importing across layers', async (file, code) => {
    const messages = await restricted(file, code);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain('docs/development.md#layout');
  });

  it.each([
    [
      'src/manager/x.ts',
      "import { SluiceError } from '../common/errors.js';\nexport { SluiceError };\n",
    ],
    [
      'src/cli/x.ts',
      "import { ManagerServer } from '../manager/server.js';\nexport { ManagerServer };\n",
    ],
    [
      'src/testing/x.ts',
      "import { ManagerServer } from '../manager/server.js';\nexport { ManagerServer };\n",
    ],
  ])('allows %s importing downwards', async (file, code) => {
    expect(await restricted(file, code)).toEqual([]);
  });
});
