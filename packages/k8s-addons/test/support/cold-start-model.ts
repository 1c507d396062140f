/* eslint-disable @typescript-eslint/no-explicit-any -- chart values are free-form YAML */
import { parse } from 'yaml';
import { chartDefaults, helmMerge, type Values } from './charts';

/**
 * A small model of what happens on the first control-plane node after `kubeadm init`, fed with
 * the pod specs the pinned charts render from our values. It models the Kubernetes semantics
 * the cold start depends on, not our intent:
 *
 * - scheduler filters: nodeSelector, required node affinity, NoSchedule/NoExecute taints
 *   against tolerations, host ports, required pod anti-affinity, and PodTopologySpread: a
 *   `DoNotSchedule` constraint rejects a node without its topologyKey label;
 *   `ScheduleAnyway` only scores (fewest matching pods in the node's domain first);
 * - the DaemonSet controller's automatic tolerations: not-ready and unreachable `NoExecute`,
 *   disk/memory/pid-pressure and unschedulable `NoSchedule`, network-unavailable `NoSchedule`
 *   for host-network pods, and nothing for `not-ready:NoSchedule`;
 * - a pod without the host network runs only once the node's CNI is ready;
 * - the node lifecycle: the Cilium agent makes its node Ready (not-ready taint removed) once an
 *   operator runs (cluster-pool IPAM: the operator allocates the node's pod CIDR); the cloud
 *   controller sets the zone labels and removes the uninitialized taint; flux-operator creates
 *   the controllers of the FluxInstance.
 */

export type Effect = 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
export interface Taint {
  readonly key: string;
  readonly value?: string;
  readonly effect: Effect;
}
export interface Toleration {
  readonly key?: string;
  readonly operator?: 'Exists' | 'Equal';
  readonly value?: string;
  readonly effect?: Effect;
  readonly tolerationSeconds?: number;
}
interface LabelSelector {
  readonly matchLabels?: Record<string, string>;
}
interface SpreadConstraint {
  readonly maxSkew: number;
  readonly topologyKey: string;
  readonly whenUnsatisfiable: 'DoNotSchedule' | 'ScheduleAnyway';
  readonly labelSelector?: LabelSelector;
  readonly nodeTaintsPolicy?: 'Honor' | 'Ignore';
}
interface NodeSelectorRequirement {
  readonly key: string;
  readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  readonly values?: readonly string[];
}

/** What the scheduler sees of a workload's pod template (as the chart renders it). */
export interface PodTemplate {
  readonly workload: string;
  readonly kind: 'DaemonSet' | 'Deployment';
  readonly replicas: number;
  readonly labels: Record<string, string>;
  readonly hostNetwork: boolean;
  readonly hostPorts: readonly number[];
  readonly nodeSelector: Record<string, string>;
  readonly requiredNodeTerms: readonly (readonly NodeSelectorRequirement[])[];
  readonly antiAffinity: readonly { readonly topologyKey: string; readonly labelSelector: LabelSelector }[];
  readonly tolerations: readonly Toleration[];
  readonly spread: readonly SpreadConstraint[];
}

export interface ModelNode {
  readonly name: string;
  readonly labels: Record<string, string>;
  taints: Taint[];
  /** The AZ the cloud controller will label it with. */
  readonly zone: string;
  networkReady: boolean;
}

export const ZONE_LABEL = 'topology.kubernetes.io/zone';
const NOT_READY = 'node.kubernetes.io/not-ready';
const UNINITIALIZED = 'node.cloudprovider.kubernetes.io/uninitialized';
const CONTROL_PLANE = 'node-role.kubernetes.io/control-plane';

/**
 * A node right after kubeadm (`init` or `join`) with kubelet `--cloud-provider=external`:
 * hostname/os/arch labels (and the control-plane role label), no zone label, tainted
 * NotReady and uninitialized.
 */
export function freshNode(name: string, zone: string, role: 'control-plane' | 'worker'): ModelNode {
  const labels: Record<string, string> = { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64' };
  const taints: Taint[] = [
    { key: NOT_READY, effect: 'NoSchedule' },
    { key: UNINITIALIZED, value: 'true', effect: 'NoSchedule' },
  ];
  if (role === 'control-plane') {
    labels[CONTROL_PLANE] = '';
    taints.unshift({ key: CONTROL_PLANE, effect: 'NoSchedule' });
  }
  return { name, labels, taints, zone, networkReady: false };
}

// --- the charts' pod templates, from our values merged over the pinned chart defaults ---

const selectorOf = (labels: Record<string, string>): LabelSelector => ({ matchLabels: labels });

function affinityParts(affinity: any): Pick<PodTemplate, 'requiredNodeTerms' | 'antiAffinity'> {
  const terms = affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  return {
    requiredNodeTerms: terms.map((t: any) => (t.matchExpressions ?? []) as NodeSelectorRequirement[]),
    antiAffinity: (affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t: any) => ({ topologyKey: t.topologyKey, labelSelector: t.labelSelector ?? {} })),
  };
}

