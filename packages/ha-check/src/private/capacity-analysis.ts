import type { Findings } from '../findings';
import type { DeploymentModel, NodeGroupModel } from '../model';
import type { CapacityOutcome } from '../report-types';
import { nodesLost } from './control-plane-analysis';
import { discovers } from './autoscaler-config';
import { roomPerNode } from './placement';
import type { WorkloadFacts } from './workload-analysis';

/**
 * The capacity sums of an AZ scenario (before any failure with `az` undefined): what the pods to run
 * request, and what the surviving nodes offer now and with every ASG the autoscaler may grow at its
 * maximum, after the DaemonSets take theirs. Whether the pods fit is the node placement's verdict
 * (node-simulation.ts): `unplaced*` and `ok` are filled from it.
 */
export function capacityOutcome(model: DeploymentModel, facts: readonly WorkloadFacts[], az: string | undefined, autoscaler: boolean): CapacityOutcome {
  const sum = (count: (g: NodeGroupModel) => number): { cpuMilli: number; memoryMiB: number } => {
    let cpuMilli = 0;
    let memoryMiB = 0;
    for (const g of model.infra.nodeGroups) {
      const room = roomPerNode(g, model.manifests.daemonSets);
      cpuMilli += room.cpuMilli * count(g);
      memoryMiB += room.memoryMiB * count(g);
    }
    return { cpuMilli, memoryMiB };
  };
  const now = (g: NodeGroupModel): number => g.desired - (az ? nodesLost(g, az, g.desired) : 0);
  // A single-AZ ASG in the lost AZ cannot launch anywhere else; a multi-AZ one rebalances.
  const a = model.manifests.autoscaler;
  const grows = (g: NodeGroupModel): boolean => autoscaler && a !== undefined && discovers(a, g.name, g.tags);
  const max = (g: NodeGroupModel): number => Math.max(now(g), az && g.azs.length === 1 && g.azs[0] === az ? 0 : grows(g) ? g.maxSize : g.desired);
  let cpuMilli = 0;
  let memoryMiB = 0;
  for (const f of facts) {
    const pods = f.running - (az && f.w.zonalVolumes.length > 0 ? (f.zones.includes(az) ? f.worstZoneLoss : 0) : 0);
    cpuMilli += pods * f.w.requests.cpuMilli;
    memoryMiB += pods * f.w.requests.memoryMiB;
  }
  return {
    podsToReschedule: az ? facts.reduce((s, f) => s + (f.zones.includes(az) ? f.worstZoneLoss : 0), 0) : 0,
    requested: { cpuMilli, memoryMiB },
    allocatableNow: sum(now),
    allocatableAfterScaleOut: sum(max),
    unplacedNow: 0,
    unplacedAfterScaleOut: 0,
    ok: true,
  };
}

/** Node pools: instance types ha-check knows, workers in more than one AZ. */
export function nodePoolFindings(model: DeploymentModel, findings: Findings): void {
  const { infra } = model;
  const workerAzs = new Set(infra.nodeGroups.filter((g) => g.role === 'worker' && g.maxSize > 0).flatMap((g) => g.azs));
  if (infra.nodeGroups.some((g) => g.role === 'worker') && workerAzs.size < 2) {
    findings.add('workers.single-az', 'worker pools', `workers only in ${[...workerAzs].join(', ') || 'no AZ'}`);
  }
}

export function addonFindings(model: DeploymentModel, findings: Findings): boolean {
  const present = new Map(model.manifests.addons.map((a) => [a.id, a.present]));
  if (!present.get('cloud-controller')) {
    findings.add('addon.cloud-controller-missing', 'aws-cloud-controller-manager', 'no cloud controller manager: nodes get no topology.kubernetes.io/zone labels (and stay uninitialized with --cloud-provider=external), so no zone spread rule can work');
  }
  if (!present.get('cluster-autoscaler')) {
    findings.add('addon.cluster-autoscaler-missing', 'cluster-autoscaler', 'no cluster-autoscaler: capacity lost with an AZ is not replaced in the surviving AZs');
  }
  if (!present.get('coredns')) {
    findings.add('addon.coredns-unmanaged', 'coredns', 'CoreDNS is not in the manifests: kubeadm\'s default has 2 replicas without zone spread or PDB');
  }
  if (!present.get('metrics-server') && model.manifests.workloads.some((w) => w.hpa)) {
    findings.add('addon.metrics-server-missing', 'metrics-server', 'HorizontalPodAutoscalers exist but no metrics-server: they cannot scale');
  }
  if (!present.get('ebs-csi') && model.manifests.workloads.some((w) => w.zonalVolumes.length > 0)) {
    findings.add('addon.ebs-csi-missing', 'aws-ebs-csi-driver', 'workloads claim EBS volumes but no EBS CSI driver is deployed');
  }
  for (const release of model.manifests.unanalysedCharts) {
    findings.add('addon.chart-not-analysed', release, 'no model of this chart: its replicas, spread, PDB, tolerations and requests are not analysed (counted for presence only)');
  }
  return present.get('cluster-autoscaler') ?? false;
}

/**
 * The autoscaler grows only the ASGs its auto-discovery finds (every tag of `autoDiscovery.tags`
 * on the ASG) or names: a worker pool tagged for it, or with room to grow, that it does not find
 * stays at its desired size whatever is Pending.
 */
export function autoscalerDiscoveryFindings(model: DeploymentModel, findings: Findings): void {
  const a = model.manifests.autoscaler;
  if (!a) return;
  const wanted = model.infra.nodeGroups.filter((g) => g.role === 'worker' && (g.maxSize > g.desired || Object.keys(g.tags).some((k) => k.startsWith('k8s.io/cluster-autoscaler/') && !k.includes('/node-template/'))));
  const tags = (a.discoveryTags ?? []).join(', ') || 'none configured';
  for (const g of wanted.filter((x) => !discovers(a, x.name, x.tags))) {
    const missing = (a.discoveryTags ?? []).filter((t) => !Object.hasOwn(g.tags, t.split('=')[0]));
    const why = a.discoveryTags === undefined ? `${a.source} has no auto-discovery (autoDiscovery.clusterName unset: the chart renders no --node-group-auto-discovery)` : `it lacks ${missing.join(', ') || 'a tag value'} of ${a.source}'s discovery tags (${tags})`;
    findings.add('autoscaler.discovery-mismatch', g.name, `the cluster-autoscaler never grows this ASG (desired ${g.desired}, max ${g.maxSize}): ${why}`, { vars: { tags } });
  }
}
