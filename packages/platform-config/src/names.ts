import type { ClusterDefinition, PlatformSettings, WorkerPool } from './cluster-definition';
import { databaseStoreOf } from './database-store';
import { healthCheckAlarmNames, type HealthCheckAlarmNames } from './health-check-page';
import { nodeTerminationNames, type NodeTerminationNames } from './node-termination';
import { serviceAccountIssuerNames, type ServiceAccountIssuerNames } from './service-account-issuer';
import { azSuffix } from './regions';

/**
 * Every name other packages use for a cluster's resources, derived here once so the
 * AWS side, the manifests and ha-check agree without retyping strings.
 */
export interface ClusterNames {
  readonly cluster: string;
  /** Terraform stack of the cluster (`apps/infra/cdktf.out/stacks/<stack>`). */
  readonly stack: string;
  /** Key of that stack's state in the state bucket. */
  readonly stateKey: string;
  readonly clusterTagKey: string;
  readonly autoscalerDiscoveryTags: readonly string[];
  readonly controlPlaneRole: string;
  readonly workerRole: string;
  readonly controlPlaneInstanceProfile: string;
  readonly workerInstanceProfile: string;
  readonly kmsAlias: string;
  readonly apiLoadBalancer: string;
  /**
   * Route 53 alias record of the public (internet-facing) API load balancer,
   * `api.<cluster>.<settings.dns.hostedZoneName>`, for operators and CI, when
   * `apiEndpoint.dnsRecord` is on (with settings.dns set and exposure internet-facing); otherwise undefined.
   */
  readonly apiHostname: string | undefined;
  readonly apiTargetGroup: string;
  /**
   * In-cluster API endpoint (kubelets, kube-proxy, joins, bootstrap scripts): an internal NLB
   * (`loadBalancer`, `targetGroup`) behind `hostname` in the private hosted zone `zone`,
   * associated with the cluster's VPC only. Under `.internal`, the top-level domain ICANN
   * reserves for private use, so the name can never collide with, or leak into, public DNS.
   */
  readonly apiInternal: { readonly zone: string; readonly hostname: string; readonly loadBalancer: string; readonly targetGroup: string };
  readonly etcdBackupBucket: string;
  /**
   * Private bucket of the node bootstrap bundles (`bootstrapNames().bundleKey(role)`): the user data
   * carries only a stub that fetches its role's bundle from here, pinned by version and SHA-256.
   */
  readonly bootstrapBucket: string;
  /** The replica bucket in `backups.replicaRegion`, when replication is on. */
  readonly etcdBackupReplicaBucket: string | undefined;
  /** S3 bucket for application data backups (PostgreSQL). */
  readonly appBackupBucket: string;
  /**
   * The app backup bucket in `backups.replicaRegion`, when replication is on. A failover primary's
   * database writes its archive here directly (`appWalArchive`); S3 replication still copies what
   * lands in `appBackupBucket` into it.
   */
  readonly appBackupReplicaBucket: string | undefined;
  /**
   * Where the database's object store lives (WAL archive and base backups: CloudNativePG keeps
   * one per cluster). A failover primary (`failover.standbyCluster` with `backups.replicaRegion`,
   * which validation holds to the standby's region) archives straight into `appBackupReplicaBucket`
   * in the standby's region, so a WAL segment is in the surviving region when `archive_command`
   * returns: no replication lag in the regional RPO (docs/decisions/wal-archive-in-standby-region.md).
   * Any other cluster archives into its own `appBackupBucket`, in its own region. This is the folder
   * the pair replays (`externalClusters`): it does not move with `appDatabaseStore`.
   */
  readonly appWalArchive: { readonly bucket: string; readonly region: string };
  /**
   * Where the database itself writes (its `spec.backup` store): `appWalArchive` under
   * DatabaseStore.standbyRegion(), its own `appBackupBucket` under DatabaseStore.ownRegion()
   * (`backups.databaseStore`; S3 replication then feeds `appWalArchive`, the same key path in the
   * standby's region, so the standby keeps replaying the same folder).
   */
  readonly appDatabaseStore: { readonly bucket: string; readonly region: string };
  /** Roles S3 replicates each backup bucket with (IAM names are global: the cluster name keeps them apart). */
  readonly backupReplicationRoles: {
    readonly etcd: string;
    readonly app: string;
    /** Copies the database's archive in the standby's region back into `appBackupBucket` (a failover primary only). */
    readonly appArchiveHome: string;
  };
  /**
   * Break-glass role that alone may read etcd snapshots (they hold `pki/sa.key` and the CA keys):
   * an operator assumes it to sign the download URL of a restore; no node role reads them.
   */
  readonly etcdRestoreRole: string;
  /**
   * Where the database archives in the app backup bucket: its namespace and the key prefix its
   * workload identity (`postgres-backups`, workload-identities.ts) may write. The same in every
   * cluster, so a restore on the standby finds the primary's archive under the same prefix.
   */
  readonly appBackupArchive: AppBackupArchiveNames;
  readonly ssmPrefix: string;
  readonly ssm: {
    readonly initLock: string;
    readonly joinToken: string;
    readonly caCertHash: string;
    readonly certificateKey: string;
    readonly gitCredentials: string;
    /** SecureString: a kubeconfig for the region-failover workflow (written by the control plane). */
    readonly ciKubeconfig: string;
    /**
     * String parameter that exists only while this cluster, a standby, is promoted: written by
     * packages/failover's promotion, removed by fail-back. An apply of this cluster's stack
     * must refuse while it exists (`assertNotPromoted`): Terraform would put the pilot-light
     * worker minimums back under production traffic.
     */
    readonly promotedMarker: string;
  };
  /** Terraform-owned NLB in front of the ingress controller. */
  readonly ingressLoadBalancer: string;
  /** Its target groups: the workers' HTTP and HTTPS NodePorts (≤ 32 characters, an AWS limit). */
  readonly ingressTargetGroups: { readonly http: string; readonly https: string };
  readonly fisExperiment: string;
  readonly fisRole: string;
  /** Node-termination handling: the queue, its key, the EventBridge rules and the lifecycle hooks. */
  readonly nodeTermination: NodeTerminationNames;
  /** The us-east-1 alarm that pages when this cluster's failover health check fails, its topic and key. */
  readonly healthCheckAlarm: HealthCheckAlarmNames;
  /**
   * Tags on each control-plane slot's etcd volume and address (ENI), docs/decisions/etcd-volumes.md:
   * `clusterTagKey` = the cluster name (IAM scopes attach rights by it), `slotTagKey` = the slot's
   * control-plane ASG name (the booting node finds its own by it). Never the cluster ownership tag:
   * the EBS CSI controller may detach and delete volumes that carry it.
   */
  readonly etcdSlot: { readonly clusterTagKey: string; readonly slotTagKey: string };
  /** Service-account issuer (IRSA): the discovery bucket, issuer URL, OIDC provider and workload role names. */
  readonly serviceAccountIssuer: ServiceAccountIssuerNames;
  readonly gitopsPath: string;
  /**
   * ASG of a control-plane node. `ordinal` counts nodes within one AZ (0 = first) and only
   * matters when there are more nodes than AZs (5 nodes over 3 AZs). @default 0
   */
  controlPlaneAsg(availabilityZone: string, ordinal?: number): string;
  workerAsg(pool: Pick<WorkerPool, 'name'>, availabilityZone: string): string;
  /** Launch template names follow their ASG. */
  controlPlaneLaunchTemplate(availabilityZone: string, ordinal?: number): string;
  workerLaunchTemplate(pool: Pick<WorkerPool, 'name'>): string;
}

