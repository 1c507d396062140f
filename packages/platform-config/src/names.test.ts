import { describe, expect, it } from 'vitest';
import { clusterNames, defaultPlatform, failoverKubeconfigNames, JOIN_PARAMETER_KEYS, ssmParameterArn, subnetLayout, cidrsOverlap, parseCidr } from './index';

describe('derived names', () => {
  const platform = defaultPlatform();
  const names = platform.namesOf('production');

  it('derives AWS names from the cluster name and AZ suffix', () => {
    expect(names.stack).toBe('production-cluster');
    expect(names.controlPlaneAsg('ap-northeast-2a')).toBe('production-control-plane-a');
    expect(names.controlPlaneAsg('ap-northeast-2a', 1)).toBe('production-control-plane-a2');
    // etcd slot tags: the org's own keys, never the ownership tag the EBS CSI controller's rights follow.
    expect(names.etcdSlot).toEqual({ clusterTagKey: 'hakube/etcd-cluster', slotTagKey: 'hakube/etcd-slot' });
    expect(Object.values(names.etcdSlot)).not.toContain(names.clusterTagKey);
    expect(names.controlPlaneLaunchTemplate('ap-northeast-2b', 0)).toBe('production-control-plane-b');
    expect(names.workerAsg({ name: 'general' }, 'ap-northeast-2c')).toBe('production-general-c');
    expect(names.etcdBackupBucket).toBe('hakube-production-etcd-backups-ap-northeast-2');
    expect(names.bootstrapBucket).toBe('hakube-production-bootstrap-ap-northeast-2');
    expect(names.etcdBackupReplicaBucket).toBe('hakube-production-etcd-backups-ap-northeast-1');
    expect(names.ssm.joinToken).toBe('/hakube/production/kubeadm/join-token');
    expect(names.gitopsPath).toBe('clusters/production');
    expect(names.ingressLoadBalancer).toBe('production-ingress');
    expect(names.ingressTargetGroups).toEqual({ http: 'production-http', https: 'production-https' });
    expect(platform.names.appHostname).toBe('app.hakube.example.com');
  });

  it('derives the service-account issuer: a bucket-hosted https issuer, its JWKS, provider ARN and workload subjects', () => {
    const issuer = names.serviceAccountIssuer;
    expect(issuer.bucket).toBe('hakube-production-oidc-ap-northeast-2');
    expect(issuer.url).toBe('https://hakube-production-oidc-ap-northeast-2.s3.ap-northeast-2.amazonaws.com');
    expect(issuer.jwksUrl).toBe(`${issuer.url}/openid/v1/jwks`);
    expect(issuer.discoveryKey).toBe('.well-known/openid-configuration');
    expect(issuer.providerArn('111122223333')).toBe('arn:aws:iam::111122223333:oidc-provider/hakube-production-oidc-ap-northeast-2.s3.ap-northeast-2.amazonaws.com');
    expect(issuer.subject('kube-system', 'cluster-autoscaler')).toBe('system:serviceaccount:kube-system:cluster-autoscaler');
    expect(issuer.audience).toBe('sts.amazonaws.com');
    expect(issuer.workloadRole('cluster-autoscaler')).toBe('production-irsa-cluster-autoscaler');
    // S3 bucket names are at most 63 characters and, for TLS on the virtual-hosted address, dot-free.
    for (const cluster of platform.clusters) {
      const bucket = platform.namesOf(cluster).serviceAccountIssuer.bucket;
      expect(bucket.length).toBeLessThanOrEqual(63);
      expect(bucket).not.toContain('.');
    }
  });

  it('derives the OIDC subjects the CI roles trust from the GitHub settings', () => {
    expect(platform.names.ciSubjects).toEqual({
      plan: ['repo:hakube-platform/ha-kube-platform:pull_request'],
      apply: ['repo:hakube-platform/ha-kube-platform:environment:production'],
      drift: ['repo:hakube-platform/ha-kube-platform:ref:refs/heads/main'],
      fence: ['repo:hakube-platform/ha-kube-platform:environment:region-failover-fence'],
      failover: ['repo:hakube-platform/ha-kube-platform:environment:region-failover'],
      release: ['repo:hakube-platform/ha-kube-platform:environment:app-release'],
    });
    expect([platform.names.ciReleaseRole, platform.names.ciReleaseEnvironment]).toEqual(['hakube-github-release', 'app-release']);
    expect([platform.names.ciPlanRole, platform.names.ciApplyRole, platform.names.ciDriftRole, platform.names.ciFenceRole]).toEqual(['hakube-github-plan', 'hakube-github-apply', 'hakube-github-drift', 'hakube-github-fence']);
    expect(platform.names.ciFenceEnvironment).not.toBe(platform.settings.github.applyEnvironment);
    expect(platform.names.ciFailoverRole).toBe('hakube-github-failover');
    expect(new Set([platform.names.ciFailoverEnvironment, platform.names.ciFenceEnvironment, platform.names.ciReleaseEnvironment, platform.settings.github.applyEnvironment]).size).toBe(4);
  });

  it('names the app backup replica the standby restores from, and the failover kubeconfig', () => {
    expect(names.appBackupReplicaBucket).toBe('hakube-production-app-backups-ap-northeast-1');
    expect(platform.namesOf('dr').ssm.ciKubeconfig).toBe('/hakube/dr/kubeconfig/ci');
    expect(platform.namesOf('dr').ssm.promotedMarker).toBe('/hakube/dr/failover/promoted');
    expect([failoverKubeconfigNames('dr'), failoverKubeconfigNames('production')]).toEqual([
      { cluster: 'dr', user: 'dr-region-failover', context: 'dr' },
      { cluster: 'production', user: 'production-region-failover', context: 'production' },
    ]);
  });

  it('names the database archive once, the same in every cluster (a restore on the standby reads the primary’s prefix)', () => {
    expect(names.appBackupArchive).toEqual({ namespace: 'data', bucketPrefix: 'postgres/' });
    expect(platform.namesOf('dr').appBackupArchive).toEqual(names.appBackupArchive);
  });

  it('keeps the etcd replication role name that is already deployed, and gives the app bucket its own', () => {
    expect(names.backupReplicationRoles).toEqual({ etcd: 'production-etcd-backup-replication', app: 'production-app-backup-replication', appArchiveHome: 'production-app-archive-home' });
  });

  it('carries the regional RTO only where it is declared', () => {
    expect(platform.cluster('production').objectives.regionRtoSeconds).toBe(600);
    expect(platform.cluster('dr').objectives.regionRtoSeconds).toBeUndefined();
    expect(platform.cluster('staging').objectives.regionRtoSeconds).toBeUndefined();
  });

  it('names the public API alias record only when apiEndpoint.dnsRecord is on and the API is internet-facing', () => {
    expect(platform.cluster('production').apiEndpoint.dnsRecord).toBe(true);
    expect(names.apiHostname).toBe('api.production.hakube.example.com');
    const off = clusterNames({ ...platform.cluster('production'), apiEndpoint: { ...platform.cluster('production').apiEndpoint, dnsRecord: false } }, platform.settings);
    expect(off.apiHostname).toBeUndefined();
    const internal = clusterNames({ ...platform.cluster('production'), apiEndpoint: { ...platform.cluster('production').apiEndpoint, exposure: 'internal' } }, platform.settings);
    expect(internal.apiHostname).toBeUndefined();
    const withoutZone = clusterNames({ ...platform.cluster('production'), apiEndpoint: { dnsRecord: true } }, { ...platform.settings, dns: undefined });
    expect(withoutZone.apiHostname).toBeUndefined();
  });

  it('names the in-cluster API endpoint under the private-use .internal TLD, per cluster', () => {
    expect(names.apiInternal).toEqual({ zone: 'production.hakube.internal', hostname: 'api.production.hakube.internal', loadBalancer: 'production-api-int', targetGroup: 'production-api-int' });
    const zones = platform.clusters.map((c) => platform.namesOf(c).apiInternal.zone);
    expect(new Set(zones).size).toBe(zones.length);
    for (const c of platform.clusters) {
      const n = platform.namesOf(c).apiInternal;
      expect(n.hostname.endsWith(`.${n.zone}`)).toBe(true);
      expect(Math.max(n.loadBalancer.length, n.targetGroup.length)).toBeLessThanOrEqual(32);
    }
  });

  it('has no replica bucket without a replica region', () => {
    expect(platform.namesOf('staging').etcdBackupReplicaBucket).toBeUndefined();
    expect(platform.namesOf('staging').appBackupReplicaBucket).toBeUndefined();
  });

  it('names an unknown cluster with the known ones', () => {
    expect(() => platform.cluster('qa')).toThrow('unknown cluster "qa"; expected one of staging, production, dr');
  });
});

