import { join } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..');

/** Lints `code` as if it were a file of aws-cluster, with the repository's flat config. */
async function providerAwsErrors(code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: root });
  const [result] = await eslint.lintText(code, { filePath: join(root, 'packages', 'aws-cluster', 'src', 'lint-probe.ts') });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports' || m.ruleId === 'no-restricted-syntax').map((m) => `${m.line}:${m.ruleId}`);
}

describe('eslint: AWS resources only from their submodule', () => {
  it('rejects the package root and the lib index, statically, dynamically and through require', async () => {
    const code = [
      "import { Vpc } from '@cdktf/provider-aws';",
      "export * from '@cdktf/provider-aws/lib';",
      "export const a = () => import('@cdktf/provider-aws/lib/index.js');",
      "export const b = () => require('@cdktf/provider-aws');",
      'export { Vpc };',
      '',
    ].join('\n');
    expect(await providerAwsErrors(code)).toEqual(['1:no-restricted-imports', '2:no-restricted-imports', '3:no-restricted-syntax', '4:no-restricted-syntax']);
  });

  it('accepts resource submodules', async () => {
    const code = ["import { Vpc } from '@cdktf/provider-aws/lib/vpc';", "export const s = () => import('@cdktf/provider-aws/lib/subnet');", 'export { Vpc };', ''].join('\n');
    expect(await providerAwsErrors(code)).toEqual([]);
  });
});
