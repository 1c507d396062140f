import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..', '..', '..');

/**
 * Synthesizes every stack the way the infra app does, into a new temporary folder (packages
 * never import apps; spawning its entry point is fine). Returns a reader of `cdk.tf.json`.
 */
export function synthInfraStacks(input?: unknown): (stack: string) => Record<string, unknown> {
  const outdir = mkdtempSync(join(tmpdir(), 'pipeline-infra-'));
  // `input`: a platform input (plain data) to synthesize instead of the shipped platform.
  const platform = input === undefined ? '' : `, ${JSON.stringify(input)}`;
  const script = `require(${JSON.stringify(join(ROOT, 'apps/infra/src/main.ts'))}).synthInfra(${JSON.stringify(outdir)}${platform}).catch((e) => { console.error(e); process.exit(1); })`;
  const result = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  if (result.status !== 0) throw new Error(`infra synth failed: ${result.stderr}`);
  return (stack) => JSON.parse(readFileSync(join(outdir, 'stacks', stack, 'cdk.tf.json'), 'utf8')) as Record<string, unknown>;
}
