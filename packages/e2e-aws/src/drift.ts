import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Platform } from '@platform/platform-config';
import { runChild, type Terraform } from './terraform';
import { awsCli } from './aws-cli';
import { HARNESS_ARTEFACTS } from './artefact-override';
import { judgeIdempotence, type PlanJson } from './plan-judge';

export interface DriftReport {
  readonly exitCode: number;
  /** `add/change/destroy` from the command's job summary, or `none` when it found no drift. */
  readonly counts: string;
  /**
   * What the command's own plan (the `tfplan` it leaves in the stack directory) changes, per
   * resource: `address (actions: paths)`, leaving out only the artefacts the override cannot
   * silence (HARNESS_ARTEFACTS): what exactly drifted, which the exit code alone does not say.
   */
  readonly changed: readonly string[];
}

export interface DriftResult {
  readonly ok: boolean;
  readonly summary: string;
  readonly before: Record<string, DriftReport>;
  readonly after: Record<string, DriftReport>;
}

export interface DriftPhaseOptions {
  readonly repoRoot: string;
  readonly workRoot: string;
  readonly env: NodeJS.ProcessEnv;
  readonly stacks: readonly string[];
  readonly logDir: string;
  readonly log: (line: string) => void;
  readonly terraform: Terraform;
  /** Names the control-plane ASG of the target stack's cluster. */
  readonly platform: Platform;
  /** The stack changed out of band. @default the first cluster stack */
  readonly target?: string;
}

/** `npm run pipeline:drift -- --stack <stack> --no-issue` against the work root, as drift.yml runs it. */
async function driftCommand(options: DriftPhaseOptions, stack: string, tag: string): Promise<DriftReport> {
  const summaryFile = join(options.logDir, `${stack}-drift-${tag}.summary.md`);
  rmSync(summaryFile, { force: true });
  const result = await runChild('npx', ['tsx', 'packages/pipeline/src/cli/main.ts', 'drift', '--stack', stack, '--no-issue'], {
    cwd: options.repoRoot,
    env: { ...options.env, PIPELINE_REPO_ROOT: options.workRoot, GITHUB_STEP_SUMMARY: summaryFile, GITHUB_OUTPUT: '' },
  });
  writeFileSync(join(options.logDir, `${stack}-drift-${tag}.log`), `${result.stdout}\n${result.stderr}`);
  const text = existsSync(summaryFile) ? readFileSync(summaryFile, 'utf8') : '';
  const m = /drift: (\d+) to add, (\d+) to change, (\d+) to destroy/.exec(text);
  if (result.code !== 0 && result.code !== 1) throw new Error(`pipeline:drift --stack ${stack} exited ${result.code}:\n${result.stderr.slice(-2000)}`);
  const dir = join(options.workRoot, 'apps/infra/cdktf.out/stacks', stack);
  const plan = JSON.parse((await options.terraform.run(stack, `drift-${tag}-show`, dir, ['show', '-json', 'tfplan'])).stdout) as PlanJson;
  const changed = judgeIdempotence(plan, HARNESS_ARTEFACTS).changed.map((c) => `${c.address} (${c.actions}: ${c.paths.join(', ') || '-'})`);
  return { exitCode: result.code, counts: m ? `${m[1]}/${m[2]}/${m[3]}` : 'none', changed };
}

export interface StateResource {
  readonly type: string;
  readonly address: string;
  readonly values: Record<string, unknown>;
}

/** The resources in a stack's state (`terraform show -json`). */
export async function stateResources(terraform: Terraform, workRoot: string, stack: string): Promise<StateResource[]> {
  const shown = JSON.parse((await terraform.run(stack, 'show-state', join(workRoot, 'apps/infra/cdktf.out/stacks', stack), ['show', '-json'])).stdout) as {
    values?: { root_module?: { resources?: StateResource[] } };
  };
  return shown.values?.root_module?.resources ?? [];
}

/**
 * What the drift phase changes out of band in `stack`, the same every run: the control-plane
 * ASG of the cluster's first Availability Zone (`names.controlPlaneAsg`, the group an incident
 * or a hand-fix on the control plane touches), and the ingress rule first by address.
 */
