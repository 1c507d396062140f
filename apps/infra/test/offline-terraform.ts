import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const run = promisify(execFile);

export const PROVIDER_MIRROR = '/opt/tf-plugins';
const AWS_PROVIDER = join(PROVIDER_MIRROR, 'registry.terraform.io/hashicorp/aws/5.100.0');

/** Why an offline plan cannot run here, or undefined when it can. */
export function offlineTerraformUnavailable(): string | undefined {
  if (spawnSync('terraform', ['version'], { encoding: 'utf8' }).status !== 0) return 'terraform is not on PATH';
  if (!existsSync(AWS_PROVIDER)) return `the AWS provider 5.100.0 is not in the mirror ${PROVIDER_MIRROR}`;
  return undefined;
}

/** Provider flags that let the real provider plan with dummy credentials; never in committed stacks. */
const OFFLINE_PROVIDER_FLAGS = { skip_credentials_validation: true, skip_requesting_account_id: true, skip_metadata_api_check: true, skip_region_validation: true };

export interface PlanResult {
  /** Resources to create, by type. */
  readonly creates: Record<string, number>;
  readonly totalCreates: number;
  readonly otherActions: number;
  /**
   * Region of each provider configuration as Terraform resolved it from the plan
   * (`configuration.provider_config`, keyed `aws`, `aws.<alias>`); undefined when it is not
   * a constant (then the stack's regions cannot be told offline).
   */
  readonly providerRegions: Readonly<Record<string, string | undefined>>;
  /** The stack's committed backend block, which `load` takes out so the plan keeps state locally. */
  readonly backend: Readonly<Record<string, Readonly<Record<string, unknown>>>> | undefined;
  readonly seconds: { validate: number; plan: number };
}

interface ShownPlan {
  readonly resource_changes?: { type: string; change: { actions: string[] } }[];
  readonly configuration?: { readonly provider_config?: Record<string, { readonly expressions?: { readonly region?: { readonly constant_value?: unknown } } }> };
}

/**
 * One Terraform working directory shared by every stack: `init` runs once (one provider
 * install from the mirror), then each stack's JSON is swapped in and validated and planned
 * in turn. Stacks share the provider version, so the lock file stays valid.
 */
export class OfflineTerraform {
  readonly dir = mkdtempSync(join(tmpdir(), 'infra-offline-plan-'));
  private readonly env: NodeJS.ProcessEnv;
  private backend: PlanResult['backend'];
  initSeconds = 0;

  constructor() {
    const cliConfig = join(this.dir, 'offline.tfrc');
    writeFileSync(cliConfig, `provider_installation {\n  filesystem_mirror {\n    path = "${PROVIDER_MIRROR}"\n  }\n}\n`);
    this.env = {
      ...process.env,
      TF_CLI_CONFIG_FILE: cliConfig,
      TF_IN_AUTOMATION: '1',
      CHECKPOINT_DISABLE: '1',
      AWS_ACCESS_KEY_ID: 'offline',
      AWS_SECRET_ACCESS_KEY: 'offline',
      AWS_EC2_METADATA_DISABLED: 'true',
    };
  }

  // Asynchronous so the test worker stays responsive during a plan of several seconds.
  private async run(args: string[]): Promise<{ stdout: string; seconds: number }> {
    const started = performance.now();
    try {
      const { stdout } = await run('terraform', [...args, '-no-color'], { cwd: this.dir, env: this.env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: 300_000 });
      return { stdout, seconds: (performance.now() - started) / 1000 };
    } catch (error) {
      const { stderr = '', stdout = '' } = error as { stderr?: string; stdout?: string };
      throw new Error(`terraform ${args.join(' ')} failed:\n${stderr}\n${stdout.slice(-4000)}`);
    }
  }

  /** Copies a synthesized stack in: backend removed (state stays local), offline flags as an override file. */
  async load(stackJsonPath: string): Promise<void> {
    const stack = JSON.parse(readFileSync(stackJsonPath, 'utf8'));
    this.backend = stack.terraform?.backend;
    delete stack.terraform?.backend;
    writeFileSync(join(this.dir, 'cdk.tf.json'), JSON.stringify(stack));
    const providers = (stack.provider?.aws ?? []) as { alias?: string }[];
    const override = { provider: { aws: providers.map((p) => ({ ...(p.alias ? { alias: p.alias } : {}), ...OFFLINE_PROVIDER_FLAGS })) } };
    writeFileSync(join(this.dir, 'zz_test_override.tf.json'), JSON.stringify(override));
    rmSync(join(this.dir, 'terraform.tfstate'), { force: true });
    if (this.initSeconds === 0) this.initSeconds = (await this.run(['init', '-backend=false', '-input=false'])).seconds;
  }

  async validateAndPlan(): Promise<PlanResult> {
    const validate = (await this.run(['validate'])).seconds;
    const plan = (await this.run(['plan', '-refresh=false', '-input=false', '-lock=false', '-out=offline.tfplan'])).seconds;
    const shown = JSON.parse((await this.run(['show', '-json', 'offline.tfplan'])).stdout) as ShownPlan;
    const creates: Record<string, number> = {};
    let otherActions = 0;
    for (const change of shown.resource_changes ?? []) {
      if (change.change.actions.join() === 'create') creates[change.type] = (creates[change.type] ?? 0) + 1;
      else otherActions++;
    }
    const providerRegions = Object.fromEntries(
      Object.entries(shown.configuration?.provider_config ?? {}).map(([key, config]) => {
        const region = config.expressions?.region?.constant_value;
        return [key, typeof region === 'string' ? region : undefined];
      }),
    );
    return { creates, totalCreates: Object.values(creates).reduce((a, b) => a + b, 0), otherActions, providerRegions, backend: this.backend, seconds: { validate, plan } };
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
