import type { AutoscalerModel, DeploymentModel, NodeGroupModel, PodTemplateModel, WorkloadModel } from '../model';
import { RECOVERY_DEFAULTS } from '../recovery-times';
import type { NodePlacementOutcome, PendingPods } from '../report-types';
import { discovers } from './autoscaler-config';
import { podTemplate } from './pod-templates';
import { Scheduler, simNode, type SimNode } from './scheduler';

const ZONE = 'topology.kubernetes.io/zone';
const HOSTNAME = 'kubernetes.io/hostname';
/** What the node lifecycle controller puts on a node whose kubelet stopped reporting. */
const UNREACHABLE = [
  { key: 'node.kubernetes.io/unreachable', value: '', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/unreachable', value: '', effect: 'NoExecute' },
];

export interface SimulationInput {
  /** The cluster placed before any failure (placed once, copied for each AZ). */
  readonly baseline: PlacementBaseline;
  /** The AZ lost; undefined: none (every AZ up, e.g. the HPAs' peak). */
  readonly az: string | undefined;
  /** Seconds until the lost AZ's Node objects are deleted; null: never (while the AZ is gone). */
  readonly nodeDeletionSeconds: number | null;
}

/** A CloudNativePG Cluster has no pod template in the manifests: its instances, as the scheduler sees them. */
function clusterTemplate(w: WorkloadModel): PodTemplateModel {
  return podTemplate({
    id: w.id,
    kind: 'StatefulSet',
    replicas: w.replicas,
    labels: { 'cnpg.io/cluster': w.name },
    layer: 'apps',
    nodeSelector: Object.fromEntries(w.nodeSelector.filter((r) => r.operator === 'In' && r.values.length === 1).map((r) => [r.key, r.values[0]])),
    nodeAffinityTerms: [],
    tolerations: w.tolerations,
    spread: [],
    antiAffinity: w.zoneAntiAffinity === 'required' ? [{ topologyKey: ZONE, selector: { matchLabels: { 'cnpg.io/cluster': w.name } } }] : [],
    hostNetwork: false,
    hostPorts: [],
    requests: w.requests,
  });
}

/** Nodes an ASG runs: its desired count, spread over its AZs the way an ASG balances them. */
function nodesOf(g: NodeGroupModel, count: number, first = 0): SimNode[] {
  const azs = [...g.azs].sort();
  return Array.from({ length: count }, (_, i) => {
    const az = azs[(first + i) % Math.max(azs.length, 1)] ?? 'unknown';
    const name = `${g.name}-${first + i}`;
    // The cloud controller labels every node with its zone; the ASG's tags say the rest.
    return simNode(name, g.name, g.role, az, { ...g.labels, [ZONE]: az, [HOSTNAME]: name }, [...g.taints], g.allocatablePerNode);
  });
}

/**
 * Places every workload's pods on simulated nodes (each ASG's instances with their allocatable
 * CPU and memory, labels and taints) under the scheduler's filters, then loses `az`: its nodes turn
 * unreachable (still registered, their pods gone), the lost pods are placed again by priority with
 * preemption of lower-priority pods, the cluster-autoscaler adds nodes to the ASGs it discovers
 * (up to `max_size`, in surviving AZs) for pods that still do not fit, and the dead Node objects are
 * finally deleted. Pods on zonal volumes in the lost AZ wait for it and are not placed again.
 */
export class PlacementBaseline {
  readonly scheduler = new Scheduler();
  readonly daemons: readonly PodTemplateModel[];
  /** Pod templates in the scheduling queue's order: the highest priority first. */
  readonly pods: readonly PodTemplateModel[];
  /** What does not fit before any failure. */
  readonly pending: readonly PendingPods[];

  constructor(readonly model: DeploymentModel) {
    const { manifests, infra } = model;
    const templates = [...manifests.podTemplates, ...manifests.workloads.filter((w) => w.kind === 'Cluster').map(clusterTemplate)];
    this.daemons = templates.filter((t) => t.kind === 'DaemonSet');
    this.pods = templates.filter((t) => t.kind !== 'DaemonSet' && t.replicas > 0).sort((a, b) => this.priority(b) - this.priority(a));
    // Zones interleaved (a0, b0, c0, a1, ...): the order ties are taken in, as an ASG balances its launches.
    const byZone = new Map<string, SimNode[]>();
    for (const n of infra.nodeGroups.flatMap((g) => nodesOf(g, g.desired))) byZone.set(n.az, [...(byZone.get(n.az) ?? []), n]);
    const zones = [...byZone.values()];
    for (let i = 0; zones.some((z) => i < z.length); i++) for (const z of zones) if (i < z.length) this.scheduler.nodes.push(z[i]);
    this.scheduler.touch();
    for (const t of this.daemons) this.scheduler.schedule(t);
    for (const t of this.pods) this.scheduler.schedule(t);
    this.pending = pendingPods(this.scheduler, this.pods.filter((t) => this.scheduler.count(t) < t.replicas), (t) => this.priority(t));
  }

  priority(t: PodTemplateModel): number {
    const m = this.model.manifests;
    return t.priorityClassName !== undefined ? (m.priorityClasses[t.priorityClassName] ?? m.defaultPriority) : m.defaultPriority;
  }
}

function pendingPods(scheduler: Scheduler, templates: readonly PodTemplateModel[], priority: (t: PodTemplateModel) => number): PendingPods[] {
  return templates.map((t) => {
    const reasons = scheduler.nodes.map((n) => scheduler.whyNot(t, n)).filter((r): r is string => r !== undefined);
    // What stops it on the nodes it could use at all comes first; taints and selectors of the others only without such nodes.
    const fixed = /^(untolerated taint|node selector|required node affinity)/;
    const dynamic = reasons.filter((r) => !fixed.test(r));
    const top = [...new Set(dynamic.length > 0 ? dynamic : reasons)].slice(0, 2).join('; ');
    return { workload: t.id, pods: t.replicas - scheduler.count(t), priority: priority(t), reason: top || 'no node' };
  });
}

export function simulatePlacement(input: SimulationInput): NodePlacementOutcome {
  return simulateOn(input).outcome;
}

/** simulatePlacement, with the scheduler it ends in (what runs where: pods per AZ). */
export function simulateOn(input: SimulationInput): { outcome: NodePlacementOutcome; scheduler: Scheduler } {
  const { baseline, az } = input;
  const { manifests, infra } = baseline.model;
  if (az === undefined && baseline.pending.length === 0) {
    // No AZ lost and every pod placed: nothing is queued, so nothing moves or scales. The outcome is
    // the baseline itself (its scheduler returned as is: read it, never place on it), not a copy of it.
    const outcome: NodePlacementOutcome = { nodesBefore: baseline.scheduler.nodes.length, nodesLost: 0, nodesAdded: [], pendingNow: [], pending: [], preempted: [], waitsForNodeDeletion: [], waitsForScaleOut: [], scanIntervalSeconds: manifests.autoscaler?.scanIntervalSeconds };
    return { outcome, scheduler: baseline.scheduler };
  }
  const scheduler = baseline.scheduler.clone();
  const priority = (t: PodTemplateModel): number => baseline.priority(t);
  const workloads = new Map(manifests.workloads.map((w) => [w.id, w]));
  const { daemons, pods } = baseline;
  const counts = new Map<NodeGroupModel, number>(infra.nodeGroups.map((g) => [g, g.desired]));
  const preempted = new Map<string, { pods: number; by: Set<string> }>();
  const preempt = (t: PodTemplateModel): void => {
    // DefaultPreemption: a node where evicting lower-priority pods lets it fit; fewest victims first.
    const p = priority(t);
    while (scheduler.count(t) < t.replicas) {
      let best: { node: SimNode; victims: PodTemplateModel[] } | undefined;
      for (const node of scheduler.nodes) {
        if (!scheduler.fits(t, node, false, true)) continue;
        const free = scheduler.free(node);
        if (!free) continue;
        const lower = scheduler.podsOn(node).filter(([x]) => x.kind !== 'DaemonSet' && priority(x) < p).sort((a, b) => priority(a[0]) - priority(b[0]));
        const victims: PodTemplateModel[] = [];
        let cpu = free.cpuMilli;
        let mem = free.memoryMiB;
        for (const [x, n] of lower) {
          for (let i = 0; i < n && (cpu < t.requests.cpuMilli || mem < t.requests.memoryMiB); i++) {
            victims.push(x);
            cpu += x.requests.cpuMilli;
            mem += x.requests.memoryMiB;
          }
        }
        if (cpu < t.requests.cpuMilli || mem < t.requests.memoryMiB) continue;
        if (!best || victims.length < best.victims.length) best = { node, victims };
      }
      if (!best) return;
      for (const v of best.victims) {
        scheduler.unplace(v, best.node);
        queued.add(v);
        const entry = preempted.get(v.id) ?? { pods: 0, by: new Set<string>() };
        entry.pods++;
        entry.by.add(t.id);
        preempted.set(v.id, entry);
      }
      scheduler.place(t, best.node);
    }
  };
  // The queue: what lost pods (or never fit), and the victims of preemption; in the scheduler's order.
  const order = new Map(pods.map((t, i) => [t, i]));
  const queued = new Set<PodTemplateModel>(pods.filter((t) => scheduler.count(t) < t.replicas));
  let queue: PodTemplateModel[] = [];
  let queuedSize = -1;
  const rescheduling = (): PodTemplateModel[] => {
    // Sorted again only when something joined the queue.
    if (queuedSize !== queued.size) {
      queue = [...queued].sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
      queuedSize = queued.size;
    }
    return queue.filter((t) => scheduler.count(t) < t.replicas && !stuck.has(t));
  };
  const round = (): void => {
    for (const t of rescheduling()) {
      scheduler.schedule(t);
      if (scheduler.count(t) < t.replicas) preempt(t);
    }
    // Victims go back to the queue, behind everything of higher priority.
    for (const t of rescheduling()) scheduler.schedule(t);
  };
  const pendingOf = (): PendingPods[] => pendingPods(scheduler, rescheduling(), priority);
  const stuck = new Set<PodTemplateModel>();
  const before = scheduler.nodes.length;

  // The AZ goes: its nodes stay registered, unreachable; their pods terminate (the spread filter skips terminating pods).
  const dead = scheduler.nodes.filter((n) => n.az === az);
  for (const node of dead) {
    for (const [t, n] of scheduler.podsOn(node)) {
      const w = workloads.get(t.id);
      // A pod bound to a zonal volume can only come back in its zone.
      if (w && w.zonalVolumes.length > 0 && t.kind !== 'DaemonSet') stuck.add(t);
      if (t.kind !== 'DaemonSet') queued.add(t);
      for (let i = 0; i < n; i++) scheduler.unplace(t, node);
    }
    node.taints.push(...UNREACHABLE);
  }
  for (const g of infra.nodeGroups) counts.set(g, (counts.get(g) ?? 0) - dead.filter((n) => n.group === g.name).length);
  scheduler.touch();
  round();
  const pendingNow = pendingOf();

  const autoscaler = manifests.autoscaler;
  const added = new Map<string, number>();
  const addedNodes: SimNode[] = [];
  let launched = 0;
  const scaleOut = (a: AutoscalerModel): void => {
    const groups = infra.nodeGroups.filter((g) => g.azs.some((z) => z !== az) && discovers(a, g.name, g.tags));
    for (let guard = 0; guard < 1000 && rescheduling().length > 0; guard++) {
      let grew = false;
      for (const g of groups) {
        const n = counts.get(g) ?? 0;
        if (n >= g.maxSize) continue;
        // A new instance lands in a surviving AZ of the group, the one with the fewest of its nodes.
        const azs = g.azs.filter((z) => z !== az);
        const zone = [...azs].sort((x, y) => scheduler.nodes.filter((m) => m.group === g.name && m.az === x).length - scheduler.nodes.filter((m) => m.group === g.name && m.az === y).length)[0];
        // A fresh name (and hostname) for every instance launched, across both scale-out rounds.
        const [node] = nodesOf({ ...g, azs: [zone] }, 1, before + launched++);
        scheduler.nodes.push(node);
        scheduler.touch();
        const waiting = rescheduling().reduce((s, t) => s + t.replicas - scheduler.count(t), 0);
        for (const t of daemons) scheduler.schedule(t);
        for (const t of rescheduling()) scheduler.schedule(t);
        if (rescheduling().reduce((s, t) => s + t.replicas - scheduler.count(t), 0) < waiting) {
          counts.set(g, n + 1);
          added.set(g.name, (added.get(g.name) ?? 0) + 1);
          addedNodes.push(node);
          grew = true;
          break;
        }
        // The autoscaler's simulation found no pending pod this node would take: not launched.
        scheduler.removeNode(node);
      }
      if (!grew) return;
    }
  };
  if (autoscaler) scaleOut(autoscaler);
  const afterScaleOut = new Set(rescheduling().map((t) => t.id));
  let waitsForNodeDeletion: string[] = [];
  if (input.nodeDeletionSeconds !== null) {
    for (const node of dead) scheduler.removeNode(node);
    round();
    if (autoscaler) scaleOut(autoscaler);
    const left = new Set(rescheduling().map((t) => t.id));
    waitsForNodeDeletion = [...afterScaleOut].filter((id) => !left.has(id));
  }
  // Whatever runs on a node the autoscaler launched waited for it (the dead Nodes' deletion too, perhaps).
  const waitsForScaleOut = [...new Set(addedNodes.flatMap((n) => scheduler.podsOn(n).filter(([t]) => t.kind !== 'DaemonSet').map(([t]) => t.id)))].sort();
  const outcome: NodePlacementOutcome = {
    nodesBefore: before,
    nodesLost: dead.length,
    nodesAdded: [...added].map(([group, nodes]) => ({ group, nodes })),
    pendingNow,
    pending: pendingOf(),
    preempted: [...preempted].map(([workload, e]) => ({ workload, pods: e.pods, by: [...e.by].sort() })),
    waitsForNodeDeletion,
    waitsForScaleOut,
    scanIntervalSeconds: autoscaler?.scanIntervalSeconds,
  };
  return { outcome, scheduler };
}

/** Seconds from pods Pending to new nodes Ready: the autoscaler's scan interval, EC2 launch, node bootstrap. */
export function scaleOutSeconds(scanIntervalSeconds: number): number {
  return scanIntervalSeconds + RECOVERY_DEFAULTS.instanceLaunchSeconds + RECOVERY_DEFAULTS.nodeBootstrapSeconds;
}