/** cilium 1.18.2: the agent DaemonSet and the operator Deployment (templates/cilium-agent, cilium-operator). */
export function ciliumPods(values: Values): PodTemplate[] {
  const v = helmMerge(chartDefaults('cilium', '1.18.2'), values) as any;
  const operatorLabels = { 'io.cilium/app': 'operator', name: 'cilium-operator', ...(v.operator.podLabels ?? {}) };
  const op = v.operator;
  return [
    {
      workload: 'cilium-agent',
      kind: 'DaemonSet',
      replicas: 0,
      labels: { 'k8s-app': 'cilium' },
      hostNetwork: true,
      hostPorts: [],
      nodeSelector: v.nodeSelector ?? {},
      ...affinityParts(v.affinity),
      tolerations: v.tolerations ?? [],
      spread: [],
    },
    {
      workload: 'cilium-operator',
      kind: 'Deployment',
      replicas: op.replicas,
      labels: operatorLabels,
      hostNetwork: op.hostNetwork === true,
      // The prometheus port becomes a hostPort when the operator uses the host network.
      hostPorts: op.prometheus?.enabled && op.hostNetwork ? [op.prometheus.port] : [],
      nodeSelector: op.nodeSelector ?? {},
      ...affinityParts(op.affinity),
      tolerations: op.tolerations ?? [],
      // The template adds the operator's labels as the selector of a constraint that has none.
      spread: (op.topologySpreadConstraints ?? []).map((c: SpreadConstraint) => ({ ...c, labelSelector: c.labelSelector ?? selectorOf({ 'io.cilium/app': 'operator', name: 'cilium-operator' }) })),
    },
  ];
}

/** aws-cloud-controller-manager 0.0.10: a DaemonSet; `hostNetworking` switches on hostNetwork (templates/daemonset.yaml). */
export function cloudControllerPods(values: Values): PodTemplate[] {
  const v = helmMerge(chartDefaults('aws-cloud-controller-manager', '0.0.10'), values) as any;
  return [
    {
      workload: 'aws-cloud-controller-manager',
      kind: 'DaemonSet',
      replicas: 0,
      labels: { 'k8s-app': 'aws-cloud-controller-manager' },
      hostNetwork: Boolean(v.hostNetworking),
      hostPorts: [],
      nodeSelector: v.nodeSelector ?? {},
      requiredNodeTerms: [],
      antiAffinity: [],
      tolerations: v.tolerations ?? [],
      spread: [],
    },
  ];
}

/**
 * flux-operator's chart defaults that place its pod (one replica, linux node affinity, no
 * tolerations, no host network). The chart source of the pinned 0.58.1 is not available
 * here (see shared/charts/SOURCES.txt); these are the published chart's placement defaults.
 */
const FLUX_OPERATOR_PLACEMENT_DEFAULTS: Values = {
  affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/os', operator: 'In', values: ['linux'] }] }] } } },
  tolerations: [],
  nodeSelector: {},
  hostNetwork: false,
};

export function fluxOperatorPods(values: Values): PodTemplate[] {
  const v = helmMerge(FLUX_OPERATOR_PLACEMENT_DEFAULTS, values) as any;
  return [
    {
      workload: 'flux-operator',
      kind: 'Deployment',
      replicas: 1,
      labels: { 'app.kubernetes.io/name': 'flux-operator' },
      hostNetwork: v.hostNetwork === true,
      hostPorts: v.hostNetwork ? [8080, 8081] : [],
      nodeSelector: v.nodeSelector ?? {},
      ...affinityParts(v.affinity),
      tolerations: v.tolerations ?? [],
      spread: [],
    },
  ];
}

/**
 * The controllers a FluxInstance makes flux-operator install: one Deployment each, on the
 * pod network, `kubernetes.io/os: linux`, with the tolerations its kustomize patches add.
 */
