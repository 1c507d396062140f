import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnTerraform, type TerraformResult, type TerraformRunner } from '../io/terraform';

/**
 * Moving every stack's Terraform state from one S3 bucket/region to the one the committed
 * backend blocks name (platform-config `settings.state`), with Terraform's own
 * `init -migrate-state`: it takes the lock in both places and copies the snapshot (its
 * resources, outputs and serial; the S3 backend gives the copy a new lineage). Run once, by an
 * administrator, while no pipeline run can apply (docs/runbooks/state-bootstrap.md, "Move the
 * state to another region").
 */

/** A state bucket and its region: the place a stack's `<stack>/terraform.tfstate` lives. */
export interface StateLocation {
  readonly bucket: string;
  readonly region: string;
}

/** What a state snapshot holds, enough to tell whether two places hold the same state. */
export interface StateIdentity {
  readonly lineage: string;
  readonly serial: number;
  readonly resources: number;
  /** sha256 of the resources and outputs: what a migration must carry over unchanged. */
  readonly digest: string;
}

export type StateMigrationResult =
  | { readonly stack: string; readonly action: 'migrated'; readonly state: StateIdentity }
  /** The target already holds the same resources and outputs (a rerun). */
  | { readonly stack: string; readonly action: 'already-migrated'; readonly state: StateIdentity }
  /** No state at the old location: the stack was never applied there. */
  | { readonly stack: string; readonly action: 'no-state' };

export interface StateMigrationOptions {
  readonly stack: string;
  /** The synthesized stack folder (apps/infra/cdktf.out/stacks/<stack>); its S3 backend block is the target. */
  readonly stackDir: string;
  readonly from: StateLocation;
  /** Working copies go here (never the stack folder: its `.terraform` would keep the old backend). */
  readonly scratchDir: string;
  readonly runner?: TerraformRunner;
  readonly env?: NodeJS.ProcessEnv;
}

interface StackBackend {
  readonly terraform?: { readonly backend?: { readonly s3?: { readonly bucket?: unknown; readonly region?: unknown; readonly key?: unknown } } };
}

/** Where the committed backend block of a synthesized stack keeps its state. */
export function targetOf(stackDir: string): StateLocation & { readonly key: string } {
  const s3 = (JSON.parse(readFileSync(join(stackDir, 'cdk.tf.json'), 'utf8')) as StackBackend).terraform?.backend?.s3;
  if (typeof s3?.bucket !== 'string' || typeof s3.region !== 'string' || typeof s3.key !== 'string') {
    throw new Error(`${stackDir}/cdk.tf.json: expected an S3 backend with bucket, region and key (a stack synthesized with StateBackend.local() has nothing to migrate)`);
  }
  return { bucket: s3.bucket, region: s3.region, key: s3.key };
}

/** A copy of the stack's files (not its `.terraform`), so each backend gets a clean working directory. */
function workingCopy(stackDir: string, scratchDir: string, name: string): string {
  mkdirSync(scratchDir, { recursive: true });
  const dir = mkdtempSync(join(scratchDir, `${name}-`));
  for (const entry of readdirSync(stackDir, { withFileTypes: true })) {
    if (entry.isFile() && !entry.name.startsWith('.') && !entry.name.endsWith('.tfstate')) copyFileSync(join(stackDir, entry.name), join(dir, entry.name));
  }
  return dir;
}

/**
 * The identity of `terraform state pull` output, or undefined when the backend holds no state.
 * Empty as Terraform judges it (no resource, no output): `state pull` of an S3 key with no
 * object prints an empty snapshot (serial 0, lineage ""), and `-migrate-state` copies over an
 * empty destination without asking.
 */
