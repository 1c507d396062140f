import { fenced } from '../io/markdown';
import type { PlanRun } from '../io/terraform';
import { summarizePlan } from '../pull-request/plan-summary';

export interface DriftReport {
  readonly drifted: boolean;
  /** The drift issue's body (opened or updated on drift; the closing comment when clean). */
  readonly issueBody: string;
  /** One line for the job summary. */
  readonly summary: string;
}

/** What `plan -detailed-exitcode` of `stack` on main says about drift (exit 2: the real infrastructure differs). */
export function driftReport(input: { readonly stack: string; readonly plan: Pick<PlanRun, 'exitCode' | 'planJson' | 'planText'>; readonly checkedBy: string | undefined; readonly commit: string }): DriftReport {
  const s = summarizePlan(input.plan.planJson);
  const drifted = input.plan.exitCode === 2;
  const by = input.checkedBy ?? 'a local run';
  const issueBody = drifted
    ? `\`terraform plan\` of \`${input.stack}\` no longer matches main: ${s.add} to add, ${s.change} to change, ${s.destroy} to destroy.\n\nLast checked by ${by} at commit \`${input.commit.slice(0, 12)}\`.\n\n<details><summary>Plan</summary>\n\n${fenced(input.plan.planText.slice(0, 50_000))}\n\n</details>\n`
    : `\`${input.stack}\` matches main again (checked by ${by}).\n`;
  const summary = `### Drift: \`${input.stack}\`\n\n${drifted ? `⚠️ drift: ${s.add} to add, ${s.change} to change, ${s.destroy} to destroy` : '✅ no drift'}\n`;
  return { drifted, issueBody, summary };
}
