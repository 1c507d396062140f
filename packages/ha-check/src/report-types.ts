import type { TerminationOutcome } from './private/termination-analysis';
import type { Finding } from './findings';
import type { Objectives, PromotionPath } from './objectives';

export interface EtcdOutcome {
  readonly members: number;
  readonly lost: number;
  readonly surviving: number;
  readonly quorumNeeded: number;
  readonly quorum: boolean;
}

/** A load balancer's path after losing an AZ: the API NLB, or the app's ingress NLB. */
export interface LoadBalancerOutcome {
  readonly reachable: boolean;
  readonly loadBalancer: string | undefined;
  readonly loadBalancerAzsLeft: readonly string[];
  readonly targetsLeft: number;
  /** Seconds until clients reach a healthy target (interval × unhealthy threshold); null: not until the AZ returns. */
  readonly rtoSeconds: number | null;
}

export type ApiOutcome = LoadBalancerOutcome;

export interface EgressOutcome {
  readonly subnet: string;
  readonly az: string;
  /** NAT gateway name, `internet-gateway`, `other:<target>` or `none`. */
  readonly via: string;
  readonly ok: boolean;
}

export interface CapacityOutcome {
  readonly podsToReschedule: number;
  readonly requested: { readonly cpuMilli: number; readonly memoryMiB: number };
  readonly allocatableNow: { readonly cpuMilli: number; readonly memoryMiB: number };
  readonly allocatableAfterScaleOut: { readonly cpuMilli: number; readonly memoryMiB: number };
  readonly unplacedNow: number;
  readonly unplacedAfterScaleOut: number;
  readonly ok: boolean;
}

/** `exhausted`: the AZ loss used the budget up, so drains wait until replicas are back (expected). */
export type PdbStatus = 'ok' | 'none' | 'blocks-all-evictions' | 'exhausted';

export interface WorkloadOutcome {
  readonly id: string;
  readonly replicas: number;
  readonly lost: number;
  readonly left: number;
  readonly canReschedule: boolean;
  /** Why not, when it cannot (stranded volume, anti-affinity cap, spread, capacity). */
  readonly reason: string | undefined;
  readonly pdb: PdbStatus;
  /** Node-monitor grace + unreachable toleration; null: tolerates unreachable forever. */
  readonly podRtoSeconds: number | null;
}

export interface RecoveryOutcome {
  readonly apiSeconds: number | null;
  readonly podsSeconds: number | null;
  readonly capacitySeconds: number;
  /** The lost AZ's Node objects deleted (instances terminated, cloud controller); null: never while the AZ is gone. */
  readonly nodeDeletionSeconds: number | null;
  readonly appSeconds: number | null;
}

/** Pods of one workload that the simulated scheduler could not place, and why (the first reasons across nodes). */
export interface PendingPods {
  readonly workload: string;
  readonly pods: number;
  readonly priority: number;
  readonly reason: string;
}

/** Pods placed on simulated nodes (see docs/ha-check.md "Node placement"). */
export interface NodePlacementOutcome {
  readonly nodesBefore: number;
  readonly nodesLost: number;
  /** Nodes the cluster-autoscaler adds, per ASG (to `max_size` at most, only ASGs it discovers). */
  readonly nodesAdded: ReadonlyArray<{ readonly group: string; readonly nodes: number }>;
  /** Pending once the lost pods are evicted, with the dead AZ's Nodes still registered and before any scale-out. */
  readonly pendingNow: readonly PendingPods[];
  /** Pending for good: after preemption, scale-out and the dead Nodes' deletion. */
  readonly pending: readonly PendingPods[];
  /** Lower-priority pods evicted by higher-priority ones that did not fit. */
  readonly preempted: ReadonlyArray<{ readonly workload: string; readonly pods: number; readonly by: readonly string[] }>;
  /** Workloads placed only once new nodes joined. */
  readonly waitsForScaleOut: readonly string[];
  /** Workloads placed only once the lost AZ's Node objects were deleted (spread still counting their zone). */
  readonly waitsForNodeDeletion: readonly string[];
  /** The autoscaler's scan interval; undefined without an autoscaler. */
  readonly scanIntervalSeconds: number | undefined;
}

