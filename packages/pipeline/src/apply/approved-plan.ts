import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { planStack, spawnTerraform, type TerraformMode, type TerraformRunner } from '../io/terraform';
import { planDigest, type PlanDigest } from '../pull-request/plan-digest';
import { summarizePlan, type PlanSummary } from '../pull-request/plan-summary';
import { APPLY_ARGS, applyOrder, type ApplyStacksResult, type StackApplyResult } from './apply';
import { openPlan, sealPlan, type KeyContext, type PlanKeyService } from './plan-artifact';
import { protectedDestroyGate, protectedDestroys, type ProtectedResourceRule } from './protected-resources';

/**
 * Apply what was approved, in two jobs. The plan job (read-only role, no environment) plans
 * every affected stack of the merge, gates protected destroys, seals each plan file
 * (plan-artifact.ts) and writes the manifest the comment and the apply job read. The apply
 * job (the protected environment: it starts only once approved) opens those exact plan
 * files and applies them; nothing is planned again. Terraform itself refuses a saved plan
 * whose state changed since it was made ("Saved plan is stale"), so a plan made without the
 * lock can never overwrite a newer apply.
 */

export const APPROVED_PLANS_MANIFEST = 'approved-plans.json';

export function sealedPlanFile(stack: string): string {
  return `${stack}.tfplan.sealed`;
}

export type PlannedStatus = 'planned' | 'no-changes' | 'blocked' | 'failed' | 'not-planned';

export interface PlannedStack {
  readonly stack: string;
  readonly status: PlannedStatus;
  readonly summary?: Pick<PlanSummary, 'add' | 'change' | 'destroy'>;
  readonly digest?: PlanDigest;
  /** Terraform's plan text (values marked sensitive are already hidden by Terraform). */
  readonly planText?: string;
  readonly message: string;
}

export interface ApprovedPlans {
  readonly commit: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  /** In apply order. */
  readonly stacks: readonly PlannedStack[];
  /** Every stack planned with changes or none, and no gate closed: the apply job may run. */
  readonly ok: boolean;
}

export interface PlanForApprovalOptions {
  readonly stacks: readonly string[];
  readonly order: readonly string[];
  readonly stacksDir: string;
  readonly rules: readonly ProtectedResourceRule[];
  readonly labels: () => Promise<readonly string[]>;
  readonly keys: PlanKeyService;
  /** Bound into every data key (e.g. the repository and run). */
  readonly keyContext: KeyContext;
  readonly commit: string;
  /** Where the sealed plans and the manifest go (the artifact's folder). */
  readonly outDir: string;
  /** How long an approval may take: the artifact's retention-days is set to match. */
  readonly maxAgeMs: number;
  /** @default 'cloud' */
  readonly mode?: TerraformMode;
  readonly runner?: TerraformRunner;
  readonly mirror?: string | null;
  readonly now?: () => Date;
  readonly log?: (line: string) => void;
}

/** Plans, gates and seals each stack in dependency order; the first that fails stops the ones after it. */
export async function planForApproval(options: PlanForApprovalOptions): Promise<ApprovedPlans> {
  const ordered = applyOrder(options.stacks, options.order);
  const now = options.now ?? (() => new Date());
  const log = options.log ?? (() => undefined);
  const created = now();
  mkdirSync(options.outDir, { recursive: true });
  let labels: Promise<readonly string[]> | undefined;
  const stacks: PlannedStack[] = [];
  for (const stack of ordered) {
    const stopped = stacks.find((s) => s.status === 'blocked' || s.status === 'failed');
    if (stopped) {
      stacks.push({ stack, status: 'not-planned', message: `${stack}: not planned; \`${stopped.stack}\` before it in the apply order cannot be applied.` });
      continue;
    }
    try {
      log(`${stack}: terraform plan (${options.mode ?? 'cloud'}) for approval`);
      // The merge-plan role is read-only: no lock; a stale plan is refused by terraform at apply.
      const plan = planStack({ stack, stackDir: join(options.stacksDir, stack), mode: options.mode ?? 'cloud', runner: options.runner, mirror: options.mirror, lock: 'skip-read-only' });
      const summary = summarizePlan(plan.planJson);
      const counts = { add: summary.add, change: summary.change, destroy: summary.destroy };
      const destroys = protectedDestroys(summary, options.rules);
      const gate = protectedDestroyGate(destroys, destroys.length > 0 ? await (labels ??= options.labels()) : [], stack);
      log(gate.message);
      const planned = { stack, summary: counts, digest: planDigest(summary), planText: plan.planText };
      if (!gate.allowed) {
        stacks.push({ ...planned, status: 'blocked', message: gate.message });
        continue;
      }
      if (plan.exitCode === 0) {
        stacks.push({ ...planned, status: 'no-changes', message: `${stack}: no changes, nothing to apply.` });
        continue;
      }
      const sealed = await sealPlan({ plan: readFileSync(plan.planFile), stack, commit: options.commit, keys: options.keys, context: options.keyContext, now: created, maxAgeMs: options.maxAgeMs });
      writeFileSync(join(options.outDir, sealedPlanFile(stack)), sealed);
      stacks.push({ ...planned, status: 'planned', message: gate.message });
    } catch (error) {
      stacks.push({ stack, status: 'failed', message: error instanceof Error ? error.message : String(error) });
    }
  }
  const result: ApprovedPlans = {
    commit: options.commit,
    createdAt: created.toISOString(),
    expiresAt: new Date(created.getTime() + options.maxAgeMs).toISOString(),
    stacks,
    ok: stacks.every((s) => s.status === 'planned' || s.status === 'no-changes'),
  };
  writeFileSync(join(options.outDir, APPROVED_PLANS_MANIFEST), `${JSON.stringify(result, null, 2)}\n`);
  return result;
}

