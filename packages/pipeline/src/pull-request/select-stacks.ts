import type { Platform } from '@platform/platform-config';
import { appliedRef, applyBase } from '../apply/applied-ref';
import { changedFilesSince, isCommit } from '../io/git';
import { GITOPS_APP_DIR, INFRA_APP_DIR, type PipelinePaths } from '../io/paths';
import { sourceRootsOf } from '../io/workspace';
import { affectedClusters, manifestOnlyClusters } from './affected-clusters';
import { affectedStacks } from './affected-stacks';
import { orderedStacks } from './pr-flow';

export type StackSelection =
  /** Changes since a base commit (pull request, push). */
  | { readonly kind: 'base'; readonly base: string }
  | { readonly kind: 'all' }
  /** Changes since the last applied commit (the apply workflow; see applied-ref.ts). */
  | { readonly kind: 'since-applied' };

export interface SelectedStacks {
  /** Affected stacks, in dependency order. */
  readonly stacks: readonly string[];
  /** Clusters whose manifests change with none of their stacks (pull requests only). */
  readonly manifestOnlyClusters: readonly string[];
}

/**
 * Affected stacks (or all) in dependency order. A base that is no commit here (a push's
 * `before` on a new branch or after a force push) selects every stack: planning too much is
 * safe, missing a stack is not. Since-applied diffs against the applied tag, so merges whose
 * run was cancelled or failed are applied by the next run.
 */
export function selectStacks(paths: PipelinePaths, platform: Platform, selection: StackSelection, note: (line: string) => void): SelectedStacks {
  const ordered = orderedStacks(paths, platform);
  let base: string | undefined = selection.kind === 'base' ? selection.base : undefined;
  if (selection.kind === 'since-applied') {
    const since = applyBase(paths.repoRoot, appliedRef(platform));
    note(since.reason);
    base = since.kind === 'since' ? since.base : undefined;
  } else if (base !== undefined && !isCommit(paths.repoRoot, base)) {
    note(`base ${base} is not a commit in this clone; selecting every stack`);
    base = undefined;
  }
  if (base === undefined) return { stacks: ordered, manifestOnlyClusters: [] };
  const changedFiles = changedFilesSince(paths.repoRoot, base);
  const affected = affectedStacks({ changedFiles, platform, stacks: ordered, infraSourceRoots: sourceRootsOf(paths.repoRoot, INFRA_APP_DIR) });
  const clusters =
    selection.kind === 'since-applied'
      ? []
      : manifestOnlyClusters(
          affectedClusters({ changedFiles, platform, gitopsSourceRoots: sourceRootsOf(paths.repoRoot, GITOPS_APP_DIR) }),
          affected.map((a) => a.cluster),
        ).map((c) => c.cluster);
  return { stacks: affected.map((a) => a.stack), manifestOnlyClusters: clusters };
}
