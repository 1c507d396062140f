import { resolve } from 'node:path';
import { defaultPlatform } from '@platform/platform-config';
import { parseOptions, UsageError } from './options';
import { pairOutputs } from './pair-outputs';
import { runFailover } from './runner';

/**
 * `npm run failover -- promote --standby dr` — exit 0 done, 1 a step failed, 2 bad usage or
 * config, 3 (fence only) nothing to fence yet: the standby is not promoted or the primary's API
 * does not answer (a scheduled run treats it as success and tries again).
 * `npm run failover -- pair promote --standby dr` prints the pair's names for the workflow;
 * `npm run failover -- primaries` the clusters that have a standby (JSON).
 */
export async function main(argv: readonly string[], repoRoot = resolve(__dirname, '../../..')): Promise<number> {
  const log = (line: string) => process.stdout.write(`${line}\n`);
  try {
    if (argv[0] === 'primaries') {
      // For the scheduled fence: every cluster that names a standby, as a JSON list.
      process.stdout.write(`${JSON.stringify(defaultPlatform().clusters.filter((c) => c.failover).map((c) => c.name))}\n`);
      return 0;
    }
    if (argv[0] === 'pair') {
      process.stdout.write(pairOutputs(defaultPlatform(), parseOptions(argv.slice(1), repoRoot)));
      return 0;
    }
    const options = parseOptions(argv, repoRoot);
    const { ok, facts } = await runFailover(defaultPlatform(), options, { log });
    if (!ok && facts.notDue) log(`nothing to fence yet: ${facts.notDue}`);
    return ok ? 0 : facts.notDue ? 3 : 1;
  } catch (error) {
    process.stderr.write(`${error instanceof UsageError ? '' : 'error: '}${(error as Error).message}\n`);
    return 2;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => process.exit(code));
}
