import { execFile } from 'node:child_process';
import { deployRefOf } from '@platform/platform-config';

/** What a deploy ref did: moved forward, already there, or left on a later commit that includes ours. */
export type RefMove = 'moved' | 'unchanged' | 'kept';

/**
 * The Git side of a promotion or fail-back: commit the files that record the new serving
 * state, and move a cluster's deploy ref (`deploy/<cluster>`, what its Flux follows) to that
 * commit. Injected so the steps run the same against a real repository or a test's.
 */
export interface GitPort {
  /** Commits `files` (paths in the work tree) with `message`; returns the new commit. */
  commit(files: readonly string[], message: string): Promise<string>;
  /** Publishes `sha` on the shared branch the state must live on (fast-forward only). */
  publish(sha: string): Promise<void>;
  /** Moves `cluster`'s deploy ref forward to `sha`; never backwards nor sideways. */
  moveDeployRef(cluster: string, sha: string): Promise<RefMove>;
}

export interface GitCliProps {
  /** The work tree (the repository root). */
  readonly repo: string;
  /** @default 'origin' */
  readonly remote?: string;
  /** The branch the commit is pushed to. @default 'main' */
  readonly branch?: string;
  /** @default process.env */
  readonly env?: NodeJS.ProcessEnv;
}

/** GitPort over the `git` CLI. `publish` and `moveDeployRef` push to the remote without force. */
export class GitCli implements GitPort {
  constructor(private readonly props: GitCliProps) {}

  private git(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile('git', ['-C', this.props.repo, ...args], { env: this.props.env ?? process.env }, (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr) }),
      );
    });
  }

  private async must(...args: string[]): Promise<string> {
    const r = await this.git(...args);
    if (r.code !== 0) throw new Error(`git ${args.join(' ')} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim()}`);
    return r.stdout.trim();
  }

  async commit(files: readonly string[], message: string): Promise<string> {
    await this.must('add', '--', ...files);
    await this.must('commit', '-m', message, '--', ...files);
    return this.must('rev-parse', 'HEAD');
  }

  async publish(sha: string): Promise<void> {
    const branch = this.props.branch ?? 'main';
    const r = await this.git('push', '--porcelain', this.props.remote ?? 'origin', `${sha}:refs/heads/${branch}`);
    if (r.code !== 0) throw new Error(`could not push ${sha.slice(0, 12)} to ${branch} (it moved meanwhile, or is protected): ${(r.stderr || r.stdout).trim().split('\n').pop()}`);
  }

  async moveDeployRef(cluster: string, sha: string): Promise<RefMove> {
    const remote = this.props.remote ?? 'origin';
    const ref = deployRefOf(cluster);
    const current = (await this.must('ls-remote', remote, ref)).split(/\s+/)[0] || undefined;
    if (current === sha) return 'unchanged';
    if (current) {
      await this.must('fetch', '--quiet', remote, ref);
      if ((await this.git('merge-base', '--is-ancestor', sha, current)).code === 0) return 'kept';
      if ((await this.git('merge-base', '--is-ancestor', current, sha)).code !== 0) {
        throw new Error(`${ref} on ${remote} names ${current.slice(0, 12)}, which ${sha.slice(0, 12)} does not include: refusing to move it sideways (rebase the state commit onto it, or move it by hand: docs/runbooks/deploy-refs.md)`);
      }
    }
    // No --force: the remote refuses anything but a fast-forward, also against a racing push.
    const pushed = await this.git('push', '--porcelain', remote, `${sha}:${ref}`);
    if (pushed.code !== 0) throw new Error(`push of ${ref} to ${sha.slice(0, 12)} rejected: ${(pushed.stderr || pushed.stdout).trim().split('\n').pop()}`);
    return 'moved';
  }
}
