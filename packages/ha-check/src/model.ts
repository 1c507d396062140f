import type { IdentityModel } from './private/identity-model';
import type { TerminationModel } from './private/termination-analysis';
import type { NetworkModel } from './network-model';
/*
 * The deployment as ha-check sees it, built from synthesized output only. Addresses are
 * Terraform addresses (`<stack>/<type>.<name>`) or Kubernetes `Kind/namespace/name`.
 */

export interface Resources {
  readonly cpuMilli: number;
  readonly memoryMiB: number;
}

export interface Taint {
  readonly key: string;
  readonly value: string;
  readonly effect: string;
}

export type DefaultRoute =
  | { readonly kind: 'nat'; readonly natGateway: string }
  | { readonly kind: 'internet-gateway' }
  | { readonly kind: 'other'; readonly target: string }
  | { readonly kind: 'none' };

export interface SubnetModel {
  readonly address: string;
  readonly name: string;
  readonly az: string;
  readonly cidr: string | undefined;
  readonly public: boolean;
  readonly defaultRoute: DefaultRoute;
  /** An S3 gateway endpoint on the subnet's route table: S3 (images, backups) without NAT. */
  readonly s3Endpoint: boolean;
}

export interface NatGatewayModel {
  readonly address: string;
  readonly name: string;
  readonly az: string;
}

export interface HealthCheckModel {
  readonly intervalSeconds: number;
  readonly healthyThreshold: number;
  readonly unhealthyThreshold: number;
  readonly protocol: string;
  readonly path: string | undefined;
}

export interface TargetGroupModel {
  readonly address: string;
  readonly name: string;
  readonly port: number | undefined;
  readonly healthCheck: HealthCheckModel;
  readonly deregistrationDelaySeconds: number;
}

/**
 * `api` when it fronts the Kubernetes API (port 6443); `ingress` when it is internet-facing (an
 * NLB or ALB) and listens on 80 or 443 (the app's way in; an internal one is not); `other` for anything else.
 */
export type LoadBalancerRole = 'api' | 'ingress' | 'other';

export interface LoadBalancerModel {
  readonly address: string;
  readonly name: string;
  readonly role: LoadBalancerRole;
  readonly type: 'network' | 'application';
  readonly internal: boolean;
  readonly azs: readonly string[];
  readonly crossZone: boolean;
  readonly targetGroups: readonly TargetGroupModel[];
}

export interface NodeGroupModel {
  readonly address: string;
  readonly name: string;
  readonly role: 'control-plane' | 'worker';
  readonly azs: readonly string[];
  readonly minSize: number;
  readonly maxSize: number;
  /** Nodes running now: desired capacity, else min size. */
  readonly desired: number;
  readonly instanceTypes: readonly string[];
  /** Allocatable resources of the smallest instance type (worst case), after system reserves. */
  readonly allocatablePerNode: Resources;
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly Taint[];
  /** Target group addresses the ASG registers its instances with. */
  readonly targetGroups: readonly string[];
  /** Tagged for cluster-autoscaler auto-discovery. */
  readonly autoscaled: boolean;
  /** The ASG's tags (what cluster-autoscaler's `asg:tag=` discovery matches). */
  readonly tags: Readonly<Record<string, string>>;
  /** `health_check_type`: EC2 (default) or ELB (the target groups' health decides). */
  readonly healthCheckType: 'EC2' | 'ELB';
  /** Seconds a new instance is given to bootstrap before health checks count (`health_check_grace_period`, AWS default 300). */
  readonly bootstrapGraceSeconds: number;
}

export interface BackupReplicationModel {
  readonly address: string;
  readonly sourceBucket: string;
  readonly sourceRegion: string | undefined;
  readonly destinationBucket: string;
  readonly destinationRegion: string | undefined;
  readonly enabled: boolean;
  /** S3 Replication Time Control's bound in minutes (`destination.replication_time`), undefined when off. */
  readonly replicationTimeMinutes: number | undefined;
}

/** A Route 53 health check (`aws_route53_health_check`). */
export interface DnsHealthCheckModel {
  readonly address: string;
  /** HTTP, HTTPS, HTTP_STR_MATCH, HTTPS_STR_MATCH, TCP, CALCULATED, CLOUDWATCH_METRIC... */
  readonly type: string;
  /** What it probes: a literal name, or the load balancer's name when `fqdn` references one. */
  readonly fqdn: string | undefined;
  readonly port: number | undefined;
  readonly resourcePath: string | undefined;
  /** Seconds between checks (10 or 30; Route 53's default is 30). */
  readonly requestIntervalSeconds: number;
  /** Consecutive failures before unhealthy (1–10; default 3). */
  readonly failureThreshold: number;
}