export function fluxControllerPods(instance: any): PodTemplate[] {
  let tolerations: Toleration[] = [];
  for (const p of instance.spec.kustomize?.patches ?? []) {
    if (p.target?.kind !== 'Deployment') continue;
    for (const op of parse(p.patch) as any[]) {
      if (op.path === '/spec/template/spec/tolerations' && (op.op === 'add' || op.op === 'replace')) tolerations = op.value;
    }
  }
  return (instance.spec.components as string[]).map((component) => ({
    workload: component,
    kind: 'Deployment',
    replicas: 1,
    labels: { app: component },
    hostNetwork: false,
    hostPorts: [],
    nodeSelector: { 'kubernetes.io/os': 'linux' },
    requiredNodeTerms: [],
    antiAffinity: [],
    tolerations,
    spread: [],
  }));
}

// --- the scheduler ---

/** What the DaemonSet controller adds to every DaemonSet pod (pkg/controller/daemon/util). */
export function daemonSetTolerations(hostNetwork: boolean): Toleration[] {
  return [
    { key: NOT_READY, operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
    ...(hostNetwork ? [{ key: 'node.kubernetes.io/network-unavailable', operator: 'Exists' as const, effect: 'NoSchedule' as const }] : []),
  ];
}

export function tolerates(tolerations: readonly Toleration[], taint: Taint): boolean {
  return tolerations.some((t) => {
    if (t.effect !== undefined && t.effect !== taint.effect) return false;
    if (t.key === undefined || t.key === '') return t.operator === 'Exists';
    if (t.key !== taint.key) return false;
    return t.operator === 'Exists' || (t.value ?? '') === (taint.value ?? '');
  });
}

interface Pod {
  readonly name: string;
  readonly template: PodTemplate;
  /** DaemonSet pods are bound to one node by the controller's node affinity. */
  readonly forNode?: string;
  node?: string;
}

const matches = (selector: LabelSelector, labels: Record<string, string>) => Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);

function nodeAffinityOk(t: PodTemplate, node: ModelNode): boolean {
  if (!Object.entries(t.nodeSelector).every(([k, v]) => node.labels[k] === v)) return false;
  if (t.requiredNodeTerms.length === 0) return true;
  return t.requiredNodeTerms.some((term) =>
    term.every((r) => {
      const value = node.labels[r.key];
      switch (r.operator) {
        case 'In':
          return value !== undefined && (r.values ?? []).includes(value);
        case 'NotIn':
          return value === undefined || !(r.values ?? []).includes(value);
        case 'Exists':
          return value !== undefined;
        case 'DoesNotExist':
          return value === undefined;
      }
      return false;
    }),
  );
}

const daemonSetTolerationsOf = (t: PodTemplate) => [...t.tolerations, ...daemonSetTolerations(t.hostNetwork)];
const tolerationsOf = (pod: Pod) => (pod.template.kind === 'DaemonSet' ? daemonSetTolerationsOf(pod.template) : pod.template.tolerations);
const blocking = (tolerations: readonly Toleration[], node: ModelNode) => node.taints.filter((taint) => taint.effect !== 'PreferNoSchedule' && !tolerates(tolerations, taint));
const blockingTaints = (pod: Pod, node: ModelNode) => blocking(tolerationsOf(pod), node);
/** The scheduler's wording for the first taint not tolerated. */
function untolerated(tolerations: readonly Toleration[], node: ModelNode): string {
  const [taint] = blocking(tolerations, node);
  return taint ? `had untolerated taint {${taint.key}: ${taint.value ?? ''}} (${taint.effect})` : 'no untolerated taint';
}

export class ColdStartModel {
  private readonly pods: Pod[] = [];
  private readonly workloads: PodTemplate[] = [];
  /** Pods each workload's controller has created so far (for their names). */
  private readonly created = new Map<string, number>();
  /** What happened, in order. */
  readonly events: string[] = [];

  constructor(readonly nodes: ModelNode[]) {}

  install(templates: readonly PodTemplate[]): void {
    this.workloads.push(...templates);
  }

  addNode(node: ModelNode): void {
    this.nodes.push(node);
  }

  /** The node is gone (terminated): its pods with it; their controllers make new ones. */
  removeNode(name: string): void {
    this.nodes.splice(this.nodes.indexOf(this.node(name)), 1);
    for (let i = this.pods.length - 1; i >= 0; i--) if (this.pods[i]!.node === name || this.pods[i]!.forNode === name) this.pods.splice(i, 1);
    this.events.push(`node ${name} removed`);
  }

  /** The node each running pod of `workload` is on. */
  nodesOf(workload: string): ModelNode[] {
    return this.running(workload).map((p) => this.node(p.node!));
  }

