import type { PodTemplateModel, Resources, Taint, Toleration } from '../model';
import { requirementMatches, selectorMatches } from './selectors';

/** A node of the simulation: its labels and taints change as the cluster comes up. */
export interface SimNode {
  readonly name: string;
  readonly group: string;
  readonly role: 'control-plane' | 'worker';
  readonly az: string;
  labels: Record<string, string>;
  taints: Taint[];
  /** Allocatable CPU and memory (NodeResourcesFit); undefined: resources are not simulated (day 0). */
  readonly allocatable?: Resources;
}

/**
 * What the DaemonSet controller adds to every daemon pod (pkg/controller/daemon/util,
 * AddOrUpdateDaemonPodTolerations): NoExecute for not-ready / unreachable (so they are not
 * evicted), NoSchedule for the pressure conditions and unschedulable, and network-unavailable
 * for host-network pods. Not `not-ready:NoSchedule`, not `uninitialized`, not the control plane.
 */
export function daemonSetTolerations(hostNetwork: boolean): Toleration[] {
  const noSchedule = ['node.kubernetes.io/disk-pressure', 'node.kubernetes.io/memory-pressure', 'node.kubernetes.io/pid-pressure', 'node.kubernetes.io/unschedulable', ...(hostNetwork ? ['node.kubernetes.io/network-unavailable'] : [])];
  return [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
    ...noSchedule.map((key) => ({ key, operator: 'Exists', effect: 'NoSchedule' })),
  ];
}

/** Kubernetes toleration semantics: empty key + Exists tolerates every key; empty effect every effect. */
export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (!t.key) return t.operator === 'Exists';
  if (t.key !== taint.key) return false;
  return t.operator === 'Exists' || (t.value ?? '') === taint.value;
}

const namespaceOf = (t: PodTemplateModel): string => t.id.split('/')[1] ?? '';

/** The pods placed so far and the scheduler's filters over them. */
export class Scheduler {
  readonly nodes: SimNode[] = [];
  private readonly placed = new Map<PodTemplateModel, Map<SimNode, number>>();
  private readonly ports = new Map<SimNode, Set<string>>();
  /** Placed templates by namespace and label pair: a selector looks at the few its labels name. */
  private readonly byLabel = new Map<string, PodTemplateModel[]>();
  private readonly byNamespace = new Map<string, PodTemplateModel[]>();

  count(t: PodTemplateModel, node?: SimNode): number {
    const m = this.placed.get(t);
    if (!m) return 0;
    if (node) return m.get(node) ?? 0;
    let n = 0;
    for (const c of m.values()) n += c;
    return n;
  }

  nodesOf(t: PodTemplateModel): SimNode[] {
    return [...(this.placed.get(t)?.keys() ?? [])];
  }

  /** Bumped by every placement and node change: spread domain counts are cached per constraint until then. */
  private version = 0;
  /** Bumped when nodes join or their labels and taints change: which nodes are eligible is cached until then. */
  private nodeVersion = 0;
  private readonly spreadCache = new Map<object, { version: number; domains: Map<string, number>; min: number }>();
  private readonly eligibleCache = new Map<object, { version: number; nodes: SimNode[]; set: Set<SimNode> }>();
  /** Nodes whose taints, selector and required affinity admit the template (what placements cannot change). */
  private readonly staticCache = new Map<PodTemplateModel, { version: number; nodes: SimNode[] }>();

  touch(): void {
    this.version++;
    this.nodeVersion++;
  }

  place(t: PodTemplateModel, node: SimNode): void {
    this.version++;
    const m = this.placed.get(t) ?? new Map<SimNode, number>();
    m.set(node, (m.get(node) ?? 0) + 1);
    if (!this.placed.has(t)) {
      this.placed.set(t, m);
      const ns = namespaceOf(t);
      this.byNamespace.set(ns, [...(this.byNamespace.get(ns) ?? []), t]);
      for (const [k, v] of Object.entries(t.labels)) {
        const key = `${ns}\u0000${k}\u0000${v}`;
        const list = this.byLabel.get(key) ?? [];
        list.push(t);
        this.byLabel.set(key, list);
      }
    }
    const ports = this.ports.get(node) ?? new Set<string>();
    for (const p of t.hostPorts) ports.add(p);
    this.ports.set(node, ports);
    const used = this.used.get(node) ?? { cpuMilli: 0, memoryMiB: 0 };
    this.used.set(node, { cpuMilli: used.cpuMilli + t.requests.cpuMilli, memoryMiB: used.memoryMiB + t.requests.memoryMiB });
  }

