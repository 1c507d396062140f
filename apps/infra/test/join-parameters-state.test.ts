import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SsmParameter } from '@cdktf/provider-aws/lib/ssm-parameter';
import { JoinParameters } from '@platform/aws-cluster';
import { TerraformStack, Testing } from 'cdktf';
import { Construct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { offlineTerraformUnavailable, PROVIDER_MIRROR } from './offline-terraform';

/*
 * The migration of a stack applied before the nodes owned the join parameters, with the real
 * AWS provider (5.100, offline mirror) against a fake SSM endpoint: the previous JoinParameters
 * resources are applied, the nodes overwrite the values, then the current JoinParameters
 * (nothing but `removed` blocks with destroy = false) is planned and applied. Terraform must
 * forget the three parameters without deleting or rewriting them, and afterwards plan with no
 * SSM call at all (so the plan roles need no decrypt).
 */
const unavailable = offlineTerraformUnavailable();
const run = promisify(execFile);
const runTerraform = (args: string[], options: { cwd: string; encoding: 'utf8'; timeout: number; env: NodeJS.ProcessEnv }) => run('terraform', [...args, '-no-color', '-input=false'], options);
const LIVE_TOKEN = 'abcdef.0123456789abcdef';

interface SsmCall {
  readonly op: string;
  readonly body: Record<string, unknown>;
}

/** Just enough of the SSM JSON API for aws_ssm_parameter's create, read and delete (semantics as SSM documents them). */
function fakeSsm(calls: SsmCall[], parameters: Map<string, Record<string, unknown>>): Server {
  return createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk) => (raw += chunk));
    req.on('end', () => {
      const op = String(req.headers['x-amz-target'] ?? '').split('.').pop()!;
      const body = JSON.parse(raw || '{}') as Record<string, string>;
      calls.push({ op, body });
      const reply = (status: number, out: object) => {
        res.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(out));
      };
      const p = parameters.get(body.Name!);
      const arn = `arn:aws:ssm:ap-northeast-2:123456789012:parameter${body.Name}`;
      if (op === 'PutParameter') {
        // SSM's conditional write: an existing name needs Overwrite.
        if (p && !(body as unknown as { Overwrite?: boolean }).Overwrite) return reply(400, { __type: 'ParameterAlreadyExists', message: 'exists' });
        parameters.set(body.Name!, body);
        return reply(200, { Version: 1, Tier: 'Standard' });
      }
      if (op === 'GetParameter') {
        if (!p) return reply(400, { __type: 'ParameterNotFound', message: 'not found' });
        return reply(200, { Parameter: { Name: p.Name, Type: p.Type, Value: body.WithDecryption ? p.Value : 'ciphertext', Version: 1, ARN: arn, DataType: 'text' } });
      }
      if (op === 'DescribeParameters') {
        const filters = (body as unknown as { ParameterFilters?: { Key: string; Values: string[] }[] }).ParameterFilters ?? [];
        const names = filters.find((f) => f.Key === 'Name')?.Values;
        const found = [...parameters.values()].filter((v) => !names || names.includes(String(v.Name)));
        return reply(200, { Parameters: found.map((v) => ({ Name: v.Name, Type: v.Type, KeyId: v.KeyId, Description: v.Description, Tier: 'Standard', Version: 1, DataType: 'text', Policies: [] })) });
      }
      if (op === 'ListTagsForResource') return reply(200, { TagList: [] });
      if (op === 'DeleteParameter') parameters.delete(body.Name!);
      return reply(200, {});
    });
  });
}