export interface AzScenario {
  readonly id: string;
  readonly kind: 'az-loss';
  readonly lost: string;
  readonly survives: boolean;
  readonly problems: readonly string[];
  readonly etcd: EtcdOutcome;
  readonly api: ApiOutcome;
  /** The app's ingress NLB (internet-facing, 80/443); undefined when there is none. */
  readonly ingress: LoadBalancerOutcome | undefined;
  readonly egress: readonly EgressOutcome[];
  readonly capacity: CapacityOutcome;
  readonly placement: NodePlacementOutcome;
  readonly workloads: readonly WorkloadOutcome[];
  readonly recovery: RecoveryOutcome;
  /** The flows decided with this AZ gone: how many, and the ones dropped. */
  readonly flows: { readonly decided: number; readonly blocked: readonly FlowOutcome[] };
}

/** One day-0 simulation: a node coming up (or the whole cluster), the order it did and what stayed Pending. */
export interface ColdStartOutcome {
  /** The node simulated (`<control-plane ASG>-0`, `<pool ASG>-joining`), or `all nodes`. */
  readonly node: string;
  /** Ready and initialized (every node, for `all nodes`). */
  readonly ok: boolean;
  /** What happened, in order: registrations, pods scheduled, nodes turning Ready / initialized. */
  readonly steps: readonly string[];
  readonly pending: ReadonlyArray<{ readonly pod: string; readonly layer: string; readonly reasons: readonly string[] }>;
  /** Why it never comes up: the add-ons that lift a taint, Pending, and what they wait for. */
  readonly blockedBy: readonly string[];
}

export interface ColdStartReport {
  /** Where the bootstrap add-ons were read (launch template and node-bootstrap's values files); undefined: none found. */
  readonly bootstrapSource: string | undefined;
  /** The first control-plane node with the bootstrap add-ons; undefined when there is nothing to simulate. */
  readonly firstControlPlane: ColdStartOutcome | undefined;
  /** Every other node joining and the Flux layers applied in order (only once the first node is up). */
  readonly cluster?: ColdStartOutcome;
  /** A worker of each pool joining the running cluster. */
  readonly workerJoins: readonly ColdStartOutcome[];
}

/** One role of the CI identity stack. */
/** One way a workload acts on AWS (the identity report, docs/ha-check.md "Workload identities"). */
export interface IdentityRow {
  /** `Kind/namespace/name`, `HelmRelease/<ns>/<name>[:component]`, or `(any holder of the keys)`. */
  readonly workload: string;
  readonly serviceAccount: string | undefined;
  /** IAM role name (or the IAM user behind static keys). */
  readonly role: string | undefined;
  /** `web identity (...)`, `node role via IMDS (...)`, `static keys`, or why the wiring is inert. */
  readonly path: string;
  /** Allowed actions per service and resource scope. */
  readonly actions: readonly string[];
}

export interface IdentityOutcome {
  /** The cluster's service-account issuer host (the IAM condition-key prefix). */
  readonly issuerHost: string | undefined;
  /** Address of the cluster's IAM OIDC provider, when the stack has it. */
  readonly provider: string | undefined;
  /** The pod identity webhook found in the manifests (what makes a role annotation work). */
  readonly webhook: string | undefined;
  readonly rows: readonly IdentityRow[];
}

export interface CiRoleOutcome {
  readonly role: string;
  /** The OIDC `sub` values its trust policy admits (StringEquals or StringLike patterns). */
  readonly subjects: readonly string[];
  /** Which workflow runs can assume it: `pull_request`, `any branch`, `main`, `environment <name>`, `another repository`. */
  readonly assumableBy: readonly string[];
  /** The sensitive requests IAM would allow it (read and decrypt join material, snapshots, state; writes). */
  readonly can: readonly string[];
  /** Attached managed policies ha-check has no model of (what they grant is not counted). */
  readonly unknownPolicies: readonly string[];
}