  running(workload: string): Pod[] {
    return this.pods.filter((p) => p.template.workload === workload && p.node !== undefined && (p.template.hostNetwork || this.node(p.node).networkReady));
  }

  /**
   * What does not run yet: Deployment pods the scheduler has not placed (its reason per node),
   * and DaemonSet pods the DaemonSet controller does not create because the node's taints are
   * not tolerated (it checks NoSchedule and NoExecute taints before creating a pod).
   */
  pending(): { pod: string; reasons: string[] }[] {
    const unscheduled = this.pods.filter((p) => p.node === undefined).map((p) => ({ pod: p.name, reasons: this.candidates(p).map((n) => `${n.name}: ${this.reject(p, n) ?? 'schedulable'}`) }));
    const notCreated = this.workloads
      .filter((t) => t.kind === 'DaemonSet')
      .flatMap((t) =>
        this.nodes
          .filter((n) => nodeAffinityOk(t, n) && !this.pods.some((p) => p.template === t && p.forNode === n.name))
          .map((n) => ({ pod: `${t.workload}@${n.name}`, reasons: [`${n.name}: no pod created by the DaemonSet controller, ${untolerated(daemonSetTolerationsOf(t), n)}`] })),
      );
    return [...unscheduled, ...notCreated];
  }

  /** Runs the controllers, the scheduler and the node lifecycle until nothing changes. */
  settle(maxRounds = 50): void {
    for (let round = 0; round < maxRounds; round++) {
      if (!this.step()) return;
    }
    throw new Error(`no fixpoint after ${maxRounds} rounds`);
  }

  private node(name: string): ModelNode {
    const found = this.nodes.find((n) => n.name === name);
    if (!found) throw new Error(`no node ${name}`);
    return found;
  }

  private candidates(pod: Pod): ModelNode[] {
    return pod.forNode ? [this.node(pod.forNode)] : this.nodes;
  }

  /**
   * The first scheduler filter that rejects `node` for `pod` (in the default profile's order:
   * TaintToleration, NodeAffinity, NodePorts, PodTopologySpread, InterPodAffinity), or
   * undefined when it fits.
   */
  private reject(pod: Pod, node: ModelNode): string | undefined {
    const t = pod.template;
    if (blockingTaints(pod, node).length) return untolerated(tolerationsOf(pod), node);
    if (!nodeAffinityOk(t, node)) return "didn't match Pod's node affinity/selector";
    const placed = this.pods.filter((p) => p !== pod && p.node !== undefined);
    const onNode = placed.filter((p) => p.node === node.name);
    if (t.hostPorts.some((port) => onNode.some((p) => p.template.hostPorts.includes(port)))) return "didn't have free ports for the requested pod ports";
    for (const c of t.spread.filter((s) => s.whenUnsatisfiable === 'DoNotSchedule')) {
      if (node.labels[c.topologyKey] === undefined) return "didn't match pod topology spread constraints (missing required label)";
      const counts = this.domainCounts(pod, c);
      const min = Math.min(...counts.values());
      if ((counts.get(node.labels[c.topologyKey]!) ?? 0) + 1 - min > c.maxSkew) return "didn't match pod topology spread constraints";
    }
    for (const term of t.antiAffinity) {
      const domain = node.labels[term.topologyKey];
      if (domain === undefined) continue;
      if (placed.some((p) => this.node(p.node!).labels[term.topologyKey] === domain && matches(term.labelSelector, p.template.labels))) return "didn't match pod anti-affinity rules";
    }
    return undefined;
  }

  /** Matching pods per topology domain, over the nodes the constraint counts. */
  private domainCounts(pod: Pod, c: SpreadConstraint): Map<string, number> {
    const counts = new Map<string, number>();
    for (const n of this.nodes) {
      const domain = n.labels[c.topologyKey];
      if (domain === undefined || !nodeAffinityOk(pod.template, n)) continue;
      if (c.nodeTaintsPolicy === 'Honor' && blockingTaints(pod, n).length) continue;
      const here = this.pods.filter((p) => p.node === n.name && matches(c.labelSelector ?? {}, p.template.labels)).length;
      counts.set(domain, (counts.get(domain) ?? 0) + here);
    }
    return counts;
  }

  /** ScheduleAnyway spread as a score: fewest matching pods in the node's domain; no label last. */
  private score(pod: Pod, node: ModelNode): number {
    let score = 0;
    for (const c of pod.template.spread.filter((s) => s.whenUnsatisfiable === 'ScheduleAnyway')) {
      const domain = node.labels[c.topologyKey];
      score += domain === undefined ? 1000 : (this.domainCounts(pod, c).get(domain) ?? 0);
    }
    return score;
  }