describe('subnetLayout', () => {
  it('gives every AZ a public and a private subnet that never overlap', () => {
    const layout = subnetLayout('10.20.0.0/16', ['a', 'b', 'c', 'd']);
    expect(layout[0]).toEqual({ availabilityZone: 'a', publicCidr: '10.20.0.0/20', privateCidr: '10.20.128.0/20' });
    const all = layout.flatMap((z) => [z.publicCidr, z.privateCidr]).map((c) => parseCidr(c)!);
    all.forEach((a, i) => all.slice(i + 1).forEach((b) => expect(cidrsOverlap(a, b)).toBe(false)));
  });

  it('keeps existing subnets when an AZ is added at the end', () => {
    const three = subnetLayout('10.20.0.0/16', ['a', 'b', 'c']);
    expect(subnetLayout('10.20.0.0/16', ['a', 'b', 'c', 'd']).slice(0, 3)).toEqual(three);
  });
});

describe('SSM parameter ARNs', () => {
  const names = defaultPlatform().namesOf('production');

  it('names a parameter the way IAM and the KMS encryption context (PARAMETER_ARN) do', () => {
    expect(ssmParameterArn(names.ssm.joinToken, 'ap-northeast-2', '123456789012')).toBe('arn:aws:ssm:ap-northeast-2:123456789012:parameter/hakube/production/kubeadm/join-token');
    expect(JOIN_PARAMETER_KEYS.map((key) => names.ssm[key])).toEqual(['/hakube/production/kubeadm/certificate-key', '/hakube/production/kubeadm/ca-cert-hash', '/hakube/production/kubeadm/join-token']);
  });

  it('rejects a name that is not a path', () => {
    expect(() => ssmParameterArn('kubeadm/join-token', 'r', '1')).toThrow('ssmParameterArn: name = "kubeadm/join-token"; expected an SSM parameter name starting with "/"');
  });
});
