import { resolve } from 'node:path';
import { defaultPlatform } from '@platform/platform-config';
import { parseOptions, UsageError } from './options';
import { pairOutputs } from './pair-outputs';
import { runFailover } from './runner';

/**
 * `npm run failover -- promote --standby dr` — exit 0 done, 1 a step failed, 2 bad usage or config.
 * `npm run failover -- pair promote --standby dr` prints the pair's names for the workflow.
 */
export async function main(argv: readonly string[], repoRoot = resolve(__dirname, '../../..')): Promise<number> {
  const log = (line: string) => process.stdout.write(`${line}\n`);
  try {
    if (argv[0] === 'pair') {
      process.stdout.write(pairOutputs(defaultPlatform(), parseOptions(argv.slice(1), repoRoot)));
      return 0;
    }
    const options = parseOptions(argv, repoRoot);
    const { ok } = await runFailover(defaultPlatform(), options, { log });
    return ok ? 0 : 1;
  } catch (error) {
    process.stderr.write(`${error instanceof UsageError ? '' : 'error: '}${(error as Error).message}\n`);
    return 2;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => process.exit(code));
}