  private step(): boolean {
    let changed = this.reconcileWorkloads();
    for (const pod of this.pods.filter((p) => p.node === undefined)) {
      const fits = this.candidates(pod).filter((n) => this.reject(pod, n) === undefined);
      if (!fits.length) continue;
      const best = fits.reduce((a, b) => (this.score(pod, b) < this.score(pod, a) ? b : a));
      pod.node = best.name;
      this.events.push(`scheduled ${pod.name} on ${best.name}${pod.template.hostNetwork || best.networkReady ? ' (running)' : ' (waits for the CNI)'}`);
      changed = true;
    }
    return this.lifecycle() || changed;
  }

  /** The DaemonSet and Deployment controllers: the pods each workload should have. */
  private reconcileWorkloads(): boolean {
    let changed = false;
    for (const t of this.workloads) {
      const existing = this.pods.filter((p) => p.template === t);
      if (t.kind === 'DaemonSet') {
        // The controller creates a node's pod only where its selector, affinity and taints let it run.
        const shouldRun = (n: ModelNode) => nodeAffinityOk(t, n) && !blocking(daemonSetTolerationsOf(t), n).length;
        for (const n of this.nodes.filter((n) => shouldRun(n) && !existing.some((p) => p.forNode === n.name))) {
          this.pods.push({ name: `${t.workload}@${n.name}`, template: t, forNode: n.name });
          changed = true;
        }
      } else {
        for (let i = existing.length; i < t.replicas; i++) {
          const n = (this.created.get(t.workload) ?? 0) + 1;
          this.created.set(t.workload, n);
          this.pods.push({ name: `${t.workload}#${n}`, template: t });
          changed = true;
        }
      }
    }
    return changed;
  }

  /** What running pods do to the nodes and the cluster. */
  private lifecycle(): boolean {
    let changed = false;
    if (this.running('cilium-operator').length) {
      for (const agent of this.running('cilium-agent')) {
        const n = this.node(agent.node!);
        if (n.networkReady) continue;
        n.networkReady = true;
        n.taints = n.taints.filter((t) => t.key !== NOT_READY);
        this.events.push(`node ${n.name} Ready: Cilium wrote the CNI config, not-ready taint removed`);
        changed = true;
      }
    }
    if (this.running('aws-cloud-controller-manager').length) {
      for (const n of this.nodes.filter((n) => n.taints.some((t) => t.key === UNINITIALIZED))) {
        n.taints = n.taints.filter((t) => t.key !== UNINITIALIZED);
        n.labels[ZONE_LABEL] = n.zone;
        this.events.push(`node ${n.name} initialised by the cloud controller: zone ${n.zone}, uninitialized taint removed`);
        changed = true;
      }
    }
    return changed;
  }
}

/** Whole first-boot objects as Flux applies them (HelmRelease values and the FluxInstance). */
export interface FirstBootObjects {
  readonly cilium: Values;
  readonly cloudController: Values;
  readonly fluxOperator: Values;
  readonly fluxInstance: Values;
}

/**
 * install-addons.sh on the first node: Helm installs Cilium, the cloud controller and
 * flux-operator (no `--wait`) and applies the FluxInstance; flux-operator, once it runs,
 * installs the Flux controllers. Returns the settled model.
 */
export function coldStart(objects: FirstBootObjects, nodes: ModelNode[] = [freshNode('cp-a', 'zone-a', 'control-plane')]): ColdStartModel {
  const model = new ColdStartModel(nodes);
  model.install([...ciliumPods(objects.cilium), ...cloudControllerPods(objects.cloudController), ...fluxOperatorPods(objects.fluxOperator)]);
  let fluxInstalled = false;
  for (let round = 0; round < 10; round++) {
    model.settle();
    if (fluxInstalled || !model.running('flux-operator').length) break;
    model.events.push('flux-operator reconciles the FluxInstance: installs the Flux controllers');
    model.install(fluxControllerPods(objects.fluxInstance));
    fluxInstalled = true;
  }
  return model;
}

/** Every first-boot workload has a running pod, and every node is Ready and initialised. */
export function converged(model: ColdStartModel, objects: FirstBootObjects): boolean {
  const workloads = ['cilium-agent', 'cilium-operator', 'aws-cloud-controller-manager', 'flux-operator', ...(objects.fluxInstance as any).spec.components];
  return workloads.every((w) => model.running(w).length > 0) && model.nodes.every((n) => n.networkReady && n.labels[ZONE_LABEL] !== undefined);
}
