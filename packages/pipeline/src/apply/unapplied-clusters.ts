import type { Platform } from '@platform/platform-config';
import { affectedStacks } from '../pull-request/affected-stacks';
import { INFRA_APP_DIR, type PipelinePaths } from '../io/paths';
import { sourceRootsOf } from '../io/workspace';
import { exec } from '../private/exec';
import { appliedRef } from './applied-ref';

const git = (repo: string, ...args: string[]) => exec('git', args, { cwd: repo });

/**
 * The clusters with a stack change between the last applied commit (the applied tag) and `upTo`,
 * each with why: what a deploy ref must not move past (issue #16: manifests go live only after
 * their infrastructure). Uses the apply's own change detection (conservative: anything the infra
 * app is built from affects every stack). No applied tag yet: nothing was ever applied, so
 * nothing is held; history rewritten past the tag: every cluster is held.
 */
export function unappliedClusters(paths: PipelinePaths, platform: Platform, upTo: string): Map<string, string> {
  const repo = paths.repoRoot;
  const tag = appliedRef(platform);
  const applied = git(repo, 'rev-parse', '--verify', '--quiet', `${tag}^{commit}`);
  const held = new Map<string, string>();
  if (applied.code !== 0) return held;
  const appliedCommit = applied.stdout.trim();
  if (git(repo, 'merge-base', '--is-ancestor', upTo, appliedCommit).code === 0) return held;
  if (git(repo, 'merge-base', '--is-ancestor', appliedCommit, upTo).code !== 0) {
    for (const c of platform.clusters) held.set(c.name, `${tag} (${appliedCommit.slice(0, 12)}) is not an ancestor of ${upTo.slice(0, 12)}: history was rewritten, so what was applied is unknown`);
    return held;
  }
  const changedFiles = git(repo, 'diff', '--name-only', '--no-renames', appliedCommit, upTo).stdout.split('\n').filter(Boolean);
  // Cluster stacks only (named by platform-config, no synth needed): account-level stacks hold no cluster's ref.
  const stacks = affectedStacks({ changedFiles, platform, stacks: platform.clusters.map((c) => platform.namesOf(c).stack), infraSourceRoots: sourceRootsOf(repo, INFRA_APP_DIR) });
  for (const s of stacks) {
    if (s.cluster !== undefined && !held.has(s.cluster)) held.set(s.cluster, `stack ${s.stack} changed after the applied commit ${appliedCommit.slice(0, 12)} (${s.because}) and is not applied yet`);
  }
  return held;
}