export function stateIdentity(pulled: string): StateIdentity | undefined {
  if (pulled.trim() === '') return undefined;
  const state = JSON.parse(pulled) as { lineage?: unknown; serial?: unknown; resources?: unknown[]; outputs?: Record<string, unknown> };
  if (typeof state.lineage !== 'string' || typeof state.serial !== 'number') throw new Error('terraform state pull: expected a state snapshot with lineage and serial');
  const resources = state.resources ?? [];
  const outputs = state.outputs ?? {};
  if (resources.length === 0 && Object.keys(outputs).length === 0) return undefined;
  const digest = createHash('sha256').update(JSON.stringify({ resources, outputs })).digest('hex');
  return { lineage: state.lineage, serial: state.serial, resources: resources.length, digest };
}

const identityText = (s: StateIdentity) => `serial ${s.serial}, ${s.resources} resources, content ${s.digest.slice(0, 12)} (lineage ${s.lineage})`;

/**
 * Migrates one stack. Refuses (throws) before copying anything when the target already holds
 * other resources or outputs: `-force-copy` would overwrite them.
 */
export function migrateStackState(options: StateMigrationOptions): StateMigrationResult {
  const run = options.runner ?? spawnTerraform;
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env, TF_IN_AUTOMATION: '1', TF_INPUT: '0' };
  const { stack, from } = options;
  const target = targetOf(options.stackDir);
  if (target.bucket === from.bucket && target.region === from.region) {
    throw new Error(`${stack}: the backend block already names s3://${from.bucket} in ${from.region}; set settings.state to the new bucket and region and synthesize first`);
  }
  const check = (result: TerraformResult, what: string): TerraformResult => {
    if (result.code !== 0) throw new Error(`${stack}: terraform ${what} failed (exit ${result.code}):\n${result.stderr || result.stdout}`);
    return result;
  };
  const oldPlace = `s3://${from.bucket}/${target.key} (${from.region})`;
  const newPlace = `s3://${target.bucket}/${target.key} (${target.region})`;

  // -backend-config overrides the block's bucket and region: this directory reads the old place.
  const source = workingCopy(options.stackDir, options.scratchDir, `${stack}-from`);
  check(run(['init', '-input=false', '-no-color', '-reconfigure', `-backend-config=bucket=${from.bucket}`, `-backend-config=region=${from.region}`], source, env), `init (${oldPlace})`);
  const before = stateIdentity(check(run(['state', 'pull'], source, env), `state pull (${oldPlace})`).stdout);

  const destination = workingCopy(options.stackDir, options.scratchDir, `${stack}-to`);
  check(run(['init', '-input=false', '-no-color', '-reconfigure'], destination, env), `init (${newPlace})`);
  const existing = stateIdentity(check(run(['state', 'pull'], destination, env), `state pull (${newPlace})`).stdout);

  if (!before) return { stack, action: 'no-state' };
  if (existing) {
    if (existing.digest === before.digest) return { stack, action: 'already-migrated', state: existing };
    throw new Error(`${stack}: ${newPlace} already holds ${identityText(existing)}, ${oldPlace} holds ${identityText(before)}; refusing to overwrite it (if the stack was migrated and applied since, there is nothing to do; else compare them and remove the wrong one by hand)`);
  }

  // The block's own values again, as -backend-config: without an override Terraform sees the
  // block unchanged since the first init and keeps the saved (old) configuration; with one it
  // compares the result with the saved backend, finds it changed, and copies the state under
  // both locks. -force-copy answers "copy existing state?" with yes; the target was checked
  // empty above.
  const toTarget = [`-backend-config=bucket=${target.bucket}`, `-backend-config=region=${target.region}`];
  const copied = check(run(['init', '-input=false', '-no-color', '-migrate-state', '-force-copy', ...toTarget], source, env), `init -migrate-state (${oldPlace} → ${newPlace})`);
  const after = stateIdentity(check(run(['state', 'pull'], destination, env), `state pull (${newPlace}) after the copy`).stdout);
  if (!after || after.digest !== before.digest || after.serial !== before.serial) {
    throw new Error(`${stack}: after the copy ${newPlace} holds ${after ? identityText(after) : 'no state'}, expected ${identityText(before)}; terraform said:\n${copied.stdout}${copied.stderr}`);
  }
  return { stack, action: 'migrated', state: after };
}