/** A Route 53 record with a failover routing policy (`aws_route53_record`). */
export interface DnsFailoverRecordModel {
  readonly address: string;
  /** Record name as written (`app.example.com`), or the Terraform reference when computed. */
  readonly name: string;
  readonly type: string;
  readonly failover: 'PRIMARY' | 'SECONDARY';
  readonly setIdentifier: string | undefined;
  readonly healthCheck: DnsHealthCheckModel | undefined;
  /** The alias target's load balancer address, when the alias references an `aws_lb` of the stack. */
  readonly aliasLoadBalancer: string | undefined;
  readonly evaluateTargetHealth: boolean;
  /** Seconds resolvers cache the answer: the record's `ttl`, or 60 for an alias to a load balancer. */
  readonly ttlSeconds: number | undefined;
  readonly ttlSource: 'record' | 'alias-load-balancer' | 'unknown';
}

/** Settings found in user-data / SSM / S3 objects that change the recovery maths. */
export interface RuntimeHints {
  readonly nodeMonitorGracePeriodSeconds?: number;
  /** kube-controller-manager `--horizontal-pod-autoscaler-sync-period`. */
  readonly hpaSyncPeriodSeconds?: number;
  readonly defaultUnreachableTolerationSeconds?: number;
  readonly etcdSnapshotIntervalMinutes?: number;
}

export interface InfraModel {
  readonly region: string | undefined;
  readonly azs: readonly string[];
  readonly subnets: readonly SubnetModel[];
  readonly natGateways: readonly NatGatewayModel[];
  readonly loadBalancers: readonly LoadBalancerModel[];
  readonly nodeGroups: readonly NodeGroupModel[];
  readonly backupBuckets: readonly string[];
  readonly backupReplications: readonly BackupReplicationModel[];
  /** Every S3 bucket's region (its provider's, by alias), by bucket name: where an archive written straight into it lives. */
  readonly bucketRegions: Readonly<Record<string, string>>;
  /** Route 53 records with a failover routing policy. */
  readonly dnsFailoverRecords: readonly DnsFailoverRecordModel[];
  readonly chaosTemplates: readonly string[];
  readonly hints: RuntimeHints;
  /** Packets: routes, NAT, load balancer listeners, security groups, DNS (network flows). */
  readonly network: NetworkModel;
  /** What node-bootstrap installs on the first control-plane node (its add-on values files), as pod templates. */
  readonly bootstrapAddons: readonly PodTemplateModel[];
  /** How the add-ons were found: the launch template and files read. */
  readonly bootstrapSource: string | undefined;
  /** Resources that put a secret into the stack's Terraform state (`address (what)`): who reads the state reads them. */
  readonly stateSecrets: readonly string[];
  readonly resourceCount: number;
  /** A folder's cdk.tf.json left out for the plan JSON beside it (same stack; the plan is what deploys). */
  readonly preferredPlans: ReadonlyArray<{ readonly skipped: string; readonly plans: readonly string[] }>;
}

export interface Toleration {
  readonly key?: string;
  readonly operator?: string;
  readonly value?: string;
  readonly effect?: string;
  readonly tolerationSeconds?: number;
}

export interface NodeSelectorRequirement {
  readonly key: string;
  readonly operator: string;
  readonly values: readonly string[];
}

export interface ZoneSpreadModel {
  readonly maxSkew: number;
  readonly hard: boolean;
  readonly nodeTaintsPolicy: string;
  readonly minDomains: number | undefined;
}

export interface PdbModel {
  readonly name: string;
  readonly minAvailable: string | number | undefined;
  readonly maxUnavailable: string | number | undefined;
}

