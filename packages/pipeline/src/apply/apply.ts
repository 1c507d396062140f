import { join } from 'node:path';
import { fenced, table } from '../io/markdown';
import { summarizePlan, type PlanSummary } from '../pull-request/plan-summary';
import { protectedDestroyGate, protectedDestroys, type ProtectedResourceRule } from './protected-resources';
import { planStack, spawnTerraform, type TerraformRunner } from '../io/terraform';

/**
 * The apply of a merge, as one job runs it: the stacks one after another in dependency
 * order, each planned, gated (protected destroys) and then applied from exactly the plan
 * file that was gated. The first stack that fails (plan or apply error, gate closed) stops
 * the run: the stacks after it may depend on it, so they are reported as not applied.
 * The order is this module's, never the caller's (a workflow matrix does not promise one).
 */

export type StackApplyStatus = 'applied' | 'no-changes' | 'dry-run' | 'refused' | 'blocked' | 'failed' | 'not-applied';

/** A stack that ends so keeps the stacks after it from applying. */
const STOPS_THE_RUN: ReadonlySet<StackApplyStatus> = new Set(['refused', 'blocked', 'failed']);

export interface StackApplyResult {
  readonly stack: string;
  readonly status: StackApplyStatus;
  /** Counts of the plan, when the stack got that far. */
  readonly summary?: PlanSummary;
  /** The gate's decision, the error, or why the stack was not applied. */
  readonly message: string;
}

export interface ApplyStacksResult {
  readonly ok: boolean;
  readonly results: readonly StackApplyResult[];
}

export interface ApplyStacksOptions {
  /** The stacks to apply, in any order (e.g. the affected stacks of a merge). */
  readonly stacks: readonly string[];
  /** Every synthesized stack in dependency order (see orderedStacks). */
  readonly order: readonly string[];
  /** apps/infra/cdktf.out/stacks */
  readonly stacksDir: string;
  readonly rules: readonly ProtectedResourceRule[];
  /** Labels of the pull request(s) that merged the commit; asked at most once, and only when a plan destroys a protected resource. */
  readonly labels: () => Promise<readonly string[]>;
  /**
   * Asked before a stack is planned; a rejection refuses that stack (nothing planned or
   * applied) and stops the run like a closed gate, e.g. a promoted standby (assertNotPromoted).
   * @default - every stack may be applied
   */
  readonly beforeStack?: (stack: string) => Promise<void>;
  /** `cloud` plans against the real state; `offline` (dry runs) plans a copy with no credentials. @default 'cloud' */
  readonly mode?: 'offline' | 'cloud';
  /** Plan and gate every stack, apply none. @default false */
  readonly dryRun?: boolean;
  readonly runner?: TerraformRunner;
  /** Provider mirror for offline plans; null downloads from the registry. */
  readonly mirror?: string | null;
  readonly log?: (line: string) => void;
  /** Where terraform apply's output goes. @default process.stdout / process.stderr */
  readonly echo?: (stdout: string, stderr: string) => void;
}

/** `requested` in the order of `order`, without repeats; throws naming any stack that is not synthesized. */
export function applyOrder(requested: readonly string[], order: readonly string[]): string[] {
  const unknown = requested.filter((s) => !order.includes(s));
  if (unknown.length > 0) {
    throw new Error(`stacks ${JSON.stringify(unknown)} are not synthesized stacks; expected some of ${order.join(', ')}`);
  }
  return order.filter((s) => requested.includes(s));
}

/** `terraform apply` of the saved plan file `tfplan` in the working folder: exactly that plan, nothing planned again. */
export const APPLY_ARGS = ['apply', '-input=false', '-no-color', '-lock-timeout=5m', 'tfplan'] as const;

function lastLines(text: string, count: number): string {
  return text.trimEnd().split('\n').slice(-count).join('\n');
}

