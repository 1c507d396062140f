import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { exec } from '../private/exec';
import { INFRA_APP_DIR } from './paths';
import { detachedWorktree } from './worktree';

/**
 * The Terraform stacks as they were synthesized at `commit` (cdktf.out is not committed):
 * a detached git worktree of that commit, the workspace's node_modules linked in (the
 * `@platform/*` packages resolve through the worktree's own tsconfig paths, so they are the
 * commit's), and the infra synth run there. Returns its stacks folder, or undefined (with the
 * reason logged) when the commit cannot be synthesized. `cleanup` removes the worktree.
 */
export function synthStacksAtCommit(repoRoot: string, commit: string, log: (line: string) => void): { stacksDir: string | undefined; cleanup: () => void } {
  const worktree = detachedWorktree(repoRoot, commit);
  if ('error' in worktree) {
    log(`base synth: ${worktree.error}`);
    return { stacksDir: undefined, cleanup: () => undefined };
  }
  const { dir, cleanup } = worktree;
  const started = Date.now();
  const synth = exec('node', ['--import', 'tsx', 'src/main.ts'], { cwd: join(dir, INFRA_APP_DIR) });
  const stacksDir = join(dir, INFRA_APP_DIR, 'cdktf.out', 'stacks');
  if (synth.code !== 0 || !existsSync(stacksDir)) {
    log(`base synth of ${commit.slice(0, 12)} failed (exit ${synth.code}): ${(synth.stderr || synth.stdout).trim().split('\n').slice(-5).join(' | ')}`);
    return { stacksDir: undefined, cleanup };
  }
  log(`base synth of ${commit.slice(0, 12)}: ${readdirSync(stacksDir).length} stacks in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { stacksDir, cleanup };
}
