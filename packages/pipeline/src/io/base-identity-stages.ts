import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { detachedWorktree } from './worktree';

/** Each cluster's identity stage at a commit; null: that commit's platform-config has no `serviceAccountIdentity` yet. */
export type IdentityStages = Readonly<Record<string, string | null>>;

interface BasePlatformConfig {
  defaultPlatform(): { clusters: readonly { name: string; serviceAccountIdentity?: { stage: string } }[] };
}

/**
 * The stages as the platform-config at `commit` declares them: that commit's own code, loaded from a
 * detached worktree (never today's defaults applied to yesterday's data). Throws when the commit
 * cannot be checked out or its platform-config does not load: the check must not pass blind.
 */
export async function identityStagesAtCommit(repoRoot: string, commit: string): Promise<IdentityStages> {
  const worktree = detachedWorktree(repoRoot, commit);
  if ('error' in worktree) throw new Error(`platform-config at ${commit}: ${worktree.error}`);
  try {
    const config = (await import(pathToFileURL(join(worktree.dir, 'packages/platform-config/src/index.ts')).href)) as BasePlatformConfig;
    return Object.fromEntries(config.defaultPlatform().clusters.map((c) => [c.name, c.serviceAccountIdentity?.stage ?? null]));
  } finally {
    worktree.cleanup();
  }
}