/** See ClusterNames.appBackupArchive. */
export interface AppBackupArchiveNames {
  /** The database's namespace. */
  readonly namespace: string;
  /** Key prefix of the app backup bucket the database's role may write (each database archives below it). */
  readonly bucketPrefix: string;
}

/**
 * The SSM parameters holding kubeadm join material, in the order a node publishes them
 * (the token last: a published token means the rest is there). SecureStrings created and
 * refreshed by the control-plane nodes, never by Terraform: absent means "not published yet".
 */
export const JOIN_PARAMETER_KEYS = ['certificateKey', 'caCertHash', 'joinToken'] as const;
export type JoinParameterKey = (typeof JOIN_PARAMETER_KEYS)[number];

/**
 * ARN of an SSM parameter (`name` starts with "/"), the form IAM policies and SSM's KMS
 * encryption context (`PARAMETER_ARN`) use. Region and account may be Terraform tokens.
 */
export function ssmParameterArn(name: string, region: string, accountId: string): string {
  if (!name.startsWith('/')) throw new Error(`ssmParameterArn: name = ${JSON.stringify(name)}; expected an SSM parameter name starting with "/"`);
  return `arn:aws:ssm:${region}:${accountId}:parameter${name}`;
}

/** Namespace of the stateful example (CloudNativePG). */
export const APP_DATA_NAMESPACE = 'data';