describe.skipIf(unavailable !== undefined)('join parameters leave Terraform state (real provider, fake SSM)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'infra-join-state-'));
  const calls: SsmCall[] = [];
  const parameters = new Map<string, Record<string, unknown>>();
  const server = fakeSsm(calls, parameters);
  const terraform = (args: string[]) =>
    runTerraform(args, {
      cwd: dir,
      encoding: 'utf8',
      timeout: 180_000,
      env: { ...process.env, TF_CLI_CONFIG_FILE: join(dir, 'offline.tfrc'), TF_IN_AUTOMATION: '1', CHECKPOINT_DISABLE: '1', AWS_ACCESS_KEY_ID: 'offline', AWS_SECRET_ACCESS_KEY: 'offline', AWS_EC2_METADATA_DISABLED: 'true' },
    }).catch((error: { stdout?: string; stderr?: string }) => {
      throw new Error(`terraform ${args.join(' ')} failed:\n${error.stderr ?? ''}\n${(error.stdout ?? '').slice(-3000)}`);
    });
  const state = () => readFileSync(join(dir, 'terraform.tfstate'), 'utf8');

  const NAMES = { joinToken: '/t/kubeadm/join-token', caCertHash: '/t/kubeadm/ca-cert-hash', certificateKey: '/t/kubeadm/certificate-key' };
  const endpoint = () => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const write = (stack: TerraformStack) => {
    const json = JSON.parse(Testing.synth(stack));
    json.terraform = { required_providers: { aws: { source: 'hashicorp/aws', version: '5.100.0' } } };
    json.provider = { aws: [{ region: 'ap-northeast-2', skip_credentials_validation: true, skip_requesting_account_id: true, skip_metadata_api_check: true, skip_region_validation: true, endpoints: [{ ssm: endpoint() }] }] };
    writeFileSync(join(dir, 'main.tf.json'), JSON.stringify(json));
    return json;
  };
  /** JoinParameters as it was before this change: SecureStrings with a write-only placeholder, at `join-parameters/<key>`. */
  const previousStack = () => {
    const stack = new TerraformStack(Testing.app(), 'cluster');
    const scope = new Construct(stack, 'join-parameters');
    for (const [key, name] of Object.entries(NAMES)) {
      new SsmParameter(scope, key, { name, type: 'SecureString', keyId: 'arn:aws:kms:ap-northeast-2:123456789012:key/k', valueWo: 'pending', valueWoVersion: 1, lifecycle: { ignoreChanges: ['value', 'value_wo_version'] } });
    }
    return stack;
  };
  const currentStack = () => {
    const stack = new TerraformStack(Testing.app(), 'cluster');
    new JoinParameters(stack, 'join-parameters', { ...NAMES, region: 'ap-northeast-2', accountId: '123456789012' });
    return stack;
  };
  const managed = () => (JSON.parse(state()).resources as unknown[]).length;

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    writeFileSync(join(dir, 'offline.tfrc'), `provider_installation {\n  filesystem_mirror {\n    path = "${PROVIDER_MIRROR}"\n  }\n}\n`);
    write(previousStack());
    await terraform(['init', '-backend=false']);
    await terraform(['apply', '-auto-approve']);
    // The nodes publish: live values, written with the key identifier they use (the alias).
    for (const p of parameters.values()) Object.assign(p, { Value: LIVE_TOKEN, KeyId: 'alias/t-cluster' });
  }, 240_000);
  afterAll(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts from the previous stack: three parameters in state', () => {
    expect(managed()).toBe(3);
  });

  it('plans to forget the parameters, destroying nothing, and the apply leaves the live values in SSM', async () => {
    // Without the removed blocks, dropping the resources would delete the live join material.
    write(new TerraformStack(Testing.app(), 'cluster'));
    calls.length = 0;
    expect((await terraform(['plan'])).stdout).toMatch(/0 to add, 0 to change, 3 to destroy/);
    // That plan refreshes them, decrypted, as every plan of the previous stack did (why the plan role needed kms:Decrypt).
    expect(calls.filter((c) => c.op === 'GetParameter' && c.body.WithDecryption === true)).toHaveLength(3);
    const json = write(currentStack());
    expect(json.resource).toBeUndefined();
    calls.length = 0;
    const { stdout } = await terraform(['plan']);
    // Forgetting reads nothing: a pull request's plan of a stack whose state still holds the
    // parameters needs no decrypt either (the plan roles are denied every decrypt).
    expect(calls).toEqual([]);
    expect(stdout).toMatch(/will no longer be managed by Terraform/);
    expect(stdout).toMatch(/0 to destroy/);
    expect(stdout).not.toMatch(/will be destroyed/);
    await terraform(['apply', '-auto-approve']);
    expect(managed()).toBe(0);
    expect(calls.filter((c) => c.op === 'DeleteParameter' || c.op === 'PutParameter')).toEqual([]);
    expect([...parameters.values()].map((p) => [p.Name, p.Value, p.KeyId]).sort()).toEqual(
      Object.values(NAMES).sort().map((name) => [name, LIVE_TOKEN, 'alias/t-cluster']),
    );
    expect(state()).not.toContain(LIVE_TOKEN);
  }, 240_000);

  it('then plans no change without a single SSM call: nothing to refresh, nothing to decrypt, no drift when the nodes rewrite', async () => {
    for (const p of parameters.values()) Object.assign(p, { Value: 'rotated.0123456789abcdef' });
    calls.length = 0;
    const { stdout } = await terraform(['plan', '-detailed-exitcode']);
    expect(stdout).toContain('No changes');
    expect(calls).toEqual([]);
  }, 240_000);
});
