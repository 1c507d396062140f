import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { compareWithBaseline, glob, loadBaseline, type BaselineEntry, type Finding } from './judges';
import { runChild } from './terraform';

/** The committed baseline for checkov on the plan JSON (same format as judges-baseline.yaml). */
export const PLAN_BASELINE = 'packages/e2e-aws/plan-checkov-baseline.yaml';

/** How a plan's findings are filed: `plan/<stack>.json`, so baseline entries can glob over stacks. */
export const planFile = (stack: string): string => `plan/${stack}.json`;

interface CheckovReport {
  readonly check_type: string;
  readonly results: { readonly failed_checks: readonly { check_id: string; check_name: string; resource: string }[] };
}

/**
 * `checkov -f <plan.json> --framework terraform_plan` (offline, from the judges venv): the
 * values the provider planned, including what the synthesized JSON leaves unknown or to
 * defaults. A file checkov cannot parse fails, never passes unjudged.
 */
export async function checkovPlan(binDir: string, stack: string, planJson: string): Promise<Finding[]> {
  const args = ['-f', planJson, '--framework', 'terraform_plan', '--quiet', '--compact', '--skip-download', '--soft-fail', '-o', 'json'];
  const r = await runChild(join(binDir, 'checkov'), args, { cwd: join(planJson, '..'), env: { ...process.env, BC_API_KEY: '' } });
  if (r.code !== 0) throw new Error(`checkov ${args.join(' ')} exited ${r.code}: ${r.stderr.slice(-2000)}`);
  const unparsed = /Failed to parse [^\n]*/.exec(r.stderr);
  if (unparsed) throw new Error(`checkov on ${stack}'s plan: ${unparsed[0]}`);
  const parsed = JSON.parse(r.stdout) as CheckovReport | CheckovReport[];
  const reports = (Array.isArray(parsed) ? parsed : [parsed]).filter((x) => x.check_type === 'terraform_plan');
  if (reports.length === 0) throw new Error(`checkov reported no terraform_plan results for ${planJson}; it read nothing`);
  return reports.flatMap((x) => x.results.failed_checks.map((c) => ({ tool: 'checkov' as const, rule: c.check_id, file: planFile(stack), resource: c.resource, title: c.check_name })));
}

export interface PlanJudgement {
  readonly findings: readonly Finding[];
  readonly fresh: readonly Finding[];
  /** Entries for the judged stacks that matched nothing (remove them). */
  readonly stale: readonly BaselineEntry[];
}

/**
 * Findings against the baseline. Stale entries count only for stacks that were judged (a run
 * limited by E2E_AWS_ONLY does not call the others' entries stale).
 */
export function judgePlanFindings(findings: readonly Finding[], baseline: readonly BaselineEntry[], judgedStacks: readonly string[]): PlanJudgement {
  const { fresh, stale } = compareWithBaseline(findings, baseline);
  return { findings, fresh, stale: stale.filter((e) => judgedStacks.some((s) => glob(e.file).test(planFile(s)))) };
}

export function loadPlanBaseline(repoRoot: string): BaselineEntry[] {
  const file = join(repoRoot, PLAN_BASELINE);
  if (!existsSync(file)) throw new Error(`${PLAN_BASELINE} is missing`);
  return loadBaseline(file);
}