/**
 * Prefix of the cluster ownership tag `kubernetes.io/cluster/<name>` (`ClusterNames.clusterTagKey`).
 * The EBS CSI driver builds the same key from its `k8sTagClusterId` (the cluster name) and tags
 * every volume and snapshot it creates with it as `owned`, which the controller's IAM conditions on.
 */
export const CLUSTER_TAG_PREFIX = 'kubernetes.io/cluster/';

/** First label of `ClusterNames.apiHostname`: `api.<cluster>.<zone>`, and of `apiInternal.hostname`. */
const API_RECORD = 'api';
/** ICANN's private-use top-level domain (never delegated in public DNS). */
const PRIVATE_TLD = 'internal';

/** GitHub environment of the scheduled fence (`PlatformNames.ciFenceEnvironment`). */
const FENCE_ENVIRONMENT = 'region-failover-fence';
/** GitHub environment of the manual promotion and fail-back (`PlatformNames.ciFailoverEnvironment`). */
const FAILOVER_ENVIRONMENT = 'region-failover';
/** GitHub environment of the application release and promotion jobs (`PlatformNames.ciReleaseEnvironment`). */
export const RELEASE_ENVIRONMENT = 'app-release';

/** Names shared by every cluster: the account-level CI identity stack and its roles. */
export interface PlatformNames {
  readonly ciIdentityStack: string;
  readonly ciPlanRole: string;
  readonly ciApplyRole: string;
  /** Read-only role of scheduled drift detection on the main branch. */
  readonly ciDriftRole: string;
  /**
   * Role of the scheduled region-failover fence (`region-failover-fence.yml`): reads the
   * promoted markers and the failover kubeconfigs, nothing else; trusted only for its own
   * environment, `ciFenceEnvironment`.
   */
  readonly ciFenceRole: string;
  /**
   * GitHub environment of the fence job: no required reviewers (the schedule must run
   * unattended), deployment branches `main` only. Not the apply environment: a fence waiting
   * for approval never runs, and the apply role is not what it needs.
   */
  readonly ciFenceEnvironment: string;
  /**
   * Role of the manual promotion and fail-back (`region-failover.yml`): exactly the AWS calls
   * packages/failover makes, on the failover pairs' resources; trusted only for its own
   * environment, `ciFailoverEnvironment`. Not the apply role (administrator).
   */
  readonly ciFailoverRole: string;
  /**
   * GitHub environment of the failover job: required reviewers, deployment branches `main`
   * only. Its own subject, so the job cannot assume the apply role.
   */
  readonly ciFailoverEnvironment: string;
  /**
   * Role of the application release and promotion jobs (`app-release.yml`): signs in to the
   * catalog's private ECR repositories and reads their images (the registry check), nothing else;
   * trusted only for its own environment, `ciReleaseEnvironment`.
   */
  readonly ciReleaseRole: string;
  /** GitHub environment of the release jobs: deployment branches `main` only (docs/runbooks/app-release.md). */
  readonly ciReleaseEnvironment: string;
  readonly stateBucket: string;
  stateKey(stack: string): string;
  /** Fully qualified name of the sample app's failover record, when DNS is configured. */
  readonly appHostname: string | undefined;
  /**
   * OIDC `sub` claims the roles trust, exactly as GitHub sends them. Pull requests get the
   * read-only plan role, runs on the main branch (drift on a schedule) their own read-only
   * drift role, and only the protected environment, with its reviewers, the apply role.
   */
  readonly ciSubjects: {
    readonly plan: readonly string[];
    readonly apply: readonly string[];
    readonly drift: readonly string[];
    readonly fence: readonly string[];
    readonly failover: readonly string[];
    readonly release: readonly string[];
  };
}