export function pickDriftTargets(resources: readonly StateResource[], platform: Platform, stack: string): { rule: StateResource; asg: StateResource } {
  const cluster = platform.clusters.find((c) => platform.namesOf(c).stack === stack);
  if (!cluster) throw new Error(`drift: ${stack} is not a cluster stack (${platform.clusters.map((c) => platform.namesOf(c).stack).join(', ')})`);
  const asgName = platform.namesOf(cluster).controlPlaneAsg(cluster.availabilityZones[0]!);
  const asg = resources.find((r) => r.type === 'aws_autoscaling_group' && r.values.name === asgName);
  const rule = resources.filter((r) => r.type === 'aws_vpc_security_group_ingress_rule').sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0))[0];
  if (!asg) throw new Error(`drift: ${stack} has no autoscaling group named ${asgName} (names.controlPlaneAsg of ${cluster.availabilityZones[0]})`);
  if (!rule) throw new Error(`drift: ${stack} has no aws_vpc_security_group_ingress_rule to revoke`);
  return { rule, asg };
}

/**
 * Judged on the drift command's own verdict, its exit code (0 no drift, 1 drift): before the
 * change 0 for every stack (the override's ignore_changes keep the emulator artefacts out of its
 * plans); after it 1 for the target only, whose plan changes exactly `expected` (the revoked rule
 * to create, the ASG's max size to update). With artefacts only the harness can filter
 * (`harnessFiltered`), a stack whose plan changes nothing else counts as clean.
 */
export function judgeDrift(
  stacks: readonly string[],
  before: Readonly<Record<string, DriftReport>>,
  after: Readonly<Record<string, DriftReport>>,
  target: string,
  expected: readonly string[],
  harnessFiltered = HARNESS_ARTEFACTS.length > 0,
): { ok: boolean; reported: string[]; cleanBefore: boolean } {
  const drifted = (r: DriftReport) => (harnessFiltered ? r.changed.length > 0 : r.exitCode !== 0);
  const reported = stacks.filter((s) => drifted(after[s]));
  const cleanBefore = stacks.every((s) => !drifted(before[s]) && before[s].changed.length === 0);
  const ok = cleanBefore && reported.length === 1 && reported[0] === target && after[target].exitCode === 1 && JSON.stringify([...after[target].changed].sort()) === JSON.stringify([...expected].sort());
  return { ok, reported, cleanBefore };
}

/**
 * Runs the drift command for every stack (baseline: no drift anywhere), changes one stack out of band through moto with the AWS CLI
 * (revokes one managed ingress rule, raises one ASG's max size), runs it again, and passes
 * when the command finds nothing before and afterwards drift in that stack only: exactly the
 * rule to add and the ASG's max size to change.
 */
export async function runDriftPhase(options: DriftPhaseOptions): Promise<DriftResult> {
  const target = options.target ?? options.stacks.find((s) => s !== 'ci-identity') ?? options.stacks[0];
  const before: Record<string, DriftReport> = {};
  const after: Record<string, DriftReport> = {};
  for (const stack of options.stacks) {
    before[stack] = await driftCommand(options, stack, 'before');
    options.log(`  drift before: ${stack} exit ${before[stack].exitCode} (${before[stack].counts})`);
  }

  const { rule, asg } = pickDriftTargets(await stateResources(options.terraform, options.workRoot, target), options.platform, target);
  const region = String((asg.values.arn as string).split(':')[3]);
  const cli = awsCli(options.env, options.workRoot);
  const aws = (...args: string[]) => cli(...args, '--region', region);
  await aws('ec2', 'revoke-security-group-ingress', '--group-id', String(rule.values.security_group_id), '--security-group-rule-ids', String(rule.values.id));
  const maxSize = Number(asg.values.max_size) + 1;
  await aws('autoscaling', 'update-auto-scaling-group', '--auto-scaling-group-name', String(asg.values.name), '--max-size', String(maxSize));
  options.log(`  out of band in ${target}: revoked ${rule.address} (${String(rule.values.id)}), ${asg.address} max size → ${maxSize}`);

  for (const stack of options.stacks) {
    after[stack] = await driftCommand(options, stack, 'after');
    options.log(`  drift after: ${stack} exit ${after[stack].exitCode} (${after[stack].counts})`);
  }
  const expected = [`${rule.address} (create: -)`, `${asg.address} (update: max_size)`];
  const { ok, reported, cleanBefore } = judgeDrift(options.stacks, before, after, target, expected);
  const summary = `${ok ? '✅' : '❌'} changed ${target} out of band (revoked ${rule.address}, ASG ${String(asg.values.name)} max size → ${maxSize}); before: ${cleanBefore ? 'the command exits 0 for every stack' : options.stacks.map((s) => `${s}: ${before[s].changed.join('; ')}`).join(' | ')}; after, stacks the command reports as drifted: ${reported.join(', ') || 'none'}; ${target}'s drift plan: ${after[target].changed.join('; ') || 'nothing'} (counts ${before[target].counts} → ${after[target].counts})`;
  return { ok, summary, before, after };
}