  /** Requests of the pods bound to each node. */
  private readonly used = new Map<SimNode, Resources>();

  /** Removes one pod of `t` from `node` (evicted, preempted or gone with its node). */
  unplace(t: PodTemplateModel, node: SimNode): void {
    const m = this.placed.get(t);
    const n = m?.get(node) ?? 0;
    if (!m || n === 0) return;
    this.version++;
    if (n === 1) m.delete(node);
    else m.set(node, n - 1);
    const used = this.used.get(node) ?? { cpuMilli: 0, memoryMiB: 0 };
    this.used.set(node, { cpuMilli: used.cpuMilli - t.requests.cpuMilli, memoryMiB: used.memoryMiB - t.requests.memoryMiB });
    if (t.hostPorts.length > 0) this.ports.set(node, new Set(this.podsOn(node).flatMap(([x]) => x.hostPorts)));
  }

  /** The templates with pods on `node` and how many. */
  podsOn(node: SimNode): Array<[PodTemplateModel, number]> {
    const out: Array<[PodTemplateModel, number]> = [];
    for (const [t, m] of this.placed) {
      const n = m.get(node) ?? 0;
      if (n > 0) out.push([t, n]);
    }
    return out;
  }

  /** Deletes a Node object: its pods go with it. */
  removeNode(node: SimNode): void {
    for (const [t, n] of this.podsOn(node)) for (let i = 0; i < n; i++) this.unplace(t, node);
    const i = this.nodes.indexOf(node);
    if (i >= 0) this.nodes.splice(i, 1);
    this.ports.delete(node);
    this.used.delete(node);
    this.touch();
  }

  /** CPU and memory left on a node; undefined when resources are not simulated. */
  free(node: SimNode): Resources | undefined {
    if (!node.allocatable) return undefined;
    const used = this.used.get(node) ?? { cpuMilli: 0, memoryMiB: 0 };
    return { cpuMilli: node.allocatable.cpuMilli - used.cpuMilli, memoryMiB: node.allocatable.memoryMiB - used.memoryMiB };
  }

  /** Placed templates a selector matches, in the same namespace. */
  private matching(selector: unknown, namespace: string): PodTemplateModel[] {
    const matchLabels = selector !== null && typeof selector === 'object' && 'matchLabels' in selector ? (selector as { matchLabels?: unknown }).matchLabels : undefined;
    const pairs = matchLabels !== null && typeof matchLabels === 'object' ? Object.entries(matchLabels as Record<string, unknown>) : [];
    let candidates = this.byNamespace.get(namespace) ?? [];
    for (const [k, v] of pairs) {
      const list = this.byLabel.get(`${namespace}\u0000${k}\u0000${String(v)}`) ?? [];
      if (list.length < candidates.length) candidates = list;
    }
    return candidates.filter((t) => selectorMatches(selector, t.labels));
  }

  private countOn(selector: unknown, namespace: string, nodes: readonly SimNode[]): number {
    let n = 0;
    for (const t of this.matching(selector, namespace)) for (const node of nodes) n += this.count(t, node);
    return n;
  }

  private readonly tolerationsCache = new WeakMap<PodTemplateModel, readonly Toleration[]>();