export interface WorkloadModel {
  /** `Cluster`: a CloudNativePG PostgreSQL cluster (instances = replicas, one PVC each). */
  readonly kind: 'Deployment' | 'StatefulSet' | 'Cluster';
  readonly namespace: string;
  readonly name: string;
  /** `Kind/namespace/name`. */
  readonly id: string;
  readonly replicas: number;
  readonly hpa: HpaModel | undefined;
  readonly requests: Resources;
  /** CPU the pod can use at most: its containers' limits summed. @default none (a container without a CPU limit: the node's) */
  readonly cpuLimitMilli?: number;
  /** `nodeSelector` and, when there is a single one, the required node affinity term: all must match. */
  readonly nodeSelector: readonly NodeSelectorRequirement[];
  /**
   * Several required `nodeSelectorTerms`: ORed, a node qualifies when any one matches (with
   * `nodeSelector` on top). @default none (a single term is folded into `nodeSelector`)
   */
  readonly nodeSelectorTerms?: ReadonlyArray<readonly NodeSelectorRequirement[]>;
  readonly tolerations: readonly Toleration[];
  readonly zoneSpread: ZoneSpreadModel | undefined;
  /** Pod anti-affinity against itself on the zone key. */
  readonly zoneAntiAffinity: 'required' | 'preferred' | undefined;
  readonly hostAntiAffinity: 'required' | 'preferred' | undefined;
  readonly pdbs: readonly PdbModel[];
  /** Claims (templates or PVCs) on zonal block storage (EBS). */
  readonly zonalVolumes: readonly string[];
  readonly addon: string | undefined;
  /**
   * Set on add-on components that only reconcile or observe (an operator, dashboards): why losing
   * every replica stops neither the app nor its AZ recovery. Their findings are warnings at most
   * and a scenario does not count them as down. Unset: in the data path, judged like any workload.
   */
  readonly notCritical?: string;
}

/** An autoscaling/v2 HorizontalPodAutoscaler's scale-up behaviour, every unset field as the API server defaults it. */
export interface HpaScaleUpModel {
  readonly stabilizationWindowSeconds: number;
  readonly selectPolicy: 'Max' | 'Min' | 'Disabled';
  readonly policies: ReadonlyArray<{ readonly type: 'Pods' | 'Percent'; readonly value: number; readonly periodSeconds: number }>;
  /** `behavior`: from the object; `default`: it sets no `behavior.scaleUp`. */
  readonly source: 'behavior' | 'default';
}

/** The HPA that owns a workload's replica count. */
export interface HpaModel {
  readonly name: string;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  /** @default HPA_SCALE_UP_DEFAULTS (src/private/hpa-behavior.ts) */
  readonly scaleUp?: HpaScaleUpModel;
  /** `spec.metrics`, one line each (`Resource cpu 70% utilization`). @default none */
  readonly metrics?: readonly string[];
}

export interface DaemonSetModel {
  readonly id: string;
  readonly requests: Resources;
  readonly tolerations: readonly Toleration[];
  readonly nodeSelector: readonly NodeSelectorRequirement[];
}

/** A pod template as the scheduler reads it (day-0 simulation). */
export interface PodTemplateModel {
  /** Workload id (`DaemonSet/ns/name`, `HelmRelease/ns/name:component`, `bootstrap/<chart>:component`). */
  readonly id: string;
  readonly kind: 'Deployment' | 'StatefulSet' | 'DaemonSet';
  /** Pods to place (a DaemonSet: one per eligible node, this is 0). */
  readonly replicas: number;
  readonly labels: Readonly<Record<string, string>>;
  /** `bootstrap` (installed by node-bootstrap from user data), else the Flux Kustomization that applies it. */
  readonly layer: string;
  readonly nodeSelector: Readonly<Record<string, string>>;
  /** Required node affinity: the terms are ORed, each term's requirements ANDed. */
  readonly nodeAffinityTerms: ReadonlyArray<readonly NodeSelectorRequirement[]>;
  readonly tolerations: readonly Toleration[];
  readonly spread: ReadonlyArray<{
    readonly topologyKey: string;
    readonly maxSkew: number;
    readonly whenUnsatisfiable: string;
    readonly selector: unknown;
    readonly minDomains: number | undefined;
    readonly nodeAffinityPolicy: string;
    readonly nodeTaintsPolicy: string;
  }>;
  /** Required pod anti-affinity terms. */
  readonly antiAffinity: ReadonlyArray<{ readonly topologyKey: string; readonly selector: unknown }>;
  readonly hostNetwork: boolean;
  /** `TCP/8080`: host ports the pod binds (hostNetwork: its container ports). */
  readonly hostPorts: readonly string[];
  /** Effective pod requests (containers summed, or the largest init container). */
  readonly requests: Resources;
  /** `spec.priorityClassName`; undefined: the globalDefault PriorityClass, else 0. */
  readonly priorityClassName?: string;
  /**
   * What running it lifts on day 0: `cni` (the CNI agent on its node: the node turns Ready),
   * `cni-ipam` (the CNI's IPAM operator, which the agents wait for in cluster-pool mode),
   * `cloud-controller` (zone labels, `uninitialized` removed).
   */
  readonly provides?: 'cni' | 'cni-ipam' | 'cloud-controller';
}

