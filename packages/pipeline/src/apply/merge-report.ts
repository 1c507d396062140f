import type { GitHubClient, PullRequest } from '../io/github';
import { details, fenced, headLines, table } from '../io/markdown';
import { upsertComment } from '../io/upsert';
import { GITHUB_COMMENT_LIMIT, planMarker } from '../pull-request/comment';
import { readPlanDigest } from '../pull-request/plan-digest';
import type { StackApplyResult } from './apply';
import type { ApprovedPlans } from './approved-plan';
import { comparePlans, renderPlanParity, type PlanParity } from './plan-parity';

/**
 * What a merge did, told on every pull request it included: one comment per merge commit,
 * written when the merge is planned (every stack waiting for approval) and rewritten when
 * the apply ends (applied, failed, not applied), with the counts, the run link, each
 * stack's difference from the pull request's plan and the plan that was approved.
 */

export function mergeMarker(commit: string): string {
  return `<!-- ha-kube-pipeline:merge sha=${commit} -->`;
}

export type MergeStackState = 'waiting for approval' | 'applied' | 'no changes' | 'failed' | 'not applied' | 'stopped by the protected-destroy gate' | 'plan failed';

const ICON: Record<MergeStackState, string> = {
  'waiting for approval': '⏳',
  applied: '✅',
  'no changes': '✅',
  failed: '❌',
  'not applied': '⏭️',
  'stopped by the protected-destroy gate': '🛑',
  'plan failed': '❌',
};

/** How the apply job ended, as `needs.<job>.result` says; undefined while it waits. */
export type ApplyOutcome = 'success' | 'failure' | 'cancelled' | 'skipped';

export interface ParityOfStack {
  readonly parity: PlanParity | undefined;
  /** e.g. "#12" */
  readonly source: string | undefined;
}

/** Each stack's state, from the plan manifest and (once it ran) the apply results. */
export function mergeStates(plans: ApprovedPlans, applied: readonly StackApplyResult[] | undefined, outcome: ApplyOutcome | undefined): { stack: string; state: MergeStackState; message: string }[] {
  return plans.stacks.map((p) => {
    if (p.status === 'blocked') return { stack: p.stack, state: 'stopped by the protected-destroy gate', message: p.message };
    if (p.status === 'failed') return { stack: p.stack, state: 'plan failed', message: p.message };
    if (p.status === 'not-planned') return { stack: p.stack, state: 'not applied', message: p.message };
    const result = applied?.find((r) => r.stack === p.stack);
    if (result) {
      const state: MergeStackState = result.status === 'applied' ? 'applied' : result.status === 'no-changes' ? 'no changes' : result.status === 'failed' ? 'failed' : 'not applied';
      return { stack: p.stack, state, message: result.message };
    }
    // Nothing to apply anywhere: the apply job is skipped and no approval is asked for.
    const nothingToApply = plans.ok && !plans.stacks.some((x) => x.status === 'planned');
    if (p.status === 'no-changes' && (nothingToApply || outcome === 'success')) return { stack: p.stack, state: 'no changes', message: p.message };
    if (outcome === undefined) return { stack: p.stack, state: plans.ok ? 'waiting for approval' : 'not applied', message: p.message };
    const why = outcome === 'skipped' ? 'the apply job did not run' : outcome === 'cancelled' ? 'the apply job was cancelled or its approval was rejected' : 'the apply job failed before this stack';
    return { stack: p.stack, state: 'not applied', message: `${p.stack}: not applied; ${why}.` };
  });
}

