import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { bootstrapBundle, renderUserData } from '@platform/node-bootstrap';
import { bootstrapNames, legacyBackupCredentials, workloadIdentitiesOf, workloadIdentity, CONTROL_PLANE_TERMINATING_HOOK_TIMEOUT_SECONDS, etcdQuorum, LAUNCHING_HOOK_TIMEOUT_SECONDS, NODE_TERMINATION_QUEUE_RETENTION_SECONDS, TERMINATING_HOOK_TIMEOUT_SECONDS, type ClusterDefinition, type ClusterNames, type Platform, CLUSTER_STACK_OUTPUTS, ROUTE53_METRICS_REGION } from '@platform/platform-config';
import { TerraformOutput, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import { ApiEndpoint } from './api-endpoint/api-endpoint';
import { PrivateHostedZone } from './api-endpoint/private-hosted-zone';
import { FailoverRecord, type FailoverRecordRole } from './dns/failover-record';
import { HealthCheckAlarm } from './dns/health-check-alarm';
import { IngressLoadBalancer } from './ingress/ingress-load-balancer';
import { ArchiveHomeCopy } from './backups/archive-home-copy';
import { BackupBucket, type BackupReplica } from './backups/backup-bucket';
import { SnapshotRestoreRole } from './backups/snapshot-restore-role';
import { BootstrapBundles } from './bootstrap/bootstrap-bundles';
import { AzFailureExperiment } from './chaos/az-failure-experiment';
import { MachineImage } from './compute/machine-image';
import { ControlPlane } from './control-plane/control-plane';
import { workloadPolicies, type RestoreSource } from './identity/workload-policies';
import { WorkloadRoles } from './identity/workload-roles';
import { controlPlaneAddOnFallback, controlPlanePolicies, workerPolicies, type NodePolicyContext } from './iam/node-policies';
import { LegacyAppBackupUser } from './backups/legacy-app-backup-user';
import { NodeRole } from './iam/node-role';
import { IssuerBucket } from './identity/issuer-bucket';
import { ServiceAccountOidcProvider } from './identity/oidc-provider';
import { JoinParameters } from './join-parameters';
import { ClusterKey } from './kms';
import { ClusterNetwork } from './network/cluster-network';
import { NatProvider } from './network/nat-provider';
import { accountIdOf } from './private/arn';
import { NodeSecurityGroups } from './security/node-security-groups';
import { autoscalingGroupsIn } from './private/autoscaling-groups';
import { StateBackend } from './state-backend';
import { TerminationHandling } from './termination/termination-handling';
import { WorkerPool } from './workers/worker-pool';

export interface ClusterStackProps {
  readonly platform: Platform;
  readonly cluster: ClusterDefinition;
  /** @default StateBackend.s3() with the platform's state bucket and this stack's key */
  readonly backend?: StateBackend;
  /** @default the images the platform's AMI lock pins for the cluster's region */
  readonly machineImage?: MachineImage;
  /** AZs a game day may take away, one FIS template each. @default every AZ of the cluster */
  readonly chaosAvailabilityZones?: readonly string[];
}

/** Provider alias of the backup replica region. */
export const REPLICA_PROVIDER_ALIAS = 'replica';
/** Provider alias of us-east-1, where Route 53 health-check metrics (and so their alarms) live. */
export const ROUTE53_METRICS_PROVIDER_ALIAS = 'route53-metrics';

/** Every AWS resource of one cluster, in one Terraform stack named `names.stack`. */
export class ClusterStack extends TerraformStack {
  /** ARN of the cluster's IAM OIDC provider (service-account issuer): what workload roles trust. */
  readonly serviceAccountProviderArn: string;

  constructor(scope: Construct, id: string, props: ClusterStackProps) {
    super(scope, id);
    const { platform, cluster } = props;
    const names = platform.namesOf(cluster);
    const settings = platform.settings;
    (props.backend ?? StateBackend.s3({ bucket: platform.names.stateBucket, key: names.stateKey, region: settings.state.region })).bind(this);

    const defaultTags = { tags: { Cluster: cluster.name, Environment: cluster.environment, Stack: names.stack, ManagedBy: 'terraform' } };
    new AwsProvider(this, 'aws', { region: cluster.region, defaultTags: [defaultTags] });
    const replicaRegion = cluster.backups.replicaRegion;
    const replicaProvider = replicaRegion ? new AwsProvider(this, 'aws-replica', { alias: REPLICA_PROVIDER_ALIAS, region: replicaRegion, defaultTags: [defaultTags] }) : undefined;

    const network = new ClusterNetwork(this, 'network', {
      namePrefix: cluster.name,
      clusterTagKey: names.clusterTagKey,
      region: cluster.region,
      vpcCidr: cluster.vpcCidr,
      availabilityZones: cluster.availabilityZones,
      natProvider: NatProvider.fromDefinition(cluster.nat),
    });
    const api = this.apiEndpoints(props, names, network);
    const ingress = new IngressLoadBalancer(this, 'ingress', {
      loadBalancerName: names.ingressLoadBalancer,
      targetGroupNames: names.ingressTargetGroups,
      vpcId: network.vpcId,
      vpcCidr: network.vpcCidr,
      subnetIds: network.zones.map((z) => z.publicSubnetId),
    });
    const securityGroups = new NodeSecurityGroups(this, 'security-groups', {
      namePrefix: cluster.name,
      vpcId: network.vpcId,
      vpcCidr: network.vpcCidr,
      clusterTagKey: names.clusterTagKey,
      apiLoadBalancerSecurityGroupId: api.outside.securityGroupId,
      ingressLoadBalancer: { securityGroupId: ingress.securityGroupId, nodePorts: ingress.nodePorts },
    });
    // The node security groups admit one API load balancer; the other admits itself here.
    if (api.outside !== api.inside) api.inside.admitTo(securityGroups.controlPlaneSecurityGroupId);
    const failover = this.failoverRecord(props, ingress);

    const key = new ClusterKey(this, 'kms', { aliasName: names.kmsAlias, description: `${cluster.name} cluster: join material and etcd snapshots` });
    const accountId = accountIdOf(this, key.keyArn);
    if (failover) {
      const metricsRegion = ROUTE53_METRICS_REGION;
      new HealthCheckAlarm(this, 'app-failover-alarm', {
        names: names.healthCheckAlarm,
        healthCheckId: failover.record.healthCheckId,
        description: `${failover.recordName} ${failover.role} (${cluster.name})`,
        provider: new AwsProvider(this, 'aws-route53-metrics', { alias: ROUTE53_METRICS_PROVIDER_ALIAS, region: metricsRegion, defaultTags: [defaultTags] }),
        providerRegion: metricsRegion,
        accountId,
        // The standby's check fails until a promotion opens it: packages/failover arms its alarm then.
        armed: failover.role === 'PRIMARY',
      });
    }
    const join = new JoinParameters(this, 'join-parameters', { joinToken: names.ssm.joinToken, caCertHash: names.ssm.caCertHash, certificateKey: names.ssm.certificateKey, region: cluster.region, accountId });
    const replicaOf = (bucketName: string | undefined, replicationRoleName: string): BackupReplica | undefined =>
      replicaProvider && bucketName ? { bucketName, provider: replicaProvider, replicationRoleName } : undefined;
    const backups = new BackupBucket(this, 'etcd-backups', {
      bucketName: names.etcdBackupBucket,
      kmsKeyArn: key.keyArn,
      retentionDays: cluster.backups.retentionDays,
      contents: 'etcd snapshots',
      expirationRuleId: 'expire-snapshots',
      replica: replicaOf(names.etcdBackupReplicaBucket, names.backupReplicationRoles.etcd),
    });
    // PostgreSQL base backups and WAL: barman's retentionPolicy prunes them, S3 only old versions.
    // A failover primary's database writes its archive straight into the replica (names.appWalArchive):
    // only its role may write there; replication still carries what lands in its own bucket.
    const archivesIntoReplica = names.appBackupReplicaBucket !== undefined && names.appWalArchive.bucket === names.appBackupReplicaBucket;
    const appReplica = replicaOf(names.appBackupReplicaBucket, names.backupReplicationRoles.app);
    const appBackups = new BackupBucket(this, 'app-backups', {
      bucketName: names.appBackupBucket,
      kmsKeyArn: key.keyArn,
      retentionDays: cluster.backups.retentionDays,
      contents: 'PostgreSQL backups',
      replica:
        appReplica && archivesIntoReplica
          ? { ...appReplica, directWriter: { principalArns: this.archiveWriters(cluster, names, accountId), prefix: names.appBackupArchive.bucketPrefix, accountId } }
          : appReplica,
    });
    // Its archive then lives only in the standby's region: S3 copies it back home (restores while that region is down).
    if (archivesIntoReplica && replicaProvider && appBackups.replicaBucketName && appBackups.replicaBucketArn && appBackups.replicaKeyArn) {
      new ArchiveHomeCopy(this, 'app-archive-home', {
        archiveBucketName: appBackups.replicaBucketName,
        archiveBucketArn: appBackups.replicaBucketArn,
        archiveKeyArn: appBackups.replicaKeyArn,
        provider: replicaProvider,
        homeBucketArn: appBackups.bucketArn,
        homeKeyArn: key.keyArn,
        prefix: names.appBackupArchive.bucketPrefix,
        replicationRoleName: names.backupReplicationRoles.appArchiveHome,
        versioning: appBackups.versioning,
      });
    }

    // The node scripts, one object per role; user data only fetches its role's pinned version.
    const bundles = new BootstrapBundles(this, 'bootstrap-bundles', {
      bucketName: names.bootstrapBucket,
      bundles: (['control-plane', 'worker'] as const).map((role) => ({ role, key: bootstrapNames(names).bundleKey(role), contentBase64: bootstrapBundle(role).contentBase64 })),
    });
    // Service-account issuer (IRSA): the control plane publishes discovery + JWKS here, STS trusts it through the provider.
    const issuer = names.serviceAccountIssuer;
    const identity = cluster.serviceAccountIdentity;
    const issuerBucket = new IssuerBucket(this, 'service-account-issuer', { bucketName: issuer.bucket, publicKeys: [issuer.discoveryKey, issuer.jwksKey] });
    const oidcProvider = new ServiceAccountOidcProvider(this, 'service-account-oidc', { issuerUrl: issuer.url, audience: issuer.audience });
    this.serviceAccountProviderArn = oidcProvider.arn;

    const policyContext: NodePolicyContext = {
      region: cluster.region,
      accountId,
      clusterTagKey: names.clusterTagKey,
      kmsKeyArn: key.keyArn,
      ssmPrefix: names.ssmPrefix,
      ciKubeconfigParameter: names.ssm.ciKubeconfig,
      operatorSecureStrings: [names.ssm.gitCredentials, bootstrapNames(names).serviceAccountNextKey],
      joinParameterArns: join.arns,
      workerJoinParameterArns: [join.joinTokenArn, join.caCertHashArn],
      backupBucketArn: backups.bucketArn,
      etcdSnapshotPrefix: bootstrapNames(names).etcdSnapshotPrefix,
      bootstrapBundleArns: { 'control-plane': bundles.bundle('control-plane').objectArn, worker: bundles.bundle('worker').objectArn },
      serviceAccountIssuerObjectArns: issuerBucket.objectArns,
      identityStageRecords: bootstrapNames(names).identityStageRecords,
      etcdSlot: { ...names.etcdSlot, clusterName: cluster.name },
    };
    const controlPlaneRole = new NodeRole(this, 'control-plane-role', { roleName: names.controlPlaneRole, instanceProfileName: names.controlPlaneInstanceProfile, policies: controlPlanePolicies(policyContext) });
    const workerRole = new NodeRole(this, 'worker-role', { roleName: names.workerRole, instanceProfileName: names.workerInstanceProfile, policies: workerPolicies(policyContext) });
    // The node roles write snapshots but never read them (pki/sa.key inside): a restore signs its download with this role.
    const restoreRole = new SnapshotRestoreRole(this, 'etcd-restore', {
      roleName: names.etcdRestoreRole,
      region: cluster.region,
      accountId,
      bucketArn: backups.bucketArn,
      snapshotPrefix: bootstrapNames(names).etcdSnapshotPrefix,
      kmsKeyArn: key.keyArn,
      deniedPrincipalArns: [names.controlPlaneRole, names.workerRole].map((role) => `arn:aws:iam::${accountId}:role/${role}`),
    });

    const machineImage = props.machineImage ?? MachineImage.fromAmiIds(Object.fromEntries(Object.entries(platform.amiLock[cluster.region] ?? {}).map(([arch, image]) => [arch, image && cluster.nodeImage.imageIdOf(image, cluster.kubernetesVersion)])));
    const privateZones = network.zones.map((z) => ({ availabilityZone: z.availabilityZone, subnetId: z.privateSubnetId }));
    const nodeTags = { [names.clusterTagKey]: 'owned' };
    // Nodes use the private name (no NAT on their path to the API); the API server certificate
    // names every way in (both records and both NLBs' own names) so clients using any verify it.
    const bootstrap = {
      cluster,
      settings,
      names,
      apiEndpoint: api.inside.endpoint,
      apiExternalEndpoint: api.outside.endpoint,
      apiAlternateNames: [...new Set([api.outside.endpoint, api.inside.loadBalancerDnsName, api.outside.loadBalancerDnsName])],
    };

    const controlPlane = new ControlPlane(this, 'control-plane', {
      count: cluster.controlPlane.count,
      zones: privateZones,
      instanceType: cluster.controlPlane.instanceType,
      rootVolumeGiB: cluster.controlPlane.rootVolumeGiB,
      machineImage,
      instanceProfileName: controlPlaneRole.instanceProfileName,
      securityGroupIds: [securityGroups.controlPlaneSecurityGroupId],
      targetGroupArns: [...new Set([api.outside.targetGroupArn, api.inside.targetGroupArn])],
      cloudConfig: renderUserData({ ...bootstrap, role: 'control-plane', bundleVersionId: bundles.bundle('control-plane').versionId }),
      asgName: names.controlPlaneAsg,
      launchTemplateName: names.controlPlaneLaunchTemplate,
      nodeTags,
      etcd: { kmsKeyArn: key.keyArn, clusterName: cluster.name, ...names.etcdSlot },
    });
    const pools = cluster.workerPools.map(
      (pool) =>
        new WorkerPool(this, `workers-${pool.name}`, {
          pool,
          zones: privateZones,
          machineImage,
          instanceProfileName: workerRole.instanceProfileName,
          securityGroupIds: [securityGroups.workerSecurityGroupId],
          cloudConfig: renderUserData({ ...bootstrap, role: 'worker', pool, bundleVersionId: bundles.bundle('worker').versionId }),
          asgName: (az) => names.workerAsg(pool, az),
          launchTemplateName: names.workerLaunchTemplate(pool),
          nodeTags,
          autoscalerDiscoveryTags: names.autoscalerDiscoveryTags,
          // Every pool carries ingress traffic: the controller's Service uses
          // externalTrafficPolicy Cluster, so any worker forwards to a ready controller pod.
          targetGroupArns: ingress.targetGroupArns,
        }),
    );

    // Every node leaves through a cordon and drain (docs/runbooks/node-termination.md).
    const termination = new TerminationHandling(this, 'node-termination', {
      names: names.nodeTermination,
      region: cluster.region,
      accountId,
      groups: [
        ...autoscalingGroupsIn(controlPlane).map((g) => ({ asgName: g.reference, literalName: g.literalName, role: 'control-plane' as const })),
        ...pools.flatMap((pool) => autoscalingGroupsIn(pool).map((g) => ({ asgName: g.reference, literalName: g.literalName, role: 'worker' as const }))),
      ],
      clusterTagKey: names.clusterTagKey,
      terminatingHookTimeoutSeconds: TERMINATING_HOOK_TIMEOUT_SECONDS,
      controlPlaneTerminatingHookTimeoutSeconds: CONTROL_PLANE_TERMINATING_HOOK_TIMEOUT_SECONDS,
      launchingHookTimeoutSeconds: LAUNCHING_HOOK_TIMEOUT_SECONDS,
      messageRetentionSeconds: NODE_TERMINATION_QUEUE_RETENTION_SECONDS,
      expectedAccountId: settings.accountId,
      // Until the identity stage is complete the handler's rights stay on the control-plane role too (fallback).
      handlerRoleName: identity.nodeRolesKeepAddOnRights ? controlPlaneRole.roleName : undefined,
    });

    // One role per workload identity (IRSA): the add-ons' AWS rights live here, not on the nodes.
    const policies = workloadPolicies({
      region: cluster.region,
      accountId,
      clusterTagKey: names.clusterTagKey,
      autoscalerClusterTagKey: names.autoscalerDiscoveryTags[names.autoscalerDiscoveryTags.length - 1],
      nodeTerminationHandler: termination.handlerPolicy,
      appBackups: {
        bucketArn: appBackups.bucketArn,
        prefix: names.appBackupArchive.bucketPrefix,
        kmsKeyArn: key.keyArn,
        restoreSources: this.restoreSources(platform, cluster),
        walArchive:
          archivesIntoReplica && appBackups.replicaBucketArn && appBackups.replicaKeyArn
            ? { bucketArn: appBackups.replicaBucketArn, kmsKeyArn: appBackups.replicaKeyArn, region: names.appWalArchive.region }
            : undefined,
      },
    });
    const workloadRoles = new WorkloadRoles(this, 'workload-roles', {
      // The provider's own ARN (a reference, not the derived string), so Terraform creates it before the trusts naming it.
      providerArn: oidcProvider.arn,
      issuerHost: issuer.host,
      audience: issuer.audience,
      identities: workloadIdentitiesOf(cluster, names),
      policies,
    });
    // A cluster that ran before IRSA keeps what its pods use until the last stage (docs/runbooks/service-account-issuer.md).
    for (const [name, document] of Object.entries(controlPlaneAddOnFallback(identity, policies))) controlPlaneRole.addPolicy(name, document);
    const legacyUser = identity.legacyBackupUser
      ? new LegacyAppBackupUser(this, 'app-backup-user', { userName: legacyBackupCredentials(cluster.name, names.appBackupArchive.namespace).iamUser, policy: policies['postgres-backups'] })
      : undefined;

    const chaos = new AzFailureExperiment(this, 'az-failure', {
      experimentName: names.fisExperiment,
      roleName: names.fisRole,
      targetZones: props.chaosAvailabilityZones,
      availabilityZones: cluster.availabilityZones,
      vpcId: network.vpcId,
      clusterTagKey: names.clusterTagKey,
      stopBelowHealthyApiTargets: etcdQuorum(cluster.controlPlane.count),
      // The nodes' load balancer: every cluster has it, and its targets are the same servers.
      apiLoadBalancerArnSuffix: api.inside.loadBalancerArnSuffix,
      apiTargetGroupArnSuffix: api.inside.targetGroupArnSuffix,
    });

    // Output names are API for the workflows: keep them stable.
    const outputs: Record<string, { value: unknown; description: string }> = {
      region: { value: cluster.region, description: 'AWS region of the cluster' },
      [CLUSTER_STACK_OUTPUTS.availabilityZones]: { value: cluster.availabilityZones, description: 'AZs the cluster spans' },
      [CLUSTER_STACK_OUTPUTS.apiEndpoint]: { value: api.outside.endpoint, description: 'Kubernetes API endpoint for operators and CI (host name, port 6443): the public one, or the private one of an internal-only cluster' },
      api_internal_endpoint: { value: api.inside.endpoint, description: 'In-cluster Kubernetes API endpoint (private hosted zone name, port 6443), resolvable only inside the VPC' },
      api_target_group_arn: { value: api.outside.targetGroupArn, description: 'NLB target group of the API servers behind api_endpoint' },
      vpc_id: { value: network.vpcId, description: 'Cluster VPC' },
      private_subnet_ids: { value: network.zones.map((z) => z.privateSubnetId), description: 'Private subnets, in AZ order' },
      public_subnet_ids: { value: network.zones.map((z) => z.publicSubnetId), description: 'Public subnets, in AZ order' },
      kms_key_arn: { value: key.keyArn, description: 'Cluster KMS key' },
      service_account_issuer: { value: issuer.url, description: 'Service-account issuer (kube-apiserver --service-account-issuer); discovery document and JWKS served from its bucket' },
      service_account_oidc_provider_arn: { value: oidcProvider.arn, description: 'IAM OIDC provider of the service-account issuer: what workload roles trust' },
      bootstrap_bucket: { value: bundles.bucketName, description: 'Node bootstrap script bundles (one object per role, versions pinned by launch templates)' },
      ssm_prefix: { value: names.ssmPrefix, description: 'SSM path of the join material' },
      etcd_backup_bucket: { value: backups.bucketName, description: 'etcd snapshot bucket' },
      app_backup_bucket: { value: appBackups.bucketName, description: 'PostgreSQL base backups and WAL archive' },
      workload_role_arns: { value: workloadRoles.roleArns, description: 'IAM role of each workload identity (IRSA), by identity id (docs/identity.md)' },
      control_plane_role_arn: { value: controlPlaneRole.roleArn, description: 'Control-plane instance role' },
      worker_role_arn: { value: workerRole.roleArn, description: 'Worker instance role' },
      etcd_restore_role_arn: { value: restoreRole.roleArn, description: 'Break-glass role that reads etcd snapshots: etcd-restore.sh request signs the download URL with it (RESTORE_ROLE_ARN)' },
      control_plane_asg_names: { value: controlPlane.nodes.map((n) => n.asgName), description: 'One ASG per control-plane node' },
      [CLUSTER_STACK_OUTPUTS.workerAsgNames]: { value: pools.flatMap((p) => p.groups.map((g) => g.asgName)), description: 'Worker ASGs, one per pool and AZ' },
      [CLUSTER_STACK_OUTPUTS.fisTemplateIdsByAz]: { value: chaos.templateIds, description: 'Game-day AZ-failure experiment per AZ (AZ -> template id); game-day picks the one of its input AZ' },
      fis_role_arn: { value: chaos.roleArn, description: 'Role the experiment runs with' },
      [CLUSTER_STACK_OUTPUTS.ingressDnsName]: { value: ingress.loadBalancerDnsName, description: 'Public ingress NLB (TCP 80, 443)' },
      [CLUSTER_STACK_OUTPUTS.nodeTerminationQueueUrl]: { value: termination.queueUrl, description: 'SQS queue the node termination handler reads (its queueURL: platform-config sqsQueueUrl with settings.accountId)' },
      ingress_target_group_arns: { value: ingress.targetGroupArns, description: 'Ingress target groups (HTTP, HTTPS NodePorts), attached to every worker ASG' },
    };
    if (legacyUser) outputs.app_backup_iam_user = { value: legacyUser.userName, description: 'IAM user of the database backups until serviceAccountIdentity is complete (docs/runbooks/service-account-issuer.md)' };
    if (failover) {
      outputs.app_failover_role = { value: failover.role, description: `Route 53 failover role of this cluster's ${failover.recordName} record` };
      outputs.app_health_check_id = { value: failover.record.healthCheckId, description: 'Route 53 health check on this region\'s ingress NLB' };
    }
    if (backups.replicaBucketName) outputs.etcd_backup_replica_bucket = { value: backups.replicaBucketName, description: `etcd snapshot replica in ${replicaRegion}` };
    if (appBackups.replicaBucketName) outputs.app_backup_replica_bucket = { value: appBackups.replicaBucketName, description: `PostgreSQL backup replica in ${replicaRegion} (what the standby restores from)` };
    for (const [id, output] of Object.entries(outputs)) new TerraformOutput(this, id, output);
  }

  /**
   * The API endpoints: always an internal NLB behind `names.apiInternal.hostname` in the cluster's
   * private hosted zone (what the nodes use, so no node traffic to the API crosses a NAT gateway),
   * and for an `internet-facing` cluster the public NLB for operators and CI (limited to
   * `allowedCidrs`, behind `names.apiHostname` when that is on). `outside` is the one operators
   * use: the public one, or the internal one of an internal-only cluster.
   */
  private apiEndpoints(props: ClusterStackProps, names: ClusterNames, network: ClusterNetwork): { inside: ApiEndpoint; outside: ApiEndpoint } {
    const { cluster, platform } = props;
    const common = { vpcId: network.vpcId, vpcCidr: network.vpcCidr };
    let outside: ApiEndpoint | undefined;
    if (cluster.apiEndpoint.exposure === 'internet-facing') {
      // platform-config derives names.apiHostname only when apiEndpoint.dnsRecord is on and rejects it without settings.dns.
      const dns = platform.settings.dns;
      // Construct id 'api', as when it was the only API endpoint: an apply adds the internal one beside it.
      outside = new ApiEndpoint(this, 'api', {
        ...common,
        loadBalancerName: names.apiLoadBalancer,
        targetGroupName: names.apiTargetGroup,
        subnetIds: network.zones.map((z) => z.publicSubnetId),
        exposure: 'internet-facing',
        allowedCidrs: cluster.apiEndpoint.allowedCidrs,
        dnsRecord: names.apiHostname && dns ? { hostedZoneId: dns.hostedZoneId, name: names.apiHostname } : undefined,
      });
    }
    const zone = new PrivateHostedZone(this, 'api-private-zone', { zoneName: names.apiInternal.zone, vpcId: network.vpcId });
    const inside = new ApiEndpoint(this, 'api-internal', {
      ...common,
      loadBalancerName: names.apiInternal.loadBalancer,
      targetGroupName: names.apiInternal.targetGroup,
      subnetIds: network.zones.map((z) => z.privateSubnetId),
      exposure: 'internal',
      // Of an internal-only cluster: networks routed into the VPC (VPN, peering) reach the private addresses.
      allowedCidrs: outside ? [] : cluster.apiEndpoint.allowedCidrs,
      // The name's only record: nothing to fail over to, and the first control-plane node resolves
      // it before it is a healthy target itself (the NLB fails open with no healthy target anyway).
      dnsRecord: { hostedZoneId: zone.zoneId, name: names.apiInternal.hostname, evaluateTargetHealth: false },
    });
    return { inside, outside: outside ?? inside };
  }

  /** Who writes the database's archive: its role, and the legacy backup user while the cluster still has one (its pods may use its keys). */
  private archiveWriters(cluster: ClusterDefinition, names: ClusterNames, accountId: string): string[] {
    const role = workloadIdentity(names, 'postgres-backups').roleArn(accountId);
    if (!cluster.serviceAccountIdentity.legacyBackupUser) return [role];
    return [role, `arn:aws:iam::${accountId}:user/${legacyBackupCredentials(cluster.name, names.appBackupArchive.namespace).iamUser}`];
  }

  /**
   * Buckets the database's workload role reads in a restore: a standby promotes from its primary's
   * replica bucket (in the standby's region); a primary fails back from the standby's own bucket.
   */
  private restoreSources(platform: Platform, cluster: ClusterDefinition): RestoreSource[] {
    const pair = platform.failoverRoleOf(cluster);
    if (!pair) return [];
    if (pair.role === 'primary') return [{ bucketName: platform.namesOf(pair.standby).appBackupBucket, region: pair.standby.region }];
    const replica = platform.namesOf(pair.primary).appBackupReplicaBucket;
    const region = pair.primary.backups.replicaRegion;
    // platform-config puts a primary's replica in its standby's region (or has no replica).
    return replica && region ? [{ bucketName: replica, region }] : [];
  }

  /**
   * The app's failover record for this region when the cluster is a primary (names a standby)
   * or a standby (named by a primary). Both halves use the check timing the primary's
   * `objectives.appRtoSeconds` calls for: that is how long its users may be sent to a dead region.
   */
  private failoverRecord(props: ClusterStackProps, ingress: IngressLoadBalancer): { role: FailoverRecordRole; recordName: string; record: FailoverRecord } | undefined {
    const { platform, cluster } = props;
    const part = platform.failoverRoleOf(cluster);
    const dns = platform.settings.dns;
    const recordName = platform.names.appHostname;
    // platform-config rejects a failover pair without settings.dns.
    if (!part || !dns || !recordName) return undefined;
    const role: FailoverRecordRole = part.role === 'primary' ? 'PRIMARY' : 'SECONDARY';
    const record = new FailoverRecord(this, 'app-failover', {
      hostedZoneId: dns.hostedZoneId,
      recordName,
      role,
      setIdentifier: cluster.name,
      loadBalancerDnsName: ingress.loadBalancerDnsName,
      loadBalancerZoneId: ingress.loadBalancerZoneId,
      recoveryObjectiveSeconds: part.primary.objectives.appRtoSeconds,
    });
    return { role, recordName, record };
  }
}
