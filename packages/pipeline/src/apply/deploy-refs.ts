import { deployRefOf, type Platform } from '@platform/platform-config';
import { table } from '../io/markdown';
import type { StackApplyResult } from './apply';
import type { ApprovedPlans } from './approved-plan';
import { mergeStates, type ApplyOutcome } from './merge-report';

/**
 * Which clusters' deploy refs (platform-config `deployRefOf`) move to a merged commit. A
 * cluster moves when every stack of it that the merge touched applied (or had no changes),
 * and at once when the merge touched none of its stacks (a manifest-only change). A failed
 * stack, one not applied after an earlier failure, one stopped by a gate, or one whose
 * approval never came holds the cluster on its last good commit.
 */

export interface DeployDecision {
  readonly cluster: string;
  readonly ref: string;
  readonly move: boolean;
  readonly reason: string;
  /** Not decided yet: its touched stacks are still to be applied (the early, untouched-only pass). */
  readonly pending?: boolean;
}

export interface MergeOutcome {
  /** The stacks the merge touched (the apply run's affected stacks, since the applied tag). */
  readonly touched: readonly string[];
  /** The plan job's manifest; undefined when the plan job did not get that far. */
  readonly plans: ApprovedPlans | undefined;
  /** The apply job's results, when it ran. */
  readonly applied: readonly StackApplyResult[] | undefined;
  /** `needs.apply.result`. */
  readonly outcome: ApplyOutcome;
}

/**
 * Before the apply (`untouched`): only the clusters the merge touched no stack of, which move
 * at once, without waiting for an approval of other clusters' stacks; the others are pending.
 */
export function untouchedDecisions(platform: Platform, touched: readonly string[]): DeployDecision[] {
  return platform.clusters.map((cluster) => {
    const ref = deployRefOf(cluster.name);
    const stack = platform.namesOf(cluster).stack;
    return touched.includes(stack)
      ? { cluster: cluster.name, ref, move: false, pending: true, reason: `\`${stack}\` changed: decided after its apply` }
      : { cluster: cluster.name, ref, move: true, reason: `no stack of ${cluster.name} changed: manifests go live now` };
  });
}

export function deployDecisions(platform: Platform, merge: MergeOutcome): DeployDecision[] {
  const states = merge.plans ? mergeStates(merge.plans, merge.applied, merge.outcome) : [];
  return platform.clusters.map((cluster) => {
    const ref = deployRefOf(cluster.name);
    const stack = platform.namesOf(cluster).stack;
    if (!merge.touched.includes(stack)) return { cluster: cluster.name, ref, move: true, reason: `no stack of ${cluster.name} changed: manifests go live now` };
    const state = states.find((s) => s.stack === stack);
    if (!state) return { cluster: cluster.name, ref, move: false, reason: `\`${stack}\` was not planned (the plan job failed): held` };
    if (state.state === 'applied' || state.state === 'no changes') return { cluster: cluster.name, ref, move: true, reason: `\`${stack}\` ${state.state}` };
    return { cluster: cluster.name, ref, move: false, reason: `\`${stack}\` ${state.state}: held on the last commit whose infrastructure is applied` };
  });
}

export function renderDeploySummary(sha: string, rows: readonly (DeployDecision & { readonly result?: string })[]): string {
  return `### Deploy refs\n\n${table(
    ['cluster', 'ref', 'decision', 'why'],
    rows.map((r) => [r.cluster, `\`${r.ref.replace('refs/heads/', '')}\``, r.move ? `➡️ ${r.result ?? `moved to \`${sha.slice(0, 12)}\``}` : r.pending ? '⏳ after the apply' : '⏸️ held', r.reason]),
  )}\n`;
}