export function renderMergeComment(input: {
  readonly plans: ApprovedPlans;
  readonly applied?: readonly StackApplyResult[];
  readonly outcome?: ApplyOutcome;
  readonly parity: Readonly<Record<string, ParityOfStack>>;
  readonly runUrl: string | undefined;
  readonly limit?: number;
}): string {
  const states = mergeStates(input.plans, input.applied, input.outcome);
  const count = (...s: MergeStackState[]) => states.filter((x) => s.includes(x.state)).length;
  const rows = states.map((s) => {
    const p = input.plans.stacks.find((x) => x.stack === s.stack);
    return [`\`${s.stack}\``, `${ICON[s.state]} ${s.state}`, String(p?.summary?.add ?? ''), String(p?.summary?.change ?? ''), String(p?.summary?.destroy ?? '')];
  });
  const headline = `**${count('applied', 'no changes')} applied, ${count('failed', 'plan failed', 'stopped by the protected-destroy gate')} failed, ${count('waiting for approval')} waiting for approval, ${count('not applied')} not applied**`;
  const parity = input.plans.stacks.filter((p) => p.digest).map((p) => renderPlanParity(p.stack, input.parity[p.stack]?.parity, input.parity[p.stack]?.source));
  const problems = states.filter((s) => ['failed', 'plan failed', 'stopped by the protected-destroy gate', 'not applied'].includes(s.state)).map((s) => details(`Why \`${s.stack}\` is ${s.state}`, fenced(s.message)));
  const head = [
    mergeMarker(input.plans.commit),
    `### Merge \`${input.plans.commit.slice(0, 12)}\`: Terraform apply`,
    headline,
    table(['stack', 'state', 'add', 'change', 'destroy'], rows, ['l', 'l', 'r', 'r', 'r']),
    ...problems,
    ...parity,
  ].join('\n\n');
  const footer = `<sub>${[input.runUrl ? `[workflow run](${input.runUrl})` : 'local run', `planned ${input.plans.createdAt}`, `plans expire ${input.plans.expiresAt}`].join(' · ')}</sub>`;
  // The approved plans take what the limit leaves, shared equally.
  const limit = input.limit ?? GITHUB_COMMENT_LIMIT;
  const withPlans = input.plans.stacks.filter((p) => p.planText);
  const each = Math.max(0, Math.floor((limit - head.length - footer.length - 400 * (withPlans.length + 1)) / Math.max(1, withPlans.length)));
  const plans = withPlans.map((p) => {
    const cut = headLines((p.planText ?? '').trim(), each);
    const note = cut.kept < cut.total ? `\n\n> ✂️ ${cut.kept} of ${cut.total} lines shown; the run's summary has the plan in full.` : '';
    return details(`Approved plan of \`${p.stack}\` (${cut.total} lines)`, fenced(cut.text) + note);
  });
  return [head, ...plans, footer].join('\n\n').concat('\n');
}

/** The newest plan comment of `stack` on the pull requests (newest first), as a digest. */
export async function lastPullRequestPlan(client: GitHubClient, pulls: readonly PullRequest[], stack: string, author = 'github-actions[bot]'): Promise<{ digest: ReturnType<typeof readPlanDigest>; source: string } | undefined> {
  for (const pull of [...pulls].sort((a, b) => b.number - a.number)) {
    const comment = (await client.listIssueComments(pull.number)).find((c) => c.user?.login === author && c.body.includes(planMarker(stack)));
    const digest = comment ? readPlanDigest(comment.body) : undefined;
    if (digest) return { digest, source: `#${pull.number}` };
  }
  return undefined;
}

/** Parity of every planned stack with the last plan the pull requests showed. */
export async function parityWithPullRequests(client: GitHubClient, pulls: readonly PullRequest[], plans: ApprovedPlans): Promise<Record<string, ParityOfStack>> {
  const out: Record<string, ParityOfStack> = {};
  for (const p of plans.stacks) {
    if (!p.digest) continue;
    const last = await lastPullRequestPlan(client, pulls, p.stack);
    out[p.stack] = last?.digest ? { parity: comparePlans(last.digest, p.digest), source: last.source } : { parity: undefined, source: undefined };
  }
  return out;
}

/** Writes (or rewrites) the merge comment on every pull request the merge included. */
export async function postMergeComment(client: GitHubClient, pulls: readonly PullRequest[], commit: string, body: string): Promise<{ pull: number; action: string }[]> {
  const out: { pull: number; action: string }[] = [];
  for (const pull of pulls) out.push({ pull: pull.number, action: (await upsertComment(client, pull.number, mergeMarker(commit), body)).action });
  return out;
}
