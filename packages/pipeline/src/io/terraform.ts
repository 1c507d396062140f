import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { PlanJson } from '../pull-request/plan-summary';

/**
 * Terraform as the workflows run it. Two modes share one code path:
 * - `cloud`: in the synthesized stack folder, S3 backend and OIDC credentials (CI);
 * - `offline`: in a temporary copy of the stack with an override file that swaps the
 *   backend for a local one and gives the AWS provider its skip_* flags and dummy keys,
 *   with providers from the image's filesystem mirror. Committed stacks never carry these.
 */

/** offline: a copy of the stack with local state and the provider mirror; cloud: the S3 backend, credentials from the job. */
export type TerraformMode = 'offline' | 'cloud';

export const PROVIDER_MIRROR = '/opt/tf-plugins';
export const OFFLINE_OVERRIDE_FILE = 'zz_pipeline_offline_override.tf.json';
/** The state file of an offline copy (empty unless the stack has local state, see localStateOf). */
export const OFFLINE_STATE_FILE = 'offline.tfstate';

export interface TerraformResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export type TerraformRunner = (args: readonly string[], cwd: string, env: NodeJS.ProcessEnv) => TerraformResult;

export const spawnTerraform: TerraformRunner = (args, cwd, env) => {
  const result = spawnSync('terraform', args, { cwd, env, encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
  if (result.error) throw new Error(`terraform ${args[0]} could not start: ${result.error.message}`);
  return { code: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
};

/** Why offline plans cannot run here, or undefined when they can. */
export function offlineUnavailableReason(mirror: string | null = PROVIDER_MIRROR): string | undefined {
  if (mirror !== null && !existsSync(join(mirror, 'registry.terraform.io', 'hashicorp', 'aws'))) return `no AWS provider in the filesystem mirror ${mirror}`;
  const probe = spawnSync('terraform', ['version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return 'terraform is not on PATH';
  return undefined;
}

interface StackJson {
  readonly provider?: Record<string, readonly Record<string, unknown>[] | Record<string, unknown>>;
  readonly terraform?: { readonly backend?: Readonly<Record<string, Readonly<Record<string, unknown>>>> };
}

/**
 * The state file of a stack synthesized with a local backend (`StateBackend.local()`), when
 * it exists. Offline plans run against a copy of it, so a local experiment (or a test) sees
 * real updates, replacements and destroys; stacks with the S3 backend plan from empty state.
 */
export function localStateOf(stackDir: string, stackJson: StackJson): string | undefined {
  const local = stackJson.terraform?.backend?.local;
  if (!local) return undefined;
  const path = resolve(stackDir, typeof local.path === 'string' ? local.path : 'terraform.tfstate');
  return existsSync(path) ? path : undefined;
}

/** The override that makes a stack plannable with no network and no AWS account. */
export function offlineOverride(stackJson: StackJson): Record<string, unknown> {
  const aws = stackJson.provider?.aws;
  const configs = aws === undefined ? [{}] : Array.isArray(aws) ? aws : [aws];
  // One override entry per provider configuration, matched by alias.
  const provider = configs.map((config) => ({
    ...(typeof config.alias === 'string' ? { alias: config.alias } : {}),
    skip_credentials_validation: true,
    skip_requesting_account_id: true,
    skip_metadata_api_check: true,
    skip_region_validation: true,
    access_key: 'offline-dummy',
    secret_key: 'offline-dummy',
  }));
  return { terraform: { backend: { local: { path: OFFLINE_STATE_FILE } } }, provider: { aws: provider } };
}

export interface PlanRun {
  readonly stack: string;
  readonly workDir: string;
  readonly planFile: string;
  readonly planJson: PlanJson;
  readonly planText: string;
  /** `plan -detailed-exitcode`: 0 no changes, 2 changes. */
  readonly exitCode: 0 | 2;
  /** The local state an offline plan ran against (a copy of it was planned); undefined when it started from empty state. */
  readonly offlineState?: string;
  readonly durationMs: number;
}

export interface PlanOptions {
  readonly stack: string;
  /** apps/infra/cdktf.out/stacks/<stack> */
  readonly stackDir: string;
  readonly mode: TerraformMode;
  readonly runner?: TerraformRunner;
  /** Filesystem mirror for offline mode; null downloads providers from the registry. @default PROVIDER_MIRROR */
  readonly mirror?: string | null;
  /** Where offline copies go. @default a new folder under the OS temp dir */
  readonly scratchDir?: string;
  readonly env?: NodeJS.ProcessEnv;
  /**
   * Cloud mode: take the state lock (S3 `use_lockfile` writes `<key>.tflock`). Read-only plans
   * (pull requests, drift) never write state, so they skip it: their roles get no write at all,
   * a plan never waits on an apply, and a cancelled pull-request plan leaves no stale lock.
   * @default 'take'
   */
  readonly lock?: 'take' | 'skip-read-only';
}

export interface OfflineCopy {
  readonly workDir: string;
  readonly cliConfig: string | undefined;
  /** The stack's local state copied in as OFFLINE_STATE_FILE, if it has one. */
  readonly state: string | undefined;
}

export function prepareOfflineCopy(stackDir: string, scratchDir: string, mirror: string | null = PROVIDER_MIRROR): OfflineCopy {
  const workDir = mkdtempSync(join(scratchDir, 'stack-'));
  for (const entry of readdirSync(stackDir, { withFileTypes: true })) {
    if (entry.isFile() && !entry.name.startsWith('.')) copyFileSync(join(stackDir, entry.name), join(workDir, entry.name));
  }
  const stackJson = JSON.parse(readFileSync(join(stackDir, 'cdk.tf.json'), 'utf8')) as StackJson;
  writeFileSync(join(workDir, OFFLINE_OVERRIDE_FILE), `${JSON.stringify(offlineOverride(stackJson), null, 2)}\n`);
  // A copy: the plan may take the lock or write the file, the stack's own state stays as it was.
  const state = localStateOf(stackDir, stackJson);
  if (state) copyFileSync(state, join(workDir, OFFLINE_STATE_FILE));
  if (mirror === null) return { workDir, cliConfig: undefined, state };
  const cliConfig = join(workDir, '.terraformrc');
  writeFileSync(cliConfig, `provider_installation {\n  filesystem_mirror {\n    path    = ${JSON.stringify(mirror)}\n    include = ["registry.terraform.io/*/*"]\n  }\n  direct {\n    exclude = ["registry.terraform.io/*/*"]\n  }\n}\n`);
  return { workDir, cliConfig, state };
}

function check(result: TerraformResult, what: string, stack: string, ok: readonly number[] = [0]): TerraformResult {
  if (!ok.includes(result.code)) throw new Error(`${stack}: terraform ${what} failed (exit ${result.code}):\n${result.stderr || result.stdout}`);
  return result;
}

/** Progress lines of `terraform plan` (refreshing and reading), one per resource: noise in a review. */
const PROGRESS_LINE = /^[^\s#].*: (Refreshing state\.\.\.|Reading\.\.\.|Read complete after |Still reading\.\.\.)/;

/**
 * The human-readable plan from `terraform plan` output, without its progress lines. With
 * TF_IN_AUTOMATION set that is exactly what `terraform show <planfile>` prints, without
 * starting the provider once more (its schema load costs seconds per stack).
 */
export function planOutputText(stdout: string): string {
  return stdout
    .split('\n')
    .filter((line) => !PROGRESS_LINE.test(line))
    .join('\n')
    .replace(/^\n+/, '\n');
}

/** init, plan -detailed-exitcode -out (its output is the plan text) and show -json for one stack. */
export function planStack(options: PlanOptions): PlanRun {
  const run = options.runner ?? spawnTerraform;
  const started = Date.now();
  let workDir = options.stackDir;
  let offlineState: string | undefined;
  let env: NodeJS.ProcessEnv = { ...process.env, ...options.env, TF_IN_AUTOMATION: '1', TF_INPUT: '0' };
  const planArgs = ['plan', '-input=false', '-no-color', '-detailed-exitcode', '-out=tfplan'];
  if (options.mode === 'offline') {
    const scratch = options.scratchDir ?? mkdtempSync(join(tmpdir(), 'pipeline-plan-'));
    mkdirSync(scratch, { recursive: true });
    const copy = prepareOfflineCopy(options.stackDir, scratch, options.mirror);
    workDir = copy.workDir;
    offlineState = copy.state;
    env = {
      ...env,
      ...(copy.cliConfig ? { TF_CLI_CONFIG_FILE: copy.cliConfig } : {}),
      AWS_ACCESS_KEY_ID: 'offline-dummy',
      AWS_SECRET_ACCESS_KEY: 'offline-dummy',
      AWS_EC2_METADATA_DISABLED: 'true',
      CHECKPOINT_DISABLE: '1',
    };
    planArgs.push('-refresh=false', '-lock=false');
  } else {
    planArgs.push(...(options.lock === 'skip-read-only' ? ['-lock=false'] : ['-lock-timeout=5m']));
  }
  check(run(['init', '-input=false', '-no-color'], workDir, env), 'init', options.stack);
  const plan = check(run(planArgs, workDir, env), 'plan', options.stack, [0, 2]);
  const json = check(run(['show', '-json', 'tfplan'], workDir, env), 'show -json', options.stack);
  return {
    stack: options.stack,
    workDir,
    planFile: join(workDir, 'tfplan'),
    planJson: JSON.parse(json.stdout) as PlanJson,
    planText: planOutputText(plan.stdout),
    exitCode: plan.code as 0 | 2,
    durationMs: Date.now() - started,
    ...(offlineState ? { offlineState } : {}),
  };
}

/** `terraform output -json` of a stack, as `{ name: value }`. */
export function stackOutputs(stackDir: string, runner: TerraformRunner = spawnTerraform, env: NodeJS.ProcessEnv = process.env): Record<string, unknown> {
  check(runner(['init', '-input=false', '-no-color'], stackDir, env), 'init', stackDir);
  const out = check(runner(['output', '-json'], stackDir, env), 'output -json', stackDir);
  const parsed = JSON.parse(out.stdout || '{}') as Record<string, { value: unknown }>;
  return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, v.value]));
}
