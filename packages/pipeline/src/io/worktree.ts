import { existsSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exec } from '../private/exec';

/**
 * A detached git worktree of `commit` with the workspace's node_modules linked in (the
 * `@platform/*` packages resolve through the worktree's own tsconfig paths, so they are the
 * commit's), or undefined with git's reason. `cleanup` removes it.
 */
export function detachedWorktree(repoRoot: string, commit: string): { dir: string; cleanup: () => void } | { error: string } {
  const dir = join(mkdtempSync(join(tmpdir(), 'pipeline-base-')), 'tree');
  const added = exec('git', ['worktree', 'add', '--detach', '--quiet', dir, commit], { cwd: repoRoot });
  if (added.code !== 0) return { error: `git worktree add failed: ${added.stderr.trim()}` };
  const modules = join(repoRoot, 'node_modules');
  if (existsSync(modules) && !existsSync(join(dir, 'node_modules'))) symlinkSync(modules, join(dir, 'node_modules'), 'dir');
  return { dir, cleanup: () => void exec('git', ['worktree', 'remove', '--force', dir], { cwd: repoRoot }) };
}
