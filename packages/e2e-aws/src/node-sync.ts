import type { ClusterDefinition, Platform } from '@platform/platform-config';
import type { awsCli } from './aws-cli';
import type { FakeKubeApi } from './fake-kube-api';
import { syncNodes, type AsgInstance } from './fake-kube/nodes';

/** Every ASG of a cluster by name (control planes: `names.controlPlaneAsg`, workers: `names.workerAsg`), and which are control planes. */
export function clusterAsgs(platform: Platform, cluster: ClusterDefinition): { names: string[]; controlPlane: Set<string> } {
  const names = platform.namesOf(cluster);
  // ordinal counts control-plane nodes within a zone; more than three per zone is never planned.
  const controlPlane = new Set(cluster.availabilityZones.flatMap((az) => [0, 1, 2].map((k) => names.controlPlaneAsg(az, k))));
  const workers = cluster.workerPools.flatMap((pool) => cluster.availabilityZones.map((az) => names.workerAsg(pool, az)));
  return { names: [...controlPlane, ...workers], controlPlane };
}

/** The instances moto runs in a cluster's ASGs, with their private DNS names and states (real AWS CLI). */
export async function asgInstances(aws: ReturnType<typeof awsCli>, platform: Platform, cluster: ClusterDefinition): Promise<AsgInstance[]> {
  const { names } = clusterAsgs(platform, cluster);
  const groups = JSON.parse(await aws('autoscaling', 'describe-auto-scaling-groups', '--region', cluster.region, '--auto-scaling-group-names', ...names, '--output', 'json')) as {
    AutoScalingGroups: { AutoScalingGroupName: string; Instances?: { InstanceId: string; AvailabilityZone: string }[] }[];
  };
  const members = groups.AutoScalingGroups.flatMap((g) => (g.Instances ?? []).map((i) => ({ ...i, asg: g.AutoScalingGroupName })));
  if (members.length === 0) return [];
  const described = JSON.parse(await aws('ec2', 'describe-instances', '--region', cluster.region, '--instance-ids', ...members.map((m) => m.InstanceId), '--output', 'json')) as {
    Reservations: { Instances: { InstanceId: string; PrivateDnsName?: string; State: { Name: string } }[] }[];
  };
  const byId = new Map(described.Reservations.flatMap((r) => r.Instances).map((i) => [i.InstanceId, i]));
  return members.map((m) => ({ instanceId: m.InstanceId, availabilityZone: m.AvailabilityZone, asg: m.asg, privateDnsName: byId.get(m.InstanceId)?.PrivateDnsName ?? '', state: byId.get(m.InstanceId)?.State.Name ?? 'terminated' }));
}

/**
 * The kubelets and cloud controller manager of each fake cluster: every `intervalMs`, and on
 * demand right after the tool changes an ASG (`kick`), its Nodes follow the instances moto runs in
 * its ASGs (src/fake-kube/nodes.ts), so the failover tool's nodes-ready steps watch the workers
 * its own ASG changes launched. The first sync registers the Nodes Ready (the clusters were up
 * before the run); later ones register them NotReady until they were read once. One sync at a time.
 */
export class NodeSync {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  readonly errors: string[] = [];
  /** Nodes added and removed, per cluster, over the run. */
  readonly changes = new Map<string, { added: number; removed: number; readied: number }>();
  /** Per cluster, the Nodes registered NotReady and the Node read count then. */
  private readonly joining = new Map<string, Map<string, number>>();
  private synced = false;
  private stopped = false;

  constructor(
    private readonly aws: ReturnType<typeof awsCli>,
    private readonly platform: Platform,
    private readonly clusters: readonly { cluster: ClusterDefinition; api: FakeKubeApi }[],
    private readonly intervalMs = 5000,
  ) {}

  /** One sync of every cluster now (waits for one already running). */
  async once(): Promise<void> {
    while (this.running) await this.running;
    this.running = this.syncAll().finally(() => (this.running = undefined));
    await this.running;
  }

  /**
   * A sync shortly after the tool's ASG call (moto launches or terminates at once; the call is
   * reported as it starts, so the sync waits for the CLI round trip), without waiting for it.
   */
  kick(afterMs = 2000): void {
    if (this.stopped) return;
    setTimeout(() => {
      if (!this.stopped) void (this.running ?? this.once());
    }, afterMs).unref();
  }

  start(): this {
    this.timer = setInterval(() => void (this.running ?? this.once()), this.intervalMs);
    return this;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  private async syncAll(): Promise<void> {
    for (const { cluster, api } of this.clusters) {
      try {
        const { controlPlane } = clusterAsgs(this.platform, cluster);
        const joining = this.joining.get(cluster.name) ?? new Map<string, number>();
        this.joining.set(cluster.name, joining);
        const { added, removed, readied } = syncNodes(api, await asgInstances(this.aws, this.platform, cluster), (asg) => controlPlane.has(asg), this.synced ? joining : undefined);
        const seen = this.changes.get(cluster.name) ?? { added: 0, removed: 0, readied: 0 };
        this.changes.set(cluster.name, { added: seen.added + added.length, removed: seen.removed + removed.length, readied: seen.readied + readied.length });
      } catch (error) {
        this.errors.push(`${cluster.name}: ${(error as Error).message.split('\n')[0]}`);
      }
    }
    this.synced = true;
  }
}