export async function applyStacks(options: ApplyStacksOptions): Promise<ApplyStacksResult> {
  const ordered = applyOrder(options.stacks, options.order);
  const run = options.runner ?? spawnTerraform;
  const log = options.log ?? (() => undefined);
  const echo =
    options.echo ??
    ((out: string, err: string) => {
      process.stdout.write(out);
      process.stderr.write(err);
    });
  const mode = options.mode ?? 'cloud';
  let labels: Promise<readonly string[]> | undefined;
  const results: StackApplyResult[] = [];
  log(`apply order: ${ordered.join(', ') || 'none'}`);

  for (const [index, stack] of ordered.entries()) {
    const failed = results.find((r) => STOPS_THE_RUN.has(r.status));
    if (failed) {
      results.push({ stack, status: 'not-applied', message: `${stack}: not applied; \`${failed.stack}\` before it in the apply order did not apply.` });
      continue;
    }
    let summary: PlanSummary | undefined;
    try {
      await options.beforeStack?.(stack);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log(message);
      results.push({ stack, status: 'refused', message });
      continue;
    }
    try {
      log(`${stack} (${index + 1}/${ordered.length}): terraform plan (${mode})`);
      const plan = planStack({ stack, stackDir: join(options.stacksDir, stack), mode, runner: options.runner, mirror: options.mirror });
      summary = summarizePlan(plan.planJson);
      const destroys = protectedDestroys(summary, options.rules);
      const gate = protectedDestroyGate(destroys, destroys.length > 0 ? await (labels ??= options.labels()) : [], stack);
      log(gate.message);
      if (!gate.allowed) {
        results.push({ stack, status: 'blocked', summary, message: gate.message });
        continue;
      }
      if (options.dryRun) {
        results.push({ stack, status: 'dry-run', summary, message: gate.message });
        continue;
      }
      if (plan.exitCode === 0) {
        results.push({ stack, status: 'no-changes', summary, message: `${gate.message}\n${stack}: no changes, nothing to apply.` });
        continue;
      }
      // The plan file that was just gated, in the folder it was written to: nothing is planned again.
      log(`${stack}: terraform apply ${plan.planFile}`);
      const applied = run(APPLY_ARGS, plan.workDir, { ...process.env, TF_IN_AUTOMATION: '1', TF_INPUT: '0' });
      echo(applied.stdout, applied.stderr);
      if (applied.code !== 0) {
        results.push({ stack, status: 'failed', summary, message: `${stack}: terraform apply failed (exit ${applied.code}):\n${lastLines(applied.stderr || applied.stdout, 40)}` });
        continue;
      }
      results.push({ stack, status: 'applied', summary, message: gate.message });
    } catch (error) {
      results.push({ stack, status: 'failed', ...(summary ? { summary } : {}), message: error instanceof Error ? error.message : String(error) });
    }
  }
  for (const r of results.filter((x) => x.status === 'not-applied')) log(r.message);
  return { ok: results.every((r) => !STOPS_THE_RUN.has(r.status) && r.status !== 'not-applied'), results };
}

const STATUS_TEXT: Record<StackApplyStatus, string> = {
  applied: '✅ applied',
  'no-changes': '✅ no changes',
  'dry-run': '☑️ gate passed (dry run, not applied)',
  refused: '🛑 refused before planning',
  blocked: '🛑 stopped by the protected-destroy gate',
  failed: '❌ failed',
  'not-applied': '⏭️ not applied',
};

/** The job summary: one row per stack in apply order, the stacks that were not applied, then each stack's detail. */
export function renderApplySummary(result: ApplyStacksResult): string {
  if (result.results.length === 0) return '## Apply\n\nNo stack to apply.\n';
  const rows = result.results.map((r) => [
    `\`${r.stack}\``,
    STATUS_TEXT[r.status],
    r.summary ? String(r.summary.add) : '',
    r.summary ? String(r.summary.change) : '',
    r.summary ? String(r.summary.destroy) : '',
  ]);
  const stopped = result.results.find((r) => STOPS_THE_RUN.has(r.status));
  const skipped = result.results.filter((r) => r.status === 'not-applied').map((r) => `\`${r.stack}\``);
  const notApplied = stopped
    ? `\n\n**\`${stopped.stack}\` did not apply${skipped.length > 0 ? `; not applied after it: ${skipped.join(', ')}` : ''}.**`
    : '';
  const details = result.results.filter((r) => r.status !== 'not-applied').map((r) => `### Apply \`${r.stack}\`\n\n${fenced(r.message)}`);
  return [`## Apply\n\n${table(['stack', 'result', 'add', 'change', 'destroy'], rows, ['l', 'l', 'r', 'r', 'r'])}${notApplied}`, ...details].join('\n\n').concat('\n');
}
