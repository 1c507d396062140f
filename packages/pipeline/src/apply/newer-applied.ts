import type { Platform } from '@platform/platform-config';
import type { GitHubActions } from '../io/github-actions';
import { hasRemote } from '../io/git';
import { appliedBeyond, appliedRef } from './applied-ref';
import { appliedBeyondOnGitHub } from './applied-ref-github';

/**
 * A later merge's run may have applied first; applying this older commit would roll it back.
 * Returns the message to report when the applied tag already names a later commit that
 * includes `sha`, else undefined. In CI through the API (the checkout keeps no credentials,
 * and its tags are as old as the job's start); locally through git, when there is an origin.
 */
export async function newerCommitApplied(platform: Platform, actions: GitHubActions, repoRoot: string, sha: string): Promise<string | undefined> {
  if (!actions.canCallGitHub && !hasRemote(repoRoot, 'origin')) return undefined;
  const ref = appliedRef(platform);
  const newer = actions.canCallGitHub ? await appliedBeyondOnGitHub(actions.github(), ref, sha) : appliedBeyond({ repo: repoRoot, ref, sha });
  return newer ? `${ref} already names ${newer.slice(0, 12)}, which includes ${sha.slice(0, 12)}: its stacks are applied from newer code; nothing applied` : undefined;
}
