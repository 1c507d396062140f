import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { JoinParameters } from '@platform/aws-cluster';
import { JOIN_PARAMETER_PLACEHOLDER } from '@platform/platform-config';
import { TerraformStack, Testing } from 'cdktf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { offlineTerraformUnavailable, PROVIDER_MIRROR } from './offline-terraform';

/*
 * What the real AWS provider (5.100, from the offline mirror) stores in state for the join
 * parameters, against a fake SSM endpoint: the nodes later overwrite the placeholder with the
 * live token, and a refresh (every plan) must not copy it into state. It also records that the
 * refresh reads the parameter decrypted, which is why the CI plan role keeps kms:Decrypt for
 * exactly these parameters (ci-identity).
 */
const unavailable = offlineTerraformUnavailable();
const run = promisify(execFile);
const runTerraform = (args: string[], options: { cwd: string; encoding: 'utf8'; timeout: number; env: NodeJS.ProcessEnv }) => run('terraform', [...args, '-no-color', '-input=false'], options);
const LIVE_TOKEN = 'abcdef.0123456789abcdef';

interface SsmCall {
  readonly op: string;
  readonly body: Record<string, unknown>;
}

/** Just enough of the SSM JSON API for aws_ssm_parameter's create, read and delete. */
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

describe.skipIf(unavailable !== undefined)('join parameters in Terraform state (real provider, fake SSM)', () => {
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

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const stack = new TerraformStack(Testing.app(), 'join');
    new JoinParameters(stack, 'join', { joinToken: '/t/kubeadm/join-token', caCertHash: '/t/kubeadm/ca-cert-hash', certificateKey: '/t/kubeadm/certificate-key', kmsKeyArn: 'alias/test' });
    const json = JSON.parse(Testing.synth(stack));
    json.terraform = { required_providers: { aws: { source: 'hashicorp/aws', version: '5.100.0' } } };
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    json.provider = { aws: [{ region: 'ap-northeast-2', skip_credentials_validation: true, skip_requesting_account_id: true, skip_metadata_api_check: true, skip_region_validation: true, endpoints: [{ ssm: endpoint }] }] };
    writeFileSync(join(dir, 'main.tf.json'), JSON.stringify(json));
    writeFileSync(join(dir, 'offline.tfrc'), `provider_installation {\n  filesystem_mirror {\n    path = "${PROVIDER_MIRROR}"\n  }\n}\n`);
    await terraform(['init', '-backend=false']);
    await terraform(['apply', '-auto-approve']);
  }, 240_000);
  afterAll(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates the parameters with the placeholder, and stores no value in state', () => {
    expect([...parameters.values()].map((p) => [p.Name, p.Type, p.Value]).sort()).toEqual([
      ['/t/kubeadm/ca-cert-hash', 'SecureString', JOIN_PARAMETER_PLACEHOLDER],
      ['/t/kubeadm/certificate-key', 'SecureString', JOIN_PARAMETER_PLACEHOLDER],
      ['/t/kubeadm/join-token', 'SecureString', JOIN_PARAMETER_PLACEHOLDER],
    ]);
    const instances = (JSON.parse(state()).resources as { instances: { attributes: Record<string, unknown> }[] }[]).flatMap((r) => r.instances.map((i) => i.attributes));
    expect(instances).toHaveLength(3);
    for (const a of instances) expect([a.value, a.value_wo, a.has_value_wo]).toEqual(['', null, true]);
  });

  it('keeps the live values the nodes write out of state on refresh, and plans no change to them', async () => {
    for (const p of parameters.values()) p.Value = LIVE_TOKEN;
    calls.length = 0;
    await terraform(['apply', '-refresh-only', '-auto-approve']);
    expect(state()).not.toContain(LIVE_TOKEN);
    const { stdout } = await terraform(['plan', '-detailed-exitcode']);
    expect(stdout).toContain('No changes');
    expect([...parameters.values()].every((p) => p.Value === LIVE_TOKEN)).toBe(true);
    // The refresh still decrypts: the plan role needs kms:Decrypt for these parameters.
    const reads = calls.filter((c) => c.op === 'GetParameter');
    expect(reads.length).toBeGreaterThanOrEqual(3);
    expect(reads.every((c) => c.body.WithDecryption === true)).toBe(true);
  }, 240_000);
});
