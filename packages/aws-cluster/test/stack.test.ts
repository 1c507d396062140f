import { Testing } from 'cdktf';
import { describe, expect, it } from 'vitest';
import { ClusterStack, StateBackend } from '../src';
import { terraformString } from '../src/private/terraform-string';
import { bareStack, platform, synthCluster, synthStack } from './support';
import { TerraformOutput } from 'cdktf';
import { Vpc } from '@cdktf/provider-aws/lib/vpc';

describe('ClusterStack', () => {
  const shipped = platform();
  const production = synthCluster(shipped, 'production');

  it('keeps its state in S3 under its own key with native locking', () => {
    expect(production.json.terraform.backend.s3).toEqual({ bucket: 'hakube-terraform-state', key: 'production-cluster/terraform.tfstate', region: 'ap-northeast-2', encrypt: true, use_lockfile: true });
  });

  it('carries no test-only provider flags and no data sources', () => {
    const text = JSON.stringify(production.json);
    expect(text).not.toMatch(/skip_(credentials_validation|requesting_account_id|metadata_api_check|region_validation)/);
    expect(production.json.data).toBeUndefined();
  });

  it('outputs what the workflows need', () => {
    expect(Object.keys(production.json.output).sort()).toEqual([
      'api_endpoint', 'api_target_group_arn', 'app_backup_bucket', 'app_backup_iam_user', 'app_backup_replica_bucket', 'app_failover_role', 'app_health_check_id', 'availability_zones', 'control_plane_asg_names', 'control_plane_role_arn', 'etcd_backup_bucket', 'etcd_backup_replica_bucket',
      'fis_experiment_template_id', 'fis_role_arn', 'ingress_load_balancer_dns_name', 'ingress_target_group_arns', 'kms_key_arn', 'private_subnet_ids', 'public_subnet_ids', 'region', 'ssm_prefix', 'vpc_id', 'worker_asg_names', 'worker_role_arn',
    ]);
    expect(production.json.output.app_failover_role.value).toBe('PRIMARY');
    expect(production.json.output.app_health_check_id.value).toMatch(/^\$\{aws_route53_health_check\..*\.id\}$/);
    expect(production.json.output.ingress_load_balancer_dns_name.value).toMatch(/^\$\{aws_lb\.ingress_.*\.dns_name\}$/);
    const staging = synthCluster(shipped, 'staging');
    expect(Object.keys(staging.json.output).filter((k) => k.startsWith('app_failover') || k.startsWith('app_health'))).toEqual([]);
    expect(staging.json.output.app_backup_replica_bucket).toBeUndefined();
    expect(production.json.output.app_backup_bucket.value).toBe('hakube-production-app-backups-ap-northeast-2');
    expect(production.json.output.app_backup_replica_bucket.value).toBe('hakube-production-app-backups-ap-northeast-1');
    expect(production.json.output.app_backup_iam_user.value).toMatch(/^\$\{aws_iam_user\..*\.name\}$/);
    expect(production.deref(production.json.output.app_backup_iam_user.value).name).toBe(shipped.namesOf('production').appBackupCredentials.iamUser);
    expect(production.json.output.etcd_backup_bucket.value).toBe('hakube-production-etcd-backups-ap-northeast-2');
  });

  it('synthesizes identically twice', () => {
    const again = synthCluster(shipped, 'production');
    expect(JSON.stringify(again.json)).toBe(JSON.stringify(production.json));
  });

  it('keeps state in the working directory with StateBackend.local()', () => {
    const app = Testing.app();
    const local = synthStack(new ClusterStack(app, 'x', { platform: shipped, cluster: shipped.cluster('dr'), backend: StateBackend.local() }));
    expect(local.json.terraform.backend).toEqual({ local: { path: 'terraform.tfstate' } });
  });
});

describe('terraformString', () => {
  it('escapes shell interpolation, template directives and backslashes but keeps tokens as references', () => {
    const stack = bareStack();
    const vpc = new Vpc(stack, 'vpc', {});
    new TerraformOutput(stack, 'text', { value: terraformString(`echo "\${HOME}" %{if} a\\b ${vpc.id}`) });
    const plain = synthStack(stack).json.output.text.value;
    expect(plain).toMatch(/^\$\{join\("", \[".*", aws_vpc\.vpc\.id, ""\]\)\}$/);
    expect(plain).toContain('$${HOME}');
    expect(plain).toContain('%%{if}');
    expect(plain).toContain('a\\\\b');
  });
});