/** One packet flow the cluster depends on, decided hop by hop from the Terraform. */
export interface FlowOutcome {
  /** `node-to-api`, `operator-to-api`, `etcd-peers`, `kubelet`, `cni-vxlan`, `cni-health`, `cni-icmp`, `ingress-nodeports`, `health-checker-ingress`. */
  readonly id: string;
  /** What it is, for people (`node → API endpoint`). */
  readonly flow: string;
  readonly from: string;
  readonly to: string;
  readonly protocol: 'tcp' | 'udp' | 'icmp' | 'all';
  readonly port: number | undefined;
  /** false: the cluster works without it (degraded: e.g. ICMP health pings). */
  readonly required: boolean;
  readonly ok: boolean;
  /** Hops the packet took (up to the one that dropped it). */
  readonly path: readonly string[];
  readonly droppedAt?: string;
  readonly reason?: string;
  readonly fix?: string;
}

export interface RegionScenario {
  readonly id: 'region-loss';
  readonly kind: 'region-loss';
  readonly lost: string;
  readonly survives: boolean;
  readonly problems: readonly string[];
  readonly standbyCluster: string | undefined;
  readonly standbyRegion: string | undefined;
  /** Set when this cluster is itself the standby of another. */
  readonly primaryCluster: string | undefined;
  readonly backupReplicas: readonly { readonly source: string; readonly destination: string; readonly region: string | undefined }[];
  readonly snapshotIntervalMinutes: number | undefined;
  /** Where the interval came from: `terraform`, `manifests`, `declared`, or `unknown`. */
  readonly snapshotIntervalSource: string;
  /** max(etcd snapshot interval, replicated database archive timeout) + S3 replication lag; undefined when no backup survives the region. */
  readonly rpoMinutes: number | undefined;
  readonly rpo: RegionRpo;
  /** The Route 53 failover record of this cluster's app; undefined when there is none. */
  readonly dnsFailover: DnsFailoverOutcome | undefined;
  /** `writtenToRegion`: the archive's bucket is a replica bucket in that (other) region, written directly, not replicated. */
  readonly databaseArchives: readonly { readonly id: string; readonly destination: string | undefined; readonly archiveTimeoutMinutes: number; readonly replicated: boolean; readonly writtenToRegion?: string }[];
  /** The scripted promotion of the standby; undefined when none was found or declared. */
  readonly promotion: PromotionPath | undefined;
  readonly rto: RegionRto;
}

export interface DnsFailoverOutcome {
  readonly record: string;
  readonly name: string;
  readonly role: 'PRIMARY' | 'SECONDARY';
  /** SECONDARY on a standby (objectives.primaryCluster), PRIMARY otherwise. */
  readonly expectedRole: 'PRIMARY' | 'SECONDARY';
  readonly setIdentifier: string | undefined;
  /** Alias target: the load balancer's name. */
  readonly target: string | undefined;
  readonly healthCheck: { readonly type: string; readonly fqdn: string | undefined; readonly port: number | undefined; readonly resourcePath: string | undefined; readonly requestIntervalSeconds: number; readonly failureThreshold: number } | undefined;
  /** request_interval × failure_threshold; undefined without a health check. */
  readonly detectionSeconds: number | undefined;
  readonly ttlSeconds: number | undefined;
  readonly ttlSource: 'record' | 'alias-load-balancer' | 'unknown';
  /** The standby's record: undefined when the standby's Terraform was not loaded, null when it has none. */
  readonly standbyRecord: { readonly role: 'PRIMARY' | 'SECONDARY'; readonly healthCheck: boolean; readonly target: string | undefined } | null | undefined;
}