  private untolerated(t: PodTemplateModel, node: SimNode): Taint | undefined {
    let tolerations = this.tolerationsCache.get(t);
    if (!tolerations) {
      tolerations = t.kind === 'DaemonSet' ? [...t.tolerations, ...daemonSetTolerations(t.hostNetwork)] : t.tolerations;
      this.tolerationsCache.set(t, tolerations);
    }
    for (const taint of node.taints) {
      if (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute') continue;
      let ok = false;
      for (const x of tolerations) if ((ok = tolerates(x, taint))) break;
      if (!ok) return taint;
    }
    return undefined;
  }

  private affinityMatches(t: PodTemplateModel, node: SimNode): boolean {
    for (const k in t.nodeSelector) if (node.labels[k] !== t.nodeSelector[k]) return false;
    return t.nodeAffinityTerms.length === 0 || t.nodeAffinityTerms.some((term) => term.every((r) => requirementMatches(r, node.labels)));
  }

  /** Why the scheduler (or the DaemonSet controller) would not put a pod of `t` on `node`; undefined: it fits. */
  whyNot(t: PodTemplateModel, node: SimNode, staticChecked = false, ignoreResources = false): string | undefined {
    if (!staticChecked) {
      const taint = this.untolerated(t, node);
      if (taint) return `untolerated taint ${taint.key}${taint.value ? `=${taint.value}` : ''}:${taint.effect}`;
      const missing = Object.entries(t.nodeSelector).find(([k, v]) => node.labels[k] !== v);
      if (missing) return `node selector ${missing[0]}=${missing[1]} not on the node`;
      if (!this.affinityMatches(t, node)) return 'required node affinity matches no term';
    }
    if (t.kind === 'DaemonSet' && this.count(t, node) > 0) return 'its daemon pod already runs there';
    if (!ignoreResources) {
      const free = this.free(node);
      if (free && (free.cpuMilli < t.requests.cpuMilli || free.memoryMiB < t.requests.memoryMiB)) {
        return `insufficient ${free.cpuMilli < t.requests.cpuMilli ? `cpu (${free.cpuMilli}m free, ${t.requests.cpuMilli}m requested)` : `memory (${free.memoryMiB} MiB free, ${t.requests.memoryMiB} MiB requested)`}`;
      }
    }
    const ports = this.ports.get(node);
    const clash = t.hostPorts.find((p) => ports?.has(p));
    if (clash) return `host port ${clash} already in use`;
    const ns = namespaceOf(t);
    for (const term of t.antiAffinity) {
      const value = node.labels[term.topologyKey];
      if (value === undefined) continue;
      const domain = this.nodes.filter((n) => n.labels[term.topologyKey] === value);
      if (this.countOn(term.selector, ns, domain) > 0) return `required pod anti-affinity on ${term.topologyKey}`;
    }
    if (t.kind === 'DaemonSet') return undefined;
    for (const c of t.spread) {
      if (c.whenUnsatisfiable !== 'DoNotSchedule') continue;
      // PodTopologySpread filter: a node without the key is not eligible for a hard constraint.
      if (node.labels[c.topologyKey] === undefined) return `no ${c.topologyKey} label for its DoNotSchedule topology spread`;
      let state = this.spreadCache.get(c);
      if (!state || state.version !== this.version) {
        // Domains: the eligible nodes' values (nodeAffinityPolicy Honor by default, nodeTaintsPolicy Ignore by default).
        let eligible = this.eligibleCache.get(c);
        if (!eligible || eligible.version !== this.nodeVersion) {
          const nodes = this.nodes.filter(
            (n) => n.labels[c.topologyKey] !== undefined && (c.nodeAffinityPolicy !== 'Honor' || this.affinityMatches(t, n)) && (c.nodeTaintsPolicy !== 'Honor' || this.untolerated(t, n) === undefined),
          );
          eligible = { version: this.nodeVersion, nodes, set: new Set(nodes) };
          this.eligibleCache.set(c, eligible);
        }
        const domains = new Map<string, number>();
        for (const n of eligible.nodes) if (!domains.has(n.labels[c.topologyKey])) domains.set(n.labels[c.topologyKey], 0);
        const inDomain = eligible.set;
        for (const m of this.matching(c.selector, ns)) {
          for (const [n, k] of this.placed.get(m) ?? []) if (inDomain.has(n)) domains.set(n.labels[c.topologyKey], (domains.get(n.labels[c.topologyKey]) ?? 0) + k);
        }
        // minDomains: with fewer eligible domains than that, the global minimum counts as 0.
        const min = c.minDomains !== undefined && domains.size < c.minDomains ? 0 : Math.min(...domains.values());
        state = { version: this.version, domains, min };
        this.spreadCache.set(c, state);
      }
      const { domains, min } = state;
      const self = selectorMatches(c.selector, t.labels) ? 1 : 0;
      const skew = (domains.get(node.labels[c.topologyKey]) ?? 0) + self - min;
      if (skew > c.maxSkew) return `topology spread on ${c.topologyKey}: skew ${skew} > maxSkew ${c.maxSkew}`;
    }
    return undefined;
  }

  /**
   * Places what fits of `t` (a daemon pod per eligible node, else the replicas left), fewest pods of
   * it first; returns the nodes used and, when pods stay Pending, why on each node.
   */
  schedule(t: PodTemplateModel): { placedOn: string[]; pending: number; reasons: string[] } {
    const placedOn: string[] = [];
    if (t.kind === 'DaemonSet') {
      const reasons: string[] = [];
      for (const node of this.nodes) {
        if (this.count(t, node) > 0) continue;
        const why = this.whyNot(t, node);
        if (why === undefined) {
          this.place(t, node);
          placedOn.push(node.name);
        } else if (this.affinityMatches(t, node) && (t.provides !== undefined || !why.startsWith('untolerated taint'))) {
          // The DaemonSet controller creates no pod where a taint is not tolerated: not Pending, absent.
          // A CNI agent absent from a node is why that node never turns Ready: kept as the reason.
          reasons.push(`${node.name}: ${why}`);
        }
      }
      return { placedOn, pending: reasons.length, reasons };
    }
    const left = t.replicas - this.count(t);
    if (left <= 0) return { placedOn, pending: 0, reasons: [] };
    // A workload whose selectors match no other placed pod and that binds no host port is placed
    // the same way as any other of the same shape on the same nodes: reuse that outcome.
    // With resources simulated, every placement changes what the next one finds: no reuse.
    const key = left === t.replicas && this.nodes[0]?.allocatable === undefined ? this.shapeKey(t) : undefined;
    const cached = key !== undefined ? this.shapeCache.get(key) : undefined;
    if (cached && cached.version === this.nodeVersion) {
      for (const n of cached.nodes) this.place(t, n);
      return { placedOn: cached.nodes.map((n) => n.name), pending: cached.pending, reasons: cached.reasons };
    }
    const outcome = this.placeReplicas(t, left);
    if (key !== undefined) this.shapeCache.set(key, { version: this.nodeVersion, nodes: outcome.nodes, pending: outcome.pending, reasons: outcome.reasons });
    return { placedOn: outcome.nodes.map((n) => n.name), pending: outcome.pending, reasons: outcome.reasons };
  }

  private readonly shapeCache = new Map<string, { version: number; nodes: SimNode[]; pending: number; reasons: string[] }>();

  /** The scheduling shape of a self-contained workload (selectors matching only itself, no host ports); undefined otherwise. */
  private shapeKey(t: PodTemplateModel): string | undefined {
    if (t.hostPorts.length > 0) return undefined;
    const ns = namespaceOf(t);
    const selectors = [...t.spread.map((c) => c.selector), ...t.antiAffinity.map((a) => a.selector)];
    if (selectors.some((sel) => this.matching(sel, ns).length > 0)) return undefined;
    return JSON.stringify([
      ns,
      t.replicas,
      t.nodeSelector,
      t.nodeAffinityTerms,
      t.tolerations,
      t.spread.map((c) => [c.topologyKey, c.maxSkew, c.whenUnsatisfiable, c.minDomains, c.nodeAffinityPolicy, c.nodeTaintsPolicy, selectorMatches(c.selector, t.labels)]),
      t.antiAffinity.map((a) => [a.topologyKey, selectorMatches(a.selector, t.labels)]),
    ]);
  }

  private placeReplicas(t: PodTemplateModel, replicas: number): { nodes: SimNode[]; pending: number; reasons: string[] } {
    const placed: SimNode[] = [];
    let left = replicas;
    let fixed = this.staticCache.get(t);
    if (!fixed || fixed.version !== this.nodeVersion) {
      fixed = { version: this.nodeVersion, nodes: this.nodes.filter((n) => this.untolerated(t, n) === undefined && this.affinityMatches(t, n)) };
      this.staticCache.set(t, fixed);
    }
    while (left > 0) {
      // Fewest pods of it first (the spreading the scheduler's scoring does): one pass per count level.
      const counts = fixed.nodes.map((n) => this.count(t, n));
      let node: SimNode | undefined;
      for (const level of [...new Set(counts)].sort((a, b) => a - b)) {
        node = fixed.nodes.find((n, i) => counts[i] === level && this.whyNot(t, n, true) === undefined);
        if (node) break;
      }
      if (!node) return { nodes: placed, pending: left, reasons: this.nodes.map((n) => `${n.name}: ${this.whyNot(t, n)}`) };
      this.place(t, node);
      placed.push(node);
      left--;
    }
    return { nodes: placed, pending: 0, reasons: [] };
  }
}