export type AddonId = 'cloud-controller' | 'cluster-autoscaler' | 'coredns' | 'metrics-server' | 'ebs-csi';

export interface AddonModel {
  readonly id: AddonId;
  readonly present: boolean;
  /** What showed it (`HelmRelease/kube-system/aws-cloud-controller-manager`). */
  readonly evidence: readonly string[];
}

/** A PostgreSQL cluster's continuous archive (CloudNativePG `spec.backup`). */
export interface DatabaseArchiveModel {
  /** `Cluster/<namespace>/<name>`. */
  readonly id: string;
  readonly destination: string | undefined;
  /** The region of the object store's `endpointURL` (`https://s3.<region>.amazonaws.com`), when it names one. */
  readonly endpointRegion?: string;
  /** WAL segments are archived at least this often (`archive_timeout`; CloudNativePG sets 5 min). */
  readonly archiveTimeoutMinutes: number;
}

/** cluster-autoscaler as deployed: which ASGs it discovers and how often it looks. */
export interface AutoscalerModel {
  /** `HelmRelease/ns/name` or `Deployment/ns/name`. */
  readonly source: string;
  /** Tags an ASG must all carry (`key` or `key=value`); undefined: auto-discovery is not configured. */
  readonly discoveryTags: readonly string[] | undefined;
  /** ASGs named explicitly (`--nodes`, `autoscalingGroups`). */
  readonly groupNames: readonly string[];
  readonly scanIntervalSeconds: number;
  readonly scanIntervalSource: 'configured' | 'default';
  /** `--max-node-provision-time`: how long it waits for a launched node before backing off its group. @default 900 */
  readonly maxNodeProvisionSeconds?: number;
  /** `--balance-similar-node-groups`: a scale-up split across similar groups (one per AZ). @default false */
  readonly balanceSimilarNodeGroups?: boolean;
}

/** metrics-server as deployed: how often it scrapes the kubelets (`--metric-resolution`). */
export interface MetricsServerModel {
  readonly source: string;
  readonly resolutionSeconds: number;
  /** `args`/`defaultArgs` of the release, or the binary's own default. */
  readonly resolutionSource: 'configured' | 'chart default' | 'default';
}

export interface ManifestModel {
  readonly objectCount: number;
  /** metrics-server's scrape resolution, when it is deployed and readable. @default none */
  readonly metricsServer?: MetricsServerModel;
  /** The cluster-autoscaler's configuration, when one is deployed and readable. */
  readonly autoscaler: AutoscalerModel | undefined;
  /** PriorityClass values by name (the built-in system-* classes included). */
  readonly priorityClasses: Readonly<Record<string, number>>;
  /** The globalDefault PriorityClass's value, else 0. */
  readonly defaultPriority: number;
  /** Databases archiving WAL to an object store: their RPO is the archive timeout. */
  readonly databaseArchives: readonly DatabaseArchiveModel[];
  readonly workloads: readonly WorkloadModel[];
  readonly daemonSets: readonly DaemonSetModel[];
  readonly addons: readonly AddonModel[];
  /** HelmReleases of charts ha-check has no model for (`HelmRelease/ns/name (chart x)`): presence only. */
  readonly unanalysedCharts: readonly string[];
  /** PDBs that select no workload (reported, never silently dropped). */
  readonly orphanPdbs: readonly string[];
  /** Every pod template (workloads, DaemonSets, HelmRelease renders) with its Flux layer. */
  readonly podTemplates: readonly PodTemplateModel[];
  /** Flux Kustomizations in the order Flux applies them (dependsOn), the cluster folder's first. */
  readonly fluxLayers: readonly string[];
  readonly hints: RuntimeHints;
}

export interface DeploymentModel {
  readonly infra: InfraModel;
  /** Node-termination handling (hooks, rules, queue, handler); absent when not loaded from output. */
  readonly termination?: TerminationModel;
  /** Roles, trusts, node profiles, pod identities (who can act on AWS); absent when not loaded from output. */
  readonly identity?: IdentityModel;
  readonly manifests: ManifestModel;
  /** The standby's AWS side (its failover record), when its Terraform was loaded too. */
  readonly standby?: InfraModel;
}
