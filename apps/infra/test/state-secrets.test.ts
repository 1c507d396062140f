import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SsmParameter } from '@cdktf/provider-aws/lib/ssm-parameter';
import { TerraformStack, Testing } from 'cdktf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeImageStackName } from '@platform/platform-config';
import { synthInfra } from '../src/main';

/*
 * The plan and drift roles read every stack's state (a plan needs it), so state must hold no
 * cluster secret, and a plan's refresh must need no decrypt. Terraform keeps in state every
 * attribute a resource or data source reads back: these types put a secret there (or, for a
 * SecureString, make the refresh decrypt it: the provider reads SecureStrings with decryption
 * even when the value is write-only).
 */
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const SECRET_RESOURCES = [
  'aws_iam_access_key', // secret access key
  'aws_iam_user_login_profile', // password
  'aws_iam_service_specific_credential', // service password
  'aws_secretsmanager_secret_version', // secret_string / secret_binary
  'aws_kms_ciphertext', // plaintext
  'aws_db_instance', // password unless managed by Secrets Manager
  'aws_rds_cluster',
  'aws_elasticache_user',
  'aws_mq_broker',
  'aws_opensearch_domain', // master user password
  'aws_lightsail_key_pair', // private key
  'tls_private_key',
  'tls_self_signed_cert',
  'tls_locally_signed_cert',
  'random_password',
  'random_string',
  'random_bytes',
];
const SECRET_DATA_SOURCES = ['aws_ssm_parameter', 'aws_ssm_parameters_by_path', 'aws_secretsmanager_secret_version', 'aws_secretsmanager_random_password', 'aws_kms_secrets', 'aws_kms_secret', 'aws_iam_access_keys'];
/** Attribute names that carry a secret value wherever they appear. */
const SECRET_ATTRIBUTE = /^(password|master_password|secret|secret_string|secret_binary|private_key|private_key_pem|token|auth_token|plaintext|value_wo|insecure_value)$/;

/** Every place a stack would keep a secret in state, as readable findings. */
function secretsInState(stack: Json): string[] {
  const findings: string[] = [];
  for (const [type, instances] of Object.entries((stack.resource ?? {}) as Record<string, Json>)) {
    for (const [id, attributes] of Object.entries(instances as Record<string, Json>)) {
      if (SECRET_RESOURCES.includes(type)) findings.push(`resource ${type}.${id}`);
      if (type === 'aws_ssm_parameter' && attributes.type === 'SecureString') findings.push(`resource ${type}.${id}: a SecureString (refresh decrypts it)`);
      if (type === 'aws_ssm_parameter' && attributes.value !== undefined) findings.push(`resource ${type}.${id}: value in state`);
      const walk = (value: unknown, path: string): void => {
        if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${path}[${i}]`));
        else if (value && typeof value === 'object') {
          for (const [k, v] of Object.entries(value)) {
            if (SECRET_ATTRIBUTE.test(k)) findings.push(`resource ${type}.${id}: ${path}${k}`);
            else walk(v, `${path}${k}.`);
          }
        }
      };
      walk(attributes, '');
    }
  }
  for (const type of Object.keys(stack.data ?? {})) if (SECRET_DATA_SOURCES.includes(type)) findings.push(`data ${type}`);
  for (const [name, output] of Object.entries((stack.output ?? {}) as Record<string, Json>)) if (output.sensitive) findings.push(`output ${name} (sensitive)`);
  return findings;
}

describe('no cluster secret in Terraform state (every synthesized stack)', () => {
  const outdir = join(mkdtempSync(join(tmpdir(), 'infra-state-secrets-')), 'cdktf.out');
  let stacks: Record<string, Json>;
  beforeAll(async () => {
    await synthInfra(outdir);
    const dir = join(outdir, 'stacks');
    stacks = Object.fromEntries(readdirSync(dir).map((s) => [s, JSON.parse(readFileSync(join(dir, s, 'cdk.tf.json'), 'utf8'))]));
  }, 120_000);
  afterAll(() => rmSync(join(outdir, '..'), { recursive: true, force: true }));

  it('holds no resource, data source or output that stores a secret, and no SecureString at all', () => {
    expect(Object.keys(stacks).sort()).toEqual(['ci-identity', 'dr-cluster', nodeImageStackName('ap-northeast-2'), 'production-cluster', 'staging-cluster']);
    for (const [name, stack] of Object.entries(stacks)) expect(secretsInState(stack), name).toEqual([]);
    // No IAM user at all: workloads use web-identity roles, so no long-lived key can exist.
    expect(Object.values(stacks).filter((s) => s.resource?.aws_iam_user || s.resource?.aws_iam_access_key)).toEqual([]);
  });

  it('would have flagged the previous join parameters (SecureStrings with a write-only value)', () => {
    const stack = new TerraformStack(Testing.app(), 'previous');
    new SsmParameter(stack, 'joinToken', { name: '/o/c/kubeadm/join-token', type: 'SecureString', keyId: 'k', valueWo: 'pending', valueWoVersion: 1 });
    expect(secretsInState(JSON.parse(Testing.synth(stack)))).toEqual([
      expect.stringMatching(/^resource aws_ssm_parameter\.joinToken: a SecureString/),
      'resource aws_ssm_parameter.joinToken: value_wo',
    ]);
  });
});
