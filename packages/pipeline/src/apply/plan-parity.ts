import { table } from '../io/markdown';
import type { PlanDigest } from '../pull-request/plan-digest';
import type { ChangeKind } from '../pull-request/plan-summary';

/**
 * How the plan made at merge differs from the last plan the pull request showed (its
 * comment's digest, pull-request/plan-digest.ts), so a reviewer sees what the approval
 * covers that the review did not: a resource only in the merge plan, one only in the PR's,
 * or one whose change differs (e.g. update in the PR, replace now).
 */

export interface PlanParity {
  readonly onlyAtMerge: PlanDigest;
  readonly onlyInPullRequest: PlanDigest;
  readonly differs: readonly { readonly address: string; readonly pullRequest: ChangeKind; readonly merge: ChangeKind }[];
  readonly same: boolean;
}

export function comparePlans(pullRequest: PlanDigest, merge: PlanDigest): PlanParity {
  const pr = new Map(pullRequest);
  const now = new Map(merge);
  const onlyAtMerge = merge.filter(([a]) => !pr.has(a));
  const onlyInPullRequest = pullRequest.filter(([a]) => !now.has(a));
  const differs = merge.filter(([a, k]) => pr.has(a) && pr.get(a) !== k).map(([address, k]) => ({ address, pullRequest: pr.get(address) as ChangeKind, merge: k }));
  return { onlyAtMerge, onlyInPullRequest, differs, same: onlyAtMerge.length + onlyInPullRequest.length + differs.length === 0 };
}

/** The "difference from the pull request's plan" section of one stack. */
export function renderPlanParity(stack: string, parity: PlanParity | undefined, source: string | undefined): string {
  const title = `#### \`${stack}\`: difference from the pull request's plan`;
  if (!parity) return `${title}\n\n⚠️ No plan of \`${stack}\` was found on the merged pull request(s): compare this plan with the code yourself before approving.`;
  if (parity.same) return `${title}\n\n✅ Same resources and changes as the last plan of ${source}.`;
  const rows = [
    ...parity.onlyAtMerge.map(([a, k]) => [`\`${a}\``, 'only at merge', '', k]),
    ...parity.onlyInPullRequest.map(([a, k]) => [`\`${a}\``, 'only in the pull request', k, '']),
    ...parity.differs.map((d) => [`\`${d.address}\``, 'changed differently', d.pullRequest, d.merge]),
  ];
  return `${title}\n\n> [!WARNING]\n> This plan differs from the last plan of ${source} (main moved, or the infrastructure changed since).\n\n${table(['resource', 'difference', 'pull request', 'merge'], rows)}`;
}
