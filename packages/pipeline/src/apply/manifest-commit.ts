import { exec, execOk } from '../private/exec';

/**
 * After an apply, synthesizes the manifests and pushes any change under clusters/ as a bot
 * commit. A push rejected because main moved on is rebased and retried; when the rebase
 * conflicts (someone else changed the same generated files), the commit is rebuilt from a
 * fresh synth on top of the new main instead, since generated files are never merged by hand.
 *
 * No workflow loop: the commit message carries `[skip ci]`, and pushes made with the
 * workflow's GITHUB_TOKEN do not start workflows anyway.
 */

export interface ManifestCommitOptions {
  readonly repo: string;
  /** Paths the bot may commit, e.g. ['clusters']. */
  readonly paths: readonly string[];
  /** Regenerates the files under `paths` in the working tree. */
  readonly synth: () => void | Promise<void>;
  readonly remote?: string;
  readonly branch?: string;
  readonly message: string;
  readonly author?: { readonly name: string; readonly email: string };
  /** @default 4 */
  readonly maxAttempts?: number;
  readonly log?: (line: string) => void;
}

export interface ManifestCommitResult {
  readonly outcome: 'unchanged' | 'pushed';
  readonly attempts: number;
  readonly commit: string | undefined;
}

export const BOT_AUTHOR = { name: 'github-actions[bot]', email: '41898282+github-actions[bot]@users.noreply.github.com' };

export async function commitManifests(options: ManifestCommitOptions): Promise<ManifestCommitResult> {
  const remote = options.remote ?? 'origin';
  const branch = options.branch ?? 'main';
  const author = options.author ?? BOT_AUTHOR;
  const maxAttempts = options.maxAttempts ?? 4;
  const log = options.log ?? (() => undefined);
  const git = (...args: string[]) => execOk('git', ['-c', `user.name=${author.name}`, '-c', `user.email=${author.email}`, ...args], { cwd: options.repo });
  const tryGit = (...args: string[]) => exec('git', ['-c', `user.name=${author.name}`, '-c', `user.email=${author.email}`, ...args], { cwd: options.repo });
  const message = options.message.includes('[skip ci]') ? options.message : `${options.message}\n\n[skip ci]`;

  const commitIfChanged = async (): Promise<boolean> => {
    await options.synth();
    const status = git('status', '--porcelain', '--untracked-files=all', '--', ...options.paths);
    if (status.trim() === '') return false;
    git('add', '--all', '--', ...options.paths);
    git('commit', '--quiet', '--no-verify', '-m', message, '--', ...options.paths);
    return true;
  };

  if (!(await commitIfChanged())) {
    log(`no change under ${options.paths.join(', ')}; nothing to commit`);
    return { outcome: 'unchanged', attempts: 0, commit: undefined };
  }
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const push = tryGit('push', '--porcelain', remote, `HEAD:refs/heads/${branch}`);
    if (push.code === 0) {
      const commit = git('rev-parse', 'HEAD').trim();
      log(`pushed ${commit.slice(0, 12)} to ${remote}/${branch} (attempt ${attempt})`);
      return { outcome: 'pushed', attempts: attempt, commit };
    }
    log(`push rejected (attempt ${attempt}): ${(push.stderr || push.stdout).trim().split('\n').pop()}`);
    if (attempt === maxAttempts) break;
    git('fetch', '--quiet', remote, branch);
    const rebase = tryGit('rebase', '--quiet', 'FETCH_HEAD');
    if (rebase.code !== 0) {
      tryGit('rebase', '--abort');
      log('rebase conflicted on generated files; rebuilding the commit from a fresh synth on the new main');
      git('reset', '--quiet', '--hard', 'FETCH_HEAD');
      if (!(await commitIfChanged())) return { outcome: 'unchanged', attempts: attempt, commit: undefined };
    }
  }
  throw new Error(`could not push the manifest commit to ${remote}/${branch} after ${maxAttempts} attempts`);
}
