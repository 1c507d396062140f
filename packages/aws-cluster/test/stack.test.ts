import { Testing } from 'cdktf';
import { describe, expect, it } from 'vitest';
import { ClusterStack, StateBackend } from '../src';
import { terraformString } from '../src/private/terraform-string';
import { bareStack, clusterInput, platform, synthCluster, synthStack, type Synth } from './support';
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
      'fis_experiment_template_ids', 'fis_role_arn', 'ingress_load_balancer_dns_name', 'ingress_target_group_arns', 'kms_key_arn', 'private_subnet_ids', 'public_subnet_ids', 'region', 'ssm_prefix', 'vpc_id', 'worker_asg_names', 'worker_role_arn',
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

describe('ClusterStack: the API alias record (apiEndpoint.dnsRecord)', () => {
  const withSwitch = (dnsRecord: boolean) => platform((input) => {
    const production = clusterInput(input, 'production');
    production.apiEndpoint = { ...production.apiEndpoint, dnsRecord };
  });
  const off = withSwitch(false);
  const on = withSwitch(true);
  const withRecord = synthCluster(on, 'production');
  const without = synthCluster(off, 'production');
  // The app's failover records have a routing policy; the API record has none.
  const apiRecords = (s: Synth) => s.resources('aws_route53_record').filter(([, r]) => r.failover_routing_policy === undefined);
  const apiLoadBalancerId = (s: Synth) => s.resources('aws_lb').find(([, lb]) => lb.name === 'production-api')![0];
  const templates = (s: Synth) => s.values('aws_launch_template').map((t) => ({ controlPlane: String(t.name).includes('control-plane'), userData: String(t.user_data) }));

  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

  it('off: no record, the NLB DNS name is the endpoint and the only certificate name', () => {
    expect(apiRecords(without)).toEqual([]);
    expect(off.namesOf('production').apiHostname).toBeUndefined();
    const lb = `aws_lb.${apiLoadBalancerId(without)}.dns_name`;
    expect(without.json.output.api_endpoint.value).toBe(`\${${lb}}`);
    for (const t of templates(without)) {
      expect(t.userData).not.toContain('aws_route53_record.');
      if (t.controlPlane) expect(t.userData).toMatch(new RegExp(`controlPlaneEndpoint: ", ${escape(lb)}, ":6443\\\\n.*certSANs:\\\\n +- ", ${escape(lb)}, "\\\\n +extraArgs`));
    }
  });

  it('puts an alias A record names.apiHostname in settings.dns.hostedZoneId, on the API NLB, evaluating target health', () => {
    const records = apiRecords(withRecord);
    expect(records).toHaveLength(1);
    const [[id, record]] = records;
    expect(on.namesOf('production').apiHostname).toBe('api.production.hakube.example.com');
    expect(record).toMatchObject({ zone_id: 'Z0HAKUBE', name: 'api.production.hakube.example.com', type: 'A', alias: { evaluate_target_health: true } });
    const lb = apiLoadBalancerId(withRecord);
    expect(record.alias).toMatchObject({ name: `\${aws_lb.${lb}.dns_name}`, zone_id: `\${aws_lb.${lb}.zone_id}` });
    expect(withRecord.deref(record.alias.name)).toMatchObject({ name: 'production-api', load_balancer_type: 'network' });
    expect(withRecord.json.output.api_endpoint.value).toBe(`\${aws_route53_record.${id}.fqdn}`);
  });

  it('makes the record the kubeadm endpoint of every node and names record and NLB in the API server certificate', () => {
    const record = `aws_route53_record.${apiRecords(withRecord)[0][0]}.fqdn`;
    const lb = `aws_lb.${apiLoadBalancerId(withRecord)}.dns_name`;
    const all = templates(withRecord);
    expect(all.filter((t) => t.controlPlane)).toHaveLength(3);
    for (const t of all) {
      expect(t.userData).toContain(`API_ENDPOINT='", ${record}, "'`);
      expect(t.userData).toContain(`apiServerEndpoint: ", ${record}, ":6443`);
      if (!t.controlPlane) {
        expect(t.userData).not.toContain(lb);
        continue;
      }
      expect(t.userData).toContain(`controlPlaneEndpoint: ", ${record}, ":6443`);
      expect(t.userData).toMatch(new RegExp(`certSANs:\\\\n +- ", ${escape(record)}, "\\\\n +- ", ${escape(lb)}, "\\\\n +extraArgs`));
    }
  });

  it('adds only the record: every other resource keeps its address', () => {
    const addresses = (s: Synth) => Object.entries(s.json.resource as Record<string, object>).flatMap(([type, byId]) => Object.keys(byId).map((id) => `${type}.${id}`));
    const added = addresses(withRecord).filter((a) => !addresses(without).includes(a));
    expect(added).toEqual([`aws_route53_record.${apiRecords(withRecord)[0][0]}`]);
    expect(addresses(without).filter((a) => !addresses(withRecord).includes(a))).toEqual([]);
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
