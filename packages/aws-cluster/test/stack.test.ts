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
    // The state region is platform-config's, not the cluster's (ap-northeast-2): outside the failover pair.
    expect(production.json.terraform.backend.s3).toEqual({ bucket: shipped.names.stateBucket, key: 'production-cluster/terraform.tfstate', region: shipped.settings.state.region, encrypt: true, use_lockfile: true });
    expect(shipped.settings.state.region).not.toBe(shipped.cluster('production').region);
  });

  it('carries no test-only provider flags and no data sources', () => {
    const text = JSON.stringify(production.json);
    expect(text).not.toMatch(/skip_(credentials_validation|requesting_account_id|metadata_api_check|region_validation)/);
    expect(production.json.data).toBeUndefined();
  });

  it('outputs what the workflows need', () => {
    expect(Object.keys(production.json.output).sort()).toEqual([
      'api_endpoint', 'api_internal_endpoint', 'api_target_group_arn', 'app_backup_bucket', 'app_backup_replica_bucket', 'app_failover_role', 'app_health_check_id', 'availability_zones', 'bootstrap_bucket', 'control_plane_asg_names', 'control_plane_role_arn', 'etcd_backup_bucket', 'etcd_backup_replica_bucket', 'etcd_restore_role_arn',
      'fis_experiment_template_ids', 'fis_role_arn', 'ingress_load_balancer_dns_name', 'ingress_target_group_arns', 'kms_key_arn', 'node_termination_queue_url', 'private_subnet_ids', 'public_subnet_ids', 'region', 'service_account_issuer', 'service_account_oidc_provider_arn', 'ssm_prefix', 'vpc_id', 'worker_asg_names', 'worker_role_arn', 'workload_role_arns',
    ]);
    expect(production.json.output.app_failover_role.value).toBe('PRIMARY');
    expect(production.json.output.app_health_check_id.value).toMatch(/^\$\{aws_route53_health_check\..*\.id\}$/);
    expect(production.json.output.ingress_load_balancer_dns_name.value).toMatch(/^\$\{aws_lb\.ingress_.*\.dns_name\}$/);
    const staging = synthCluster(shipped, 'staging');
    expect(Object.keys(staging.json.output).filter((k) => k.startsWith('app_failover') || k.startsWith('app_health'))).toEqual([]);
    expect(staging.json.output.app_backup_replica_bucket).toBeUndefined();
    expect(production.json.output.app_backup_bucket.value).toBe('hakube-production-app-backups-ap-northeast-2');
    expect(production.json.output.app_backup_replica_bucket.value).toBe('hakube-production-app-backups-ap-northeast-1');
    const workloadRoles = production.json.output.workload_role_arns.value as Record<string, string>;
    expect(Object.keys(workloadRoles).sort()).toEqual(['cloud-controller', 'cluster-autoscaler', 'ebs-csi-controller', 'node-termination-handler', 'postgres-backups']);
    for (const [id, arn] of Object.entries(workloadRoles)) expect(production.deref(arn).name).toBe(shipped.namesOf('production').serviceAccountIssuer.workloadRole(id));
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

describe('ClusterStack: the API endpoints (private name for the nodes, public record for operators)', () => {
  const withSwitch = (dnsRecord: boolean) => platform((input) => {
    const production = clusterInput(input, 'production');
    production.apiEndpoint = { ...production.apiEndpoint, dnsRecord };
  });
  const off = withSwitch(false);
  const on = platform();
  const withRecord = synthCluster(on, 'production');
  const without = synthCluster(off, 'production');
  // The app's failover records have a routing policy; the API records have none.
  const apiRecords = (s: Synth) => s.resources('aws_route53_record').filter(([, r]) => r.failover_routing_policy === undefined);
  const publicRecord = (s: Synth) => apiRecords(s).filter(([, r]) => r.zone_id === 'Z0HAKUBE');
  const privateRecord = (s: Synth) => {
    const [[id, record]] = apiRecords(s).filter(([, r]) => r.zone_id !== 'Z0HAKUBE');
    return { ref: `aws_route53_record.${id}.fqdn`, record };
  };
  const lbId = (s: Synth, name: string) => s.resources('aws_lb').find(([, lb]) => lb.name === name)![0];
  const templates = (s: Synth) => s.values('aws_launch_template').map((t) => ({ controlPlane: String(t.name).includes('control-plane'), userData: String(t.user_data) }));
  const sans = (userData: string) => [...(/certSANs:\\n((?: +- [^\n]*?\\n)+) +extraArgs/.exec(userData)?.[1] ?? '').matchAll(/- ", ([^,]+), "/g)].map((m) => m[1]);

  it('is on in the shipped clusters: the public record names.apiHostname in settings.dns.hostedZoneId, on the public NLB, evaluating target health', () => {
    const records = publicRecord(withRecord);
    expect(records).toHaveLength(1);
    const [[id, record]] = records;
    expect(on.namesOf('production').apiHostname).toBe('api.production.hakube.example.com');
    expect(record).toMatchObject({ zone_id: 'Z0HAKUBE', name: 'api.production.hakube.example.com', type: 'A', alias: { evaluate_target_health: true } });
    const lb = lbId(withRecord, 'production-api');
    expect(record.alias).toMatchObject({ name: `\${aws_lb.${lb}.dns_name}`, zone_id: `\${aws_lb.${lb}.zone_id}` });
    expect(withRecord.deref(record.alias.name)).toMatchObject({ name: 'production-api', load_balancer_type: 'network', internal: false });
    expect(withRecord.json.output.api_endpoint.value).toBe(`\${aws_route53_record.${id}.fqdn}`);
    expect(withRecord.json.output.api_internal_endpoint.value).toBe(`\${${privateRecord(withRecord).ref}}`);
  });

  it('gives every node the private name (join, controlPlaneEndpoint, env), the CI kubeconfig the public one, and names all four in the certificate', () => {
    const internal = privateRecord(withRecord).ref;
    const external = `aws_route53_record.${publicRecord(withRecord)[0][0]}.fqdn`;
    const lbs = [`aws_lb.${lbId(withRecord, 'production-api-int')}.dns_name`, `aws_lb.${lbId(withRecord, 'production-api')}.dns_name`];
    const all = templates(withRecord);
    expect(all.filter((t) => t.controlPlane)).toHaveLength(3);
    for (const t of all) {
      expect(t.userData).toContain(`API_ENDPOINT='", ${internal}, "'`);
      expect(t.userData).toContain(`apiServerEndpoint: ", ${internal}, ":6443`);
      if (!t.controlPlane) {
        expect(t.userData).not.toContain(external);
        continue;
      }
      expect(t.userData).toContain(`controlPlaneEndpoint: ", ${internal}, ":6443`);
      expect(t.userData).toContain(`CI_KUBECONFIG_SERVER='https://", ${external}, ":6443'`);
      expect(sans(t.userData)).toEqual([internal, external, ...lbs]);
    }
  });

  it('off: no public record; the public NLB DNS name is api_endpoint and the CI server, the nodes keep the private name', () => {
    expect(publicRecord(without)).toEqual([]);
    expect(off.namesOf('production').apiHostname).toBeUndefined();
    const lb = `aws_lb.${lbId(without, 'production-api')}.dns_name`;
    expect(without.json.output.api_endpoint.value).toBe(`\${${lb}}`);
    const internal = privateRecord(without).ref;
    for (const t of templates(without).filter((x) => x.controlPlane)) {
      expect(t.userData).toContain(`controlPlaneEndpoint: ", ${internal}, ":6443`);
      expect(t.userData).toContain(`CI_KUBECONFIG_SERVER='https://", ${lb}, ":6443'`);
      expect(sans(t.userData)).toEqual([internal, lb, `aws_lb.${lbId(without, 'production-api-int')}.dns_name`]);
    }
  });

  it('switching the public record adds only the record: every other resource keeps its address', () => {
    const addresses = (s: Synth) => Object.entries(s.json.resource as Record<string, object>).flatMap(([type, byId]) => Object.keys(byId).map((id) => `${type}.${id}`));
    const added = addresses(withRecord).filter((a) => !addresses(without).includes(a));
    expect(added).toEqual([`aws_route53_record.${publicRecord(withRecord)[0][0]}`]);
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