export interface RegionRpo {
  /** false when a standby takes over with its own control plane (a promotion restores no etcd snapshot). */
  readonly etcdRestored: boolean;
  readonly etcdMinutes: number | undefined;
  /** Largest archive timeout of the databases whose archive is replicated; null when a database's archive stays in the region. */
  readonly databaseMinutes: number | null | undefined;
  /**
   * Upload bound of a database archiving straight into the other region (WAL_ARCHIVER_BOUND_MINUTES),
   * which then has no replication lag; undefined when the archive is replicated.
   */
  readonly archiverMinutes?: number;
  /** S3 replication lag of the backups to the standby region: RTC's bound, else the typical 15 min; 0 for an archive written there; undefined without replication. */
  readonly replicationLagMinutes: number | undefined;
  /** max(etcd when restored, database) + replication lag: what a region loss loses at worst. */
  readonly minutes: number | undefined;
  /** What it is held to: `regionRpoSeconds` / 60, else `rpoMinutes` (undefined: no RPO declared). */
  readonly objectiveMinutes: number | undefined;
}

/**
 * Regional RTO = DNS detection + promotion + DNS TTL, in series: the promotion starts once Route 53
 * marks the primary unhealthy (the script's preflight requires it) and resolvers drop cached
 * answers within the TTL. null when a part is missing (no standby, DNS failover, health check or promotion).
 */
export interface RegionRto {
  readonly detectionSeconds: number | undefined;
  readonly promotionSeconds: number | undefined;
  readonly dnsTtlSeconds: number | undefined;
  readonly seconds: number | null;
  readonly objectiveSeconds: number | undefined;
}

export type Scenario = AzScenario | RegionScenario;

/** What runs in one AZ before anything fails (drives the diagram). */
export interface AzTopology {
  readonly az: string;
  readonly controlPlaneNodes: number;
  readonly workerNodes: number;
  readonly natGateways: readonly string[];
  readonly apiLoadBalancer: boolean;
  /** The app's ingress NLB has a subnet here. */
  readonly ingressLoadBalancer: boolean;
  /** AZs whose NAT gateway this AZ's private subnets use for egress. */
  readonly egressViaAzs: readonly string[];
}

/** One term of the time to scale out, with where its value came from. */
export interface ElasticityTerm {
  readonly name: string;
  readonly seconds: number;
  /** `configured (HelmRelease/kube-system/metrics-server)`, `upstream default`, `assumed`, `derived: …`. */
  readonly source: string;
}

/** One workload with an HPA at its maximum. */
export interface HpaPeak {
  readonly workload: string;
  readonly hpa: string;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly metrics: readonly string[];
  /** Requests of one pod, and × maxReplicas. */
  readonly requests: { readonly cpuMilli: number; readonly memoryMiB: number };
  readonly peakRequests: { readonly cpuMilli: number; readonly memoryMiB: number };
  /** How its constraints spread it: `zone spread maxSkew 1 (DoNotSchedule)`, `required zone anti-affinity`, `none`. */
  readonly spread: string;
  /** The replica counts the controller steps through from min to max (seconds after its first decision). */
  readonly steps: ReadonlyArray<{ readonly atSeconds: number; readonly replicas: number }>;
  /** How far one decision can grow it (CPU ceiling / request / target), when it scales on CPU utilisation. @default policies only */
  readonly growth?: string;
  /** Its pods cannot use more than its CPU target: the HPA never grows by CPU. @default false */
  readonly neverReachesMax?: boolean;
  readonly scaleUp: { readonly stabilizationWindowSeconds: number; readonly selectPolicy: string; readonly policies: readonly string[]; readonly source: 'behavior' | 'default' };
}

/** Every HPA at its maximum at once, with every AZ, then with each AZ lost (the surviving AZs' pools at max). */
export interface PeakScenario {
  /** `all-azs` or `az-loss:<az>`. */
  readonly id: string;
  readonly lost: string | undefined;
  readonly fits: boolean;
  /** Pods Pending with every discovered worker ASG at its max. */
  readonly pending: readonly PendingPods[];
  /** Worker nodes per AZ at the peak (the lost AZ: 0), and the most its ASGs allow. */
  readonly nodesPerAz: ReadonlyArray<{ readonly az: string; readonly nodes: number; readonly maxNodes: number }>;
  readonly nodesAdded: ReadonlyArray<{ readonly group: string; readonly nodes: number }>;
  /** Each HPA workload's running pods per AZ at the peak. */
  readonly podsPerAz: ReadonlyArray<{ readonly workload: string; readonly perAz: Readonly<Record<string, number>> }>;
  /** Workloads whose last pods wait for new nodes. */
  readonly waitsForScaleOut: readonly string[];
  /** Seconds from the load arriving to the slowest HPA at its max with every pod Ready; null: never. */
  readonly seconds: number | null;
  readonly terms: readonly ElasticityTerm[];
}