export function platformNames(settings: PlatformSettings): PlatformNames {
  const repo = `repo:${settings.github.owner}/${settings.github.repository}`;
  return {
    ciIdentityStack: 'ci-identity',
    ciPlanRole: `${settings.organization}-github-plan`,
    ciApplyRole: `${settings.organization}-github-apply`,
    ciDriftRole: `${settings.organization}-github-drift`,
    ciFenceRole: `${settings.organization}-github-fence`,
    ciFenceEnvironment: FENCE_ENVIRONMENT,
    ciFailoverRole: `${settings.organization}-github-failover`,
    ciFailoverEnvironment: FAILOVER_ENVIRONMENT,
    ciReleaseRole: `${settings.organization}-github-release`,
    ciReleaseEnvironment: RELEASE_ENVIRONMENT,
    stateBucket: settings.state.bucket,
    appHostname: settings.dns ? `${settings.dns.appRecord}.${settings.dns.hostedZoneName}` : undefined,
    stateKey: (stack) => `${stack}/terraform.tfstate`,
    ciSubjects: {
      plan: [`${repo}:pull_request`],
      apply: [`${repo}:environment:${settings.github.applyEnvironment}`],
      drift: [`${repo}:ref:refs/heads/${settings.github.mainBranch}`],
      fence: [`${repo}:environment:${FENCE_ENVIRONMENT}`],
      failover: [`${repo}:environment:${FAILOVER_ENVIRONMENT}`],
      release: [`${repo}:environment:${RELEASE_ENVIRONMENT}`],
    },
  };
}

