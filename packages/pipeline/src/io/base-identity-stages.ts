import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { detachedWorktree } from './worktree';

/** Each cluster's identity stage at a commit; null: that commit's platform-config has no `serviceAccountIdentity` yet. */
export type IdentityStages = Readonly<Record<string, string | null>>;

interface BasePlatformConfig {
  defaultPlatform(): { clusters: readonly { name: string; serviceAccountIdentity?: { stage: string } }[] };
  bootstrapNames?(names: { cluster: string; ssmPrefix: string }): Record<string, unknown>;
}

/** What a commit declares about IRSA: each cluster's stage, and whether its control-plane nodes record the stage they booted with. */
export interface IdentityAtCommit {
  readonly stages: IdentityStages;
  /**
   * Whether that commit's node-bootstrap records each control-plane node's stage in SSM (its
   * platform-config derives `bootstrapNames().identityStageRecords`). false: nodes booted from it
   * have no record, and none can get one before a later commit's launch template is applied.
   */
  readonly stageRecords: boolean;
}

/**
 * The stages as the platform-config at `commit` declares them: that commit's own code, loaded from a
 * detached worktree (never today's defaults applied to yesterday's data). Throws when the commit
 * cannot be checked out or its platform-config does not load: the check must not pass blind.
 */
export async function identityAtCommit(repoRoot: string, commit: string): Promise<IdentityAtCommit> {
  const worktree = detachedWorktree(repoRoot, commit);
  if ('error' in worktree) throw new Error(`platform-config at ${commit}: ${worktree.error}`);
  try {
    const config = (await import(pathToFileURL(join(worktree.dir, 'packages/platform-config/src/index.ts')).href)) as BasePlatformConfig;
    const stages = Object.fromEntries(config.defaultPlatform().clusters.map((c) => [c.name, c.serviceAccountIdentity?.stage ?? null]));
    const stageRecords = typeof config.bootstrapNames === 'function' && 'identityStageRecords' in config.bootstrapNames({ cluster: 'probe', ssmPrefix: '/probe' });
    return { stages, stageRecords };
  } finally {
    worktree.cleanup();
  }
}

/** identityAtCommit's stages alone (the pull request's one-stage check). */
export async function identityStagesAtCommit(repoRoot: string, commit: string): Promise<IdentityStages> {
  return (await identityAtCommit(repoRoot, commit)).stages;
}