export function readApprovedPlans(dir: string): ApprovedPlans {
  const file = join(dir, APPROVED_PLANS_MANIFEST);
  if (!existsSync(file)) throw new Error(`${file} is missing: the plan job's artifact was not downloaded, or it expired`);
  return JSON.parse(readFileSync(file, 'utf8')) as ApprovedPlans;
}

export interface ApplyApprovedOptions {
  /** The downloaded artifact. */
  readonly dir: string;
  readonly stacksDir: string;
  readonly keys: PlanKeyService;
  /** The commit this run is for; a manifest or plan of another commit is refused. */
  readonly commit: string;
  readonly runner?: TerraformRunner;
  readonly now?: () => Date;
  /**
   * Asked before a stack is applied; a rejection refuses that stack and stops the run, e.g.
   * a promoted standby (promoted-standby.ts), whose approved plan would reset its workers.
   * @default - every stack may be applied
   */
  readonly beforeStack?: (stack: string) => Promise<void>;
  readonly log?: (line: string) => void;
  readonly echo?: (stdout: string, stderr: string) => void;
}

/** Applies each sealed plan of the manifest in order, exactly that file; the first failure stops the rest. */
export async function applyApprovedPlans(options: ApplyApprovedOptions): Promise<ApplyStacksResult> {
  const manifest = readApprovedPlans(options.dir);
  if (manifest.commit !== options.commit) throw new Error(`approved plans are of ${manifest.commit.slice(0, 12)}; this run applies ${options.commit.slice(0, 12)}`);
  if (!manifest.ok) throw new Error('the plan job did not plan every stack (a gate closed or a plan failed): nothing to apply');
  const run = options.runner ?? spawnTerraform;
  const now = options.now ?? (() => new Date());
  const log = options.log ?? (() => undefined);
  const echo = options.echo ?? ((out: string, err: string) => void (process.stdout.write(out), process.stderr.write(err)));
  const env = { ...process.env, TF_IN_AUTOMATION: '1', TF_INPUT: '0' };
  const results: StackApplyResult[] = [];
  for (const planned of manifest.stacks) {
    const summary = planned.summary ? { ...planned.summary, deletions: [], replacements: [], changes: [], hasChanges: true } : undefined;
    const failed = results.find((r) => r.status === 'failed' || r.status === 'refused');
    if (failed) {
      results.push({ stack: planned.stack, status: 'not-applied', ...(summary ? { summary } : {}), message: `${planned.stack}: not applied; \`${failed.stack}\` before it in the apply order did not apply.` });
      continue;
    }
    if (planned.status === 'no-changes') {
      results.push({ stack: planned.stack, status: 'no-changes', ...(summary ? { summary } : {}), message: planned.message });
      continue;
    }
    try {
      await options.beforeStack?.(planned.stack);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log(message);
      results.push({ stack: planned.stack, status: 'refused', ...(summary ? { summary } : {}), message });
      continue;
    }
    try {
      const sealed = readFileSync(join(options.dir, sealedPlanFile(planned.stack)));
      const { plan } = await openPlan(sealed, { stack: planned.stack, commit: options.commit, keys: options.keys, now: now() });
      const workDir = join(options.stacksDir, planned.stack);
      const init = run(['init', '-input=false', '-no-color'], workDir, env);
      if (init.code !== 0) throw new Error(`${planned.stack}: terraform init failed (exit ${init.code}):\n${init.stderr || init.stdout}`);
      writeFileSync(join(workDir, 'tfplan'), plan, { mode: 0o600 });
      log(`${planned.stack}: terraform apply of the approved plan`);
      const applied = run(APPLY_ARGS, workDir, env);
      echo(applied.stdout, applied.stderr);
      if (applied.code !== 0) throw new Error(`${planned.stack}: terraform apply failed (exit ${applied.code}):\n${(applied.stderr || applied.stdout).trimEnd().split('\n').slice(-40).join('\n')}`);
      results.push({ stack: planned.stack, status: 'applied', ...(summary ? { summary } : {}), message: planned.message });
    } catch (error) {
      results.push({ stack: planned.stack, status: 'failed', ...(summary ? { summary } : {}), message: error instanceof Error ? error.message : String(error) });
    }
  }
  for (const r of results.filter((x) => x.status === 'not-applied')) log(r.message);
  return { ok: results.every((r) => r.status === 'applied' || r.status === 'no-changes'), results };
}
