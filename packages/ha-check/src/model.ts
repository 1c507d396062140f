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

export interface LoadBalancerModel {
  readonly address: string;
  readonly name: string;
  /** `api` when it fronts the Kubernetes API (port 6443). */
  readonly role: 'api' | 'other';
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
  readonly unknownInstanceTypes: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly Taint[];
  /** Target group addresses the ASG registers its instances with. */
  readonly targetGroups: readonly string[];
  /** Tagged for cluster-autoscaler auto-discovery. */
  readonly autoscaled: boolean;
}

export interface BackupReplicationModel {
  readonly address: string;
  readonly sourceBucket: string;
  readonly sourceRegion: string | undefined;
  readonly destinationBucket: string;
  readonly destinationRegion: string | undefined;
  readonly enabled: boolean;
}

/** Settings found in user-data / SSM / S3 objects that change the recovery maths. */
export interface RuntimeHints {
  readonly nodeMonitorGracePeriodSeconds?: number;
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
  readonly chaosTemplates: readonly string[];
  readonly hints: RuntimeHints;
  readonly resourceCount: number;
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
  readonly hpa: { readonly name: string; readonly minReplicas: number; readonly maxReplicas: number } | undefined;
  readonly requests: Resources;
  readonly nodeSelector: readonly NodeSelectorRequirement[];
  readonly tolerations: readonly Toleration[];
  readonly zoneSpread: ZoneSpreadModel | undefined;
  /** Pod anti-affinity against itself on the zone key. */
  readonly zoneAntiAffinity: 'required' | 'preferred' | undefined;
  readonly hostAntiAffinity: 'required' | 'preferred' | undefined;
  readonly pdbs: readonly PdbModel[];
  /** Claims (templates or PVCs) on zonal block storage (EBS). */
  readonly zonalVolumes: readonly string[];
  readonly addon: string | undefined;
}

export interface DaemonSetModel {
  readonly id: string;
  readonly requests: Resources;
  readonly tolerations: readonly Toleration[];
  readonly nodeSelector: readonly NodeSelectorRequirement[];
}

export type AddonId = 'cloud-controller' | 'cluster-autoscaler' | 'coredns' | 'metrics-server' | 'ebs-csi';

export interface AddonModel {
  readonly id: AddonId;
  readonly present: boolean;
  /** What showed it (`HelmRelease/kube-system/aws-cloud-controller-manager`). */
  readonly evidence: readonly string[];
}

export interface ManifestModel {
  readonly objectCount: number;
  readonly workloads: readonly WorkloadModel[];
  readonly daemonSets: readonly DaemonSetModel[];
  readonly addons: readonly AddonModel[];
  /** PDBs that select no workload (reported, never silently dropped). */
  readonly orphanPdbs: readonly string[];
  readonly hints: RuntimeHints;
}

export interface DeploymentModel {
  readonly infra: InfraModel;
  readonly manifests: ManifestModel;
}
