import type { Finding } from './findings';
import type { Objectives } from './objectives';

export interface EtcdOutcome {
  readonly members: number;
  readonly lost: number;
  readonly surviving: number;
  readonly quorumNeeded: number;
  readonly quorum: boolean;
}

export interface ApiOutcome {
  readonly reachable: boolean;
  readonly loadBalancer: string | undefined;
  readonly loadBalancerAzsLeft: readonly string[];
  readonly targetsLeft: number;
  /** Seconds until clients reach a healthy API server; null: not until the AZ returns. */
  readonly rtoSeconds: number | null;
}

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
  readonly appSeconds: number | null;
}

export interface AzScenario {
  readonly id: string;
  readonly kind: 'az-loss';
  readonly lost: string;
  readonly survives: boolean;
  readonly problems: readonly string[];
  readonly etcd: EtcdOutcome;
  readonly api: ApiOutcome;
  readonly egress: readonly EgressOutcome[];
  readonly capacity: CapacityOutcome;
  readonly workloads: readonly WorkloadOutcome[];
  readonly recovery: RecoveryOutcome;
}

export interface RegionScenario {
  readonly id: 'region-loss';
  readonly kind: 'region-loss';
  readonly lost: string;
  readonly survives: boolean;
  readonly problems: readonly string[];
  readonly standbyCluster: string | undefined;
  readonly standbyRegion: string | undefined;
  readonly backupReplicas: readonly { readonly source: string; readonly destination: string; readonly region: string | undefined }[];
  readonly snapshotIntervalMinutes: number | undefined;
  /** Where the interval came from: `terraform`, `manifests`, `declared`, or `unknown`. */
  readonly snapshotIntervalSource: string;
  readonly rpoMinutes: number | undefined;
}

export type Scenario = AzScenario | RegionScenario;

/** What runs in one AZ before anything fails (drives the diagram). */
export interface AzTopology {
  readonly az: string;
  readonly controlPlaneNodes: number;
  readonly workerNodes: number;
  readonly natGateways: readonly string[];
  readonly apiLoadBalancer: boolean;
  /** AZs whose NAT gateway this AZ's private subnets use for egress. */
  readonly egressViaAzs: readonly string[];
}

export interface Report {
  readonly schemaVersion: 1;
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
  readonly scenarios: readonly Scenario[];
  readonly findings: readonly Finding[];
}
