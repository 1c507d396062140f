import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { HaCheckResult } from './comment';
import { exec } from '../private/exec';

/**
 * Runs ha-check through its CLI (`npx ha-check --cluster <name> --format markdown`), as a
 * contributor would: exit 0 objectives met, 1 not met, 2 bad input. Returns undefined with a
 * loud reason when the CLI is not installed in this checkout.
 */
export function runHaCheck(repoRoot: string, cluster: string): HaCheckResult | { readonly skipped: string } {
  const bin = [join(repoRoot, 'node_modules', '.bin', 'ha-check'), join(repoRoot, 'packages', 'ha-check', 'bin', 'ha-check.js')].find((p) => existsSync(p));
  if (!bin || !existsSync(join(repoRoot, 'packages', 'ha-check', 'src', 'cli.ts'))) return { skipped: 'SKIPPED: ha-check CLI not found in this checkout (packages/ha-check/src/cli.ts)' };
  const result = exec(process.execPath, [bin, '--cluster', cluster, '--format', 'markdown'], { cwd: repoRoot, timeout: 300_000 });
  const markdown = result.stdout.trim() || result.stderr.trim() || `ha-check exited ${result.code} without output`;
  return { exitCode: result.code, markdown: result.code === 2 && result.stderr ? `${result.stdout}\n\n${fence(result.stderr)}`.trim() : markdown };
}

function fence(text: string): string {
  return `\`\`\`text\n${text.trim()}\n\`\`\``;
}
