import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers';

/*
 * A REAL `terraform show -json` of a plan, not a hand-made conversion: the staging stack is
 * synthesized (in a child process: ha-check may not import apps), planned offline against the
 * provider mirror the way apps/infra/test/offline-terraform.ts does (backend removed, dummy
 * credentials, skip-validation flags in an override file), and ha-check must report exactly the
 * same from the plan as from the cdk.tf.json. One stack keeps the runtime bounded.
 */
const root = join(__dirname, '..', '..', '..');
const PROVIDER_MIRROR = '/opt/tf-plugins';
const STACK = 'staging-cluster';
const run = promisify(execFile);

function unavailable(): string | undefined {
  if (spawnSync('terraform', ['version'], { encoding: 'utf8' }).status !== 0) return 'terraform is not on PATH';
  if (!existsSync(join(PROVIDER_MIRROR, 'registry.terraform.io', 'hashicorp', 'aws'))) return `no AWS provider in the mirror ${PROVIDER_MIRROR}`;
  return undefined;
}

const reason = unavailable();
if (reason) console.warn(`\n!!! SKIPPED: ha-check on a real terraform plan: ${reason}. Plan JSON input was NOT checked against terraform. !!!\n`);

/** Provider flags that let the real provider plan with dummy credentials; never in committed stacks. */
const OFFLINE_PROVIDER_FLAGS = { skip_credentials_validation: true, skip_requesting_account_id: true, skip_metadata_api_check: true, skip_region_validation: true };

describe.skipIf(reason !== undefined)('ha-check on a real terraform show -json plan', () => {
  let stackDir: string;
  let planFile: string;

  beforeAll(async () => {
    const out = tempDir();
    execFileSync(process.execPath, ['--import', 'tsx', '-e', `require(${JSON.stringify(join(root, 'apps/infra/src/main.ts'))}).synthInfra(${JSON.stringify(out)})`], { cwd: root, stdio: 'pipe' });
    stackDir = join(out, 'stacks', STACK);
    const work = tempDir();
    const stack = JSON.parse(readFileSync(join(stackDir, 'cdk.tf.json'), 'utf8'));
    delete stack.terraform?.backend;
    writeFileSync(join(work, 'cdk.tf.json'), JSON.stringify(stack));
    const providers = (stack.provider?.aws ?? []) as { alias?: string }[];
    writeFileSync(join(work, 'zz_test_override.tf.json'), JSON.stringify({ provider: { aws: providers.map((p) => ({ ...(p.alias ? { alias: p.alias } : {}), ...OFFLINE_PROVIDER_FLAGS })) } }));
    writeFileSync(join(work, 'offline.tfrc'), `provider_installation {\n  filesystem_mirror {\n    path = "${PROVIDER_MIRROR}"\n  }\n}\n`);
    const env = { ...process.env, TF_CLI_CONFIG_FILE: join(work, 'offline.tfrc'), TF_IN_AUTOMATION: '1', CHECKPOINT_DISABLE: '1', AWS_ACCESS_KEY_ID: 'offline', AWS_SECRET_ACCESS_KEY: 'offline', AWS_EC2_METADATA_DISABLED: 'true' };
    const terraform = (args: string[]) => run('terraform', [...args, '-no-color'], { cwd: work, env, encoding: 'utf8', maxBuffer: 256 * 2 ** 20, timeout: 300_000 });
    await terraform(['init', '-backend=false', '-input=false']);
    await terraform(['plan', '-refresh=false', '-input=false', '-lock=false', '-out=offline.tfplan']);
    const { stdout } = await terraform(['show', '-json', 'offline.tfplan']);
    // Its own folder, named after the stack, so resource addresses read `<stack>/...` as from cdk.tf.json.
    mkdirSync(join(work, 'plan'));
    planFile = join(work, 'plan', `${STACK}.plan.json`);
    writeFileSync(planFile, stdout);
  }, 300_000);

  it('reports the same from the plan as from the cdk.tf.json it was planned from', async () => {
    const args = (terraform: string) => ['--cluster', 'staging', '--terraform', terraform, '--repo-root', root, '--format', 'json'];
    const fromCdktf = await runCli(args(stackDir));
    const fromPlan = await runCli(args(planFile));
    expect(fromPlan.stderr).toBe('');
    expect(fromPlan.code).toBe(fromCdktf.code);
    // The plan's stack is named after its file (`<stack>.plan`); everything else must be identical.
    const report = JSON.parse(fromPlan.stdout.replaceAll(`${STACK}.plan/`, `${STACK}/`));
    expect(report).toEqual(JSON.parse(fromCdktf.stdout));
    expect(report.summary.terraformResources).toBeGreaterThan(100);
    expect(report.summary.nodeGroups).toBeGreaterThan(3);
  });
});