export interface ElasticityReport {
  /** What else must fit at the peak: every HPA at its max simultaneously, the rest at their replicas, DaemonSets on every node. */
  readonly basis: string;
  readonly hpas: readonly HpaPeak[];
  /** Worker capacity per AZ with every worker ASG at max_size, after the DaemonSets' requests. */
  readonly capacityPerAz: ReadonlyArray<{ readonly az: string; readonly maxNodes: number; readonly cpuMilli: number; readonly memoryMiB: number }>;
  /** Requests of every non-DaemonSet pod at the peak. */
  readonly peakRequested: { readonly cpuMilli: number; readonly memoryMiB: number };
  readonly scenarios: readonly PeakScenario[];
  readonly objectiveSeconds: number | undefined;
  /** Scale day's peak (the loaded app alone at max, then with the load pod), for a cluster platform-config defines. @default none */
  readonly scaleDay?: ScaleDayScenario;
}

/** Where one scale-day placement lands with every AZ up. */
export interface ScaleDayPlacement {
  readonly fits: boolean;
  readonly pending: readonly PendingPods[];
  /** Worker nodes per AZ before the load, at the peak (the autoscaler's additions), and the ASGs' max. */
  readonly nodesPerAz: ReadonlyArray<{ readonly az: string; readonly standing: number; readonly atPeak: number; readonly maxNodes: number }>;
}

/** Scale day's peak: the loaded app at maxReplicas, the rest at their replicas; alone, then with the load Job's pod. */
export interface ScaleDayScenario {
  readonly workload: string;
  readonly replicas: number;
  readonly loadPod: { readonly id: string; readonly requests: { readonly cpuMilli: number; readonly memoryMiB: number } };
  readonly appAlone: ScaleDayPlacement;
  readonly withLoadPod: ScaleDayPlacement;
  /** The app alone fits and needs a new worker in every AZ: what scale day's `expectNodeScaleOut` must say. */
  readonly nodeScaleOutInEveryAz: boolean;
}

export interface Report {
  readonly schemaVersion: 2;
  readonly cluster: string | undefined;
  readonly region: string | undefined;
  readonly azs: readonly string[];
  readonly objectives: Objectives;
  readonly summary: {
    readonly objectivesMet: boolean;
    readonly errors: number;
    readonly warnings: number;
    readonly infos: number;
    readonly terraformResources: number;
    readonly kubernetesObjects: number;
    readonly workloads: number;
    readonly nodeGroups: number;
  };
  readonly assumptions: {
    readonly nodeMonitorGracePeriodSeconds: number;
    readonly nodeMonitorGracePeriodSource: string;
    readonly defaultUnreachableTolerationSeconds: number;
    readonly defaultUnreachableTolerationSource: string;
    readonly capacityRecoverySeconds: number;
  };
  readonly topology: readonly AzTopology[];
  /** Every flow in the normal state (before any failure). */
  readonly flows: readonly FlowOutcome[];
  /** Day 0: the boot order proved, or what blocks it. */
  readonly coldStart: ColdStartReport;
  /** The CI identity stack's roles (with --ci-identity, or --cluster when it is synthesized); omitted otherwise. */
  readonly ciIdentities?: readonly CiRoleOutcome[];
  /** Who can act on AWS in the cluster (when loaded from synthesized output). */
  readonly identities?: IdentityOutcome;
  /** Node-termination handling and the pod RTO with and without it (when loaded from synthesized output). */
  readonly termination?: TerminationOutcome;
  /** Every HPA at its maximum: does it fit, with each AZ lost, and how long it takes (omitted without HPAs). */
  readonly elasticity?: ElasticityReport;
  readonly scenarios: readonly Scenario[];
  readonly findings: readonly Finding[];
}
