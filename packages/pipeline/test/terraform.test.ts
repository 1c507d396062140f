import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { localStateOf, OFFLINE_OVERRIDE_FILE, OFFLINE_STATE_FILE, offlineOverride, planOutputText, planStack, prepareOfflineCopy, type TerraformRunner } from '../src/io/terraform';
import { FIXTURES, recordedPlanText } from './support/plans';

const s3Stack = JSON.parse(readFileSync(join(FIXTURES, 'ci-identity.cdk.tf.json'), 'utf8')) as Record<string, unknown>;
const localStack = { ...s3Stack, terraform: { backend: { local: { path: 'terraform.tfstate' } } } };

function stackDir(stack: object, files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'pipeline-stack-'));
  writeFileSync(join(dir, 'cdk.tf.json'), JSON.stringify(stack));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe('planOutputText', () => {
  it('drops refresh and read progress lines, keeping the plan as `terraform show` prints it', () => {
    const shown = recordedPlanText();
    const stdout = [
      'aws_iam_openid_connect_provider.github: Refreshing state... [id=arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com]',
      'data.aws_iam_policy_document.trust: Reading...',
      'data.aws_iam_policy_document.trust: Read complete after 0s [id=123]',
      'data.aws_caller_identity.current: Still reading... [10s elapsed]',
      shown,
    ].join('\n');
    expect(planOutputText(stdout)).toBe(shown);
  });

  it('keeps a resource line that merely mentions those words', () => {
    const text = '\n  # aws_ssm_parameter.note will be created\n  + value = "Reading... is fine here"\n';
    expect(planOutputText(text)).toBe(text);
  });
});

describe('offline copies', () => {
  it('swap the backend for a local state file and give every provider configuration the offline flags', () => {
    const override = offlineOverride({ provider: { aws: [{ region: 'ap-northeast-2' }, { alias: 'replica', region: 'ap-northeast-1' }] } }) as {
      terraform: unknown;
      provider: { aws: Record<string, unknown>[] };
    };
    expect(override.terraform).toEqual({ backend: { local: { path: OFFLINE_STATE_FILE } } });
    expect(override.provider.aws.map((p) => [p.alias, p.skip_credentials_validation, p.skip_requesting_account_id])).toEqual([
      [undefined, true, true],
      ['replica', true, true],
    ]);
  });

  it('carry a copy of the local state of a stack with a local backend', () => {
    const dir = stackDir(localStack, { 'terraform.tfstate': '{"version":4}' });
    expect(localStateOf(dir, localStack)).toBe(join(dir, 'terraform.tfstate'));
    const copy = prepareOfflineCopy(dir, mkdtempSync(join(tmpdir(), 'pipeline-scratch-')), '/opt/tf-plugins');
    expect(copy.state).toBe(join(dir, 'terraform.tfstate'));
    expect(readFileSync(join(copy.workDir, OFFLINE_STATE_FILE), 'utf8')).toBe('{"version":4}');
    expect(JSON.parse(readFileSync(join(copy.workDir, OFFLINE_OVERRIDE_FILE), 'utf8')).terraform).toEqual({ backend: { local: { path: OFFLINE_STATE_FILE } } });
    expect(readFileSync(copy.cliConfig as string, 'utf8')).toContain('path    = "/opt/tf-plugins"');
  });

  it('start from empty state for an S3 stack, or a local one that has never been applied', () => {
    const s3 = stackDir(s3Stack, { 'terraform.tfstate': '{"version":4}' });
    expect(localStateOf(s3, s3Stack as never)).toBeUndefined();
    const copy = prepareOfflineCopy(s3, mkdtempSync(join(tmpdir(), 'pipeline-scratch-')), null);
    expect(copy).toMatchObject({ state: undefined, cliConfig: undefined });
    expect(existsSync(join(copy.workDir, OFFLINE_STATE_FILE))).toBe(false);
    expect(localStateOf(stackDir(localStack), localStack)).toBeUndefined();
  });
});

describe('planStack', () => {
  const planJson = { format_version: '1.2', resource_changes: [] };

  function recorder(codes: Record<string, number> = {}): { runner: TerraformRunner; calls: { args: readonly string[]; cwd: string; env: NodeJS.ProcessEnv }[] } {
    const calls: { args: readonly string[]; cwd: string; env: NodeJS.ProcessEnv }[] = [];
    const runner: TerraformRunner = (args, cwd, env) => {
      calls.push({ args, cwd, env });
      const command = args[0] === 'show' ? 'show' : args[0];
      const code = codes[command] ?? (command === 'plan' ? 2 : 0);
      return { code, stdout: command === 'show' ? JSON.stringify(planJson) : command === 'plan' ? 'x: Refreshing state... [id=1]\n\nPlan: 0 to add\n' : '', stderr: code === 1 ? `${command} broke` : '' };
    };
    return { runner, calls };
  }

  it('offline: init, plan against the copied state without refresh or lock, then show -json; the text is the plan output', () => {
    const dir = stackDir(localStack, { 'terraform.tfstate': '{"version":4}' });
    const { runner, calls } = recorder();
    const scratch = join(mkdtempSync(join(tmpdir(), 'pipeline-scratch-')), 'nested');
    mkdirSync(scratch);
    const run = planStack({ stack: 'ci-identity', stackDir: dir, mode: 'offline', runner, scratchDir: scratch });
    expect(calls.map((c) => c.args.join(' '))).toEqual([
      'init -input=false -no-color',
      'plan -input=false -no-color -detailed-exitcode -out=tfplan -refresh=false -lock=false',
      'show -json tfplan',
    ]);
    expect(calls.every((c) => c.cwd === run.workDir && c.cwd.startsWith(scratch))).toBe(true);
    expect(calls[1].env).toMatchObject({ TF_IN_AUTOMATION: '1', TF_INPUT: '0', AWS_ACCESS_KEY_ID: 'offline-dummy', TF_CLI_CONFIG_FILE: join(run.workDir, '.terraformrc') });
    expect(run).toMatchObject({ exitCode: 2, planText: '\nPlan: 0 to add\n', planJson, offlineState: join(dir, 'terraform.tfstate') });
  });

  it('cloud: plans in the stack folder with a lock timeout and no offline state', () => {
    const dir = stackDir(s3Stack);
    const { runner, calls } = recorder({ plan: 0 });
    const run = planStack({ stack: 'ci-identity', stackDir: dir, mode: 'cloud', runner });
    expect(calls[1].args).toEqual(['plan', '-input=false', '-no-color', '-detailed-exitcode', '-out=tfplan', '-lock-timeout=5m']);
    expect(calls[1].cwd).toBe(dir);
    expect(run.exitCode).toBe(0);
    expect('offlineState' in run).toBe(false);
  });

  it('cloud, read-only role (pull request, drift): plans without the state lock it could not write', () => {
    const dir = stackDir(s3Stack);
    const { runner, calls } = recorder({ plan: 2 });
    planStack({ stack: 'ci-identity', stackDir: dir, mode: 'cloud', runner, lock: 'skip-read-only' });
    expect(calls[1].args).toEqual(['plan', '-input=false', '-no-color', '-detailed-exitcode', '-out=tfplan', '-lock=false']);
  });

  it('fails with the stack, the command and terraform’s message', () => {
    const { runner } = recorder({ plan: 1 });
    expect(() => planStack({ stack: 'ci-identity', stackDir: stackDir(s3Stack), mode: 'cloud', runner })).toThrow('ci-identity: terraform plan failed (exit 1):\nplan broke');
  });
});