export function clusterNames(
  cluster: Pick<ClusterDefinition, 'name' | 'region'> & { readonly backups?: Partial<ClusterDefinition['backups']> } & { readonly failover?: Partial<NonNullable<ClusterDefinition['failover']>>; readonly gitops?: Partial<ClusterDefinition['gitops']>; readonly apiEndpoint?: Partial<ClusterDefinition['apiEndpoint']> },
  settings: PlatformSettings,
): ClusterNames {
  const { name, region } = cluster;
  const org = settings.organization;
  const stack = `${name}-cluster`;
  const ssmPrefix = `/${org}/${name}`;
  const replicaRegion = cluster.backups?.replicaRegion;
  const appBackupBucket = `${org}-${name}-app-backups-${region}`;
  const appBackupReplicaBucket = replicaRegion ? `${org}-${name}-app-backups-${replicaRegion}` : undefined;
  const appWalArchive = cluster.failover?.standbyCluster && appBackupReplicaBucket && replicaRegion ? { bucket: appBackupReplicaBucket, region: replicaRegion } : { bucket: appBackupBucket, region };
  return {
    cluster: name,
    stack,
    stateKey: platformNames(settings).stateKey(stack),
    clusterTagKey: `${CLUSTER_TAG_PREFIX}${name}`,
    autoscalerDiscoveryTags: ['k8s.io/cluster-autoscaler/enabled', `k8s.io/cluster-autoscaler/${name}`],
    controlPlaneRole: `${name}-control-plane`,
    workerRole: `${name}-worker`,
    controlPlaneInstanceProfile: `${name}-control-plane`,
    workerInstanceProfile: `${name}-worker`,
    kmsAlias: `alias/${name}-cluster`,
    apiLoadBalancer: `${name}-api`,
    apiTargetGroup: `${name}-api`,
    // LB and target group names: at most 32 characters (cluster names are at most 20).
    apiInternal: { zone: `${name}.${org}.${PRIVATE_TLD}`, hostname: `${API_RECORD}.${name}.${org}.${PRIVATE_TLD}`, loadBalancer: `${name}-api-int`, targetGroup: `${name}-api-int` },
    apiHostname: cluster.apiEndpoint?.dnsRecord && cluster.apiEndpoint.exposure === 'internet-facing' && settings.dns ? `${API_RECORD}.${name}.${settings.dns.hostedZoneName}` : undefined,
    etcdBackupBucket: `${org}-${name}-etcd-backups-${region}`,
    bootstrapBucket: `${org}-${name}-bootstrap-${region}`,
    etcdBackupReplicaBucket: replicaRegion ? `${org}-${name}-etcd-backups-${replicaRegion}` : undefined,
    appBackupBucket,
    appBackupReplicaBucket,
    appWalArchive,
    appDatabaseStore: databaseStoreOf(cluster).kind === 'standby-region' ? appWalArchive : { bucket: appBackupBucket, region },
    backupReplicationRoles: { etcd: `${name}-etcd-backup-replication`, app: `${name}-app-backup-replication`, appArchiveHome: `${name}-app-archive-home` },
    etcdRestoreRole: `${name}-etcd-restore`,
    appBackupArchive: { namespace: APP_DATA_NAMESPACE, bucketPrefix: 'postgres/' },
    ssmPrefix,
    ssm: {
      initLock: `${ssmPrefix}/kubeadm/init-lock`,
      joinToken: `${ssmPrefix}/kubeadm/join-token`,
      caCertHash: `${ssmPrefix}/kubeadm/ca-cert-hash`,
      certificateKey: `${ssmPrefix}/kubeadm/certificate-key`,
      gitCredentials: `${ssmPrefix}/flux/git-credentials`,
      ciKubeconfig: `${ssmPrefix}/kubeconfig/ci`,
      promotedMarker: `${ssmPrefix}/failover/promoted`,
    },
    ingressLoadBalancer: `${name}-ingress`,
    ingressTargetGroups: { http: `${name}-http`, https: `${name}-https` },
    fisExperiment: `${name}-az-failure`,
    fisRole: `${name}-fis-az-failure`,
    nodeTermination: nodeTerminationNames(name),
    healthCheckAlarm: healthCheckAlarmNames(name),
    etcdSlot: { clusterTagKey: `${org}/etcd-cluster`, slotTagKey: `${org}/etcd-slot` },
    serviceAccountIssuer: serviceAccountIssuerNames(org, name, region),
    gitopsPath: cluster.gitops?.path ?? `clusters/${name}`,
    controlPlaneAsg: (az, ordinal = 0) => `${name}-control-plane-${azSuffix(az)}${ordinal > 0 ? ordinal + 1 : ''}`,
    workerAsg: (pool, az) => `${name}-${pool.name}-${azSuffix(az)}`,
    controlPlaneLaunchTemplate: (az, ordinal = 0) => `${name}-control-plane-${azSuffix(az)}${ordinal > 0 ? ordinal + 1 : ''}`,
    workerLaunchTemplate: (pool) => `${name}-${pool.name}`,
  };
}
