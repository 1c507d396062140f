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

/** A SimNode with its fields in one order (one hidden class for every node and copy: the filters run per node by the thousand). */
export function simNode(name: string, group: string, role: SimNode['role'], az: string, labels: Record<string, string>, taints: Taint[], allocatable: Resources | undefined): SimNode {
  return { name, group, role, az, labels, taints, allocatable };
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

const namespaces = new WeakMap<PodTemplateModel, string>();
const EMPTY_COUNTS: ReadonlyMap<SimNode, number> = new Map();
/** Versions of the set of placed templates, unique across schedulers and their copies. */
let labelVersions = 0;
/** Domain counts of one spread constraint over its eligible nodes. */
interface SpreadState {
  readonly nodeVersion: number;
  readonly labelVersion: number;
  readonly key: string;
  readonly nodes: ReadonlySet<SimNode>;
  readonly domains: Map<string, number>;
}

/** A string key per constraint or template (they never change), computed once for every simulation. */
const shapeKeys = new WeakMap<object, string>();
/** Each template's scheduling shape (shapeKey), apart from whether its selectors match other pods. */
const shapeKeysByTemplate = new WeakMap<PodTemplateModel, string>();
/** The template's namespace (`Kind/<ns>/name`), computed once: whyNot asks for it on every node. */
function namespaceOf(t: PodTemplateModel): string {
  let ns = namespaces.get(t);
  if (ns === undefined) namespaces.set(t, (ns = t.id.split('/')[1] ?? ''));
  return ns;
}

/** The key of what filters a template's nodes independently of placements (taints, selectors, required affinity), built once per template. */
function staticKeyOf(t: PodTemplateModel): string {
  let k = shapeKeys.get(t);
  if (k === undefined) shapeKeys.set(t, (k = JSON.stringify([t.kind === 'DaemonSet', t.hostNetwork, t.tolerations, t.nodeSelector, t.nodeAffinityTerms])));
  return k;
}

/** The pods placed so far and the scheduler's filters over them. */
export class Scheduler {
  readonly nodes: SimNode[] = [];
  private readonly placed = new Map<PodTemplateModel, Map<SimNode, number>>();
  private readonly ports = new Map<SimNode, Set<string>>();
  /** Placed templates by namespace and label pair: a selector looks at the few its labels name. */
  private readonly byLabel = new Map<string, PodTemplateModel[]>();
  private readonly byNamespace = new Map<string, PodTemplateModel[]>();

  /** Pods of each template placed, all nodes together (kept by place/unplace: the queue asks for it per template per round). */
  private readonly totals = new Map<PodTemplateModel, number>();

  count(t: PodTemplateModel, node?: SimNode): number {
    if (node) return this.placed.get(t)?.get(node) ?? 0;
    return this.totals.get(t) ?? 0;
  }

  nodesOf(t: PodTemplateModel): SimNode[] {
    return [...(this.placed.get(t)?.keys() ?? [])];
  }

  /** The nodes with pods of `t` and how many on each (a view: read it before placing more). */
  countsByNode(t: PodTemplateModel): ReadonlyMap<SimNode, number> {
    return this.placed.get(t) ?? EMPTY_COUNTS;
  }

  /** Bumped by every placement and node change: spread domain counts are cached per constraint until then. */
  /** Bumped when nodes join or their labels and taints change: which nodes are eligible is cached until then. */
  private nodeVersion = 0;
  /**
   * Pods per domain of each spread constraint, kept up to date by every placement of a template it
   * counts (`countedBy`); rebuilt when nodes or the set of placed templates change.
   */
  private readonly spreadCache = new Map<object, SpreadState>();
  private readonly countedBy = new Map<PodTemplateModel, Set<object>>();

  /** A placement or removal of one pod of `t` on `node`, in the domain counts that count it. */
  private recount(t: PodTemplateModel, node: SimNode, delta: number): void {
    const constraints = this.countedBy.get(t);
    if (!constraints) return;
    // forEach and indexed loops on the per-pod paths: they run by the ten thousand, mostly before V8
    // optimizes them, where a for-of step allocates an iterator result (and an entry array when destructured).
    constraints.forEach((c) => {
      const st = this.spreadCache.get(c);
      if (!st || st.nodeVersion !== this.nodeVersion || st.labelVersion !== this.labelVersion || !st.nodes.has(node)) return;
      const k = node.labels[st.key];
      st.domains.set(k, (st.domains.get(k) ?? 0) + delta);
    });
  }
  private readonly eligibleCache = new Map<string, { version: number; nodes: SimNode[]; set: Set<SimNode>; keys: string[] }>();

  /** Nodes whose taints, selector and required affinity admit the template (what placements cannot change). */
  private readonly staticCache = new Map<string, { version: number; nodes: SimNode[] }>();

  touch(): void {
    this.nodeVersion++;
  }

  place(t: PodTemplateModel, node: SimNode): void {
    const m = this.placed.get(t) ?? new Map<SimNode, number>();
    m.set(node, (m.get(node) ?? 0) + 1);
    this.totals.set(t, (this.totals.get(t) ?? 0) + 1);
    let on = this.onNode.get(node);
    if (!on) this.onNode.set(node, (on = new Map()));
    on.set(t, (on.get(t) ?? 0) + 1);
    if (!this.placed.has(t)) {
      this.labelVersion = ++labelVersions;
      this.placed.set(t, m);
      const ns = namespaceOf(t);
      // Appended in place (copies get their own lists): a namespace of thousands is not copied per template.
      const inNamespace = this.byNamespace.get(ns);
      if (inNamespace) inNamespace.push(t);
      else this.byNamespace.set(ns, [t]);
      for (const [k, v] of Object.entries(t.labels)) {
        const key = `${ns}\u0000${k}\u0000${v}`;
        const list = this.byLabel.get(key) ?? [];
        list.push(t);
        this.byLabel.set(key, list);
      }
    }
    if (t.hostPorts.length > 0) {
      const ports = this.ports.get(node) ?? new Set<string>();
      for (const p of t.hostPorts) ports.add(p);
      this.ports.set(node, ports);
    }
    this.usage(node, t, 1);
    this.recount(t, node, 1);
  }

  /** Requests of the pods bound to each node (mutable: placements run by the thousand). */
  private readonly used = new Map<SimNode, { cpuMilli: number; memoryMiB: number }>();

  private usage(node: SimNode, t: PodTemplateModel, sign: 1 | -1): void {
    let used = this.used.get(node);
    if (!used) this.used.set(node, (used = { cpuMilli: 0, memoryMiB: 0 }));
    used.cpuMilli += sign * t.requests.cpuMilli;
    used.memoryMiB += sign * t.requests.memoryMiB;
  }

  /** An independent copy (nodes, labels, taints and placements), to play a failure on without replaying the placement. */
  clone(): Scheduler {
    const copy = new Scheduler();
    const map = new Map<SimNode, SimNode>();
    for (let i = 0; i < this.nodes.length; i++) {
      const n = this.nodes[i];
      const c = simNode(n.name, n.group, n.role, n.az, { ...n.labels }, [...n.taints], n.allocatable);
      map.set(n, c);
      copy.nodes.push(c);
    }
    // Entry by entry with forEach, not destructuring for-of: this runs once per scenario over thousands of
    // templates, mostly before V8 optimizes it, where every for-of step allocates an iterator result and an entry array.
    this.placed.forEach((m, t) => {
      const counts = new Map<SimNode, number>();
      m.forEach((k, n) => counts.set(map.get(n) as SimNode, k));
      copy.placed.set(t, counts);
    });
    this.totals.forEach((n, t) => copy.totals.set(t, n));
    this.ports.forEach((p, n) => copy.ports.set(map.get(n) as SimNode, new Set(p)));
    this.used.forEach((u, n) => copy.used.set(map.get(n) as SimNode, { cpuMilli: u.cpuMilli, memoryMiB: u.memoryMiB }));
    this.onNode.forEach((on, n) => copy.onNode.set(map.get(n) as SimNode, new Map(on)));
    this.byLabel.forEach((v, k) => copy.byLabel.set(k, v.slice()));
    this.byNamespace.forEach((v, k) => copy.byNamespace.set(k, v.slice()));
    copy.matchCache = this.matchCache;
    copy.labelVersion = this.labelVersion;
    copy.touch();
    return copy;
  }

  /** Removes one pod of `t` from `node` (evicted, preempted or gone with its node). */
  unplace(t: PodTemplateModel, node: SimNode): void {
    const m = this.placed.get(t);
    const n = m?.get(node) ?? 0;
    if (!m || n === 0) return;
    if (n === 1) m.delete(node);
    else m.set(node, n - 1);
    this.totals.set(t, (this.totals.get(t) ?? 0) - 1);
    const on = this.onNode.get(node);
    if (on && n === 1) on.delete(t);
    else on?.set(t, n - 1);
    this.usage(node, t, -1);
    this.recount(t, node, -1);
    if (t.hostPorts.length > 0) this.ports.set(node, new Set(this.podsOn(node).flatMap(([x]) => x.hostPorts)));
  }

  /** The templates with pods on `node` and how many. */
  podsOn(node: SimNode): Array<[PodTemplateModel, number]> {
    return [...(this.onNode.get(node) ?? [])];
  }

  /** The same placements by node. */
  private readonly onNode = new Map<SimNode, Map<PodTemplateModel, number>>();

  /** Deletes a Node object: its pods go with it. */
  removeNode(node: SimNode): void {
    for (const [t, n] of this.podsOn(node)) for (let i = 0; i < n; i++) this.unplace(t, node);
    const i = this.nodes.indexOf(node);
    if (i >= 0) this.nodes.splice(i, 1);
    this.ports.delete(node);
    this.used.delete(node);
    this.onNode.delete(node);
    this.touch();
  }

  /** CPU and memory left on a node; undefined when resources are not simulated. */
  free(node: SimNode): Resources | undefined {
    if (!node.allocatable) return undefined;
    const used = this.used.get(node) ?? { cpuMilli: 0, memoryMiB: 0 };
    return { cpuMilli: node.allocatable.cpuMilli - used.cpuMilli, memoryMiB: node.allocatable.memoryMiB - used.memoryMiB };
  }

  /** Bumped when a template is placed for the first time: which templates a selector matches is cached until then. */
  private labelVersion = ++labelVersions;
  /** Shared with copies: a version is never reused, so one never reads what another registered since. */
  private matchCache = new WeakMap<object, { version: number; namespace: string; result: PodTemplateModel[] }>();

  /** Placed templates a selector matches, in the same namespace. */
  private matching(selector: unknown, namespace: string): PodTemplateModel[] {
    if (selector === null || typeof selector !== 'object') return this.matchingNow(selector, namespace);
    const hit = this.matchCache.get(selector);
    if (hit && hit.version === this.labelVersion && hit.namespace === namespace) return hit.result;
    const result = this.matchingNow(selector, namespace);
    this.matchCache.set(selector, { version: this.labelVersion, namespace, result });
    return result;
  }

  private matchingNow(selector: unknown, namespace: string): PodTemplateModel[] {
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

  /** Nodes by topology key and value, rebuilt when nodes or their labels change. */
  private domainIndex: { version: number; byKey: Map<string, Map<string, SimNode[]>> } = { version: -1, byKey: new Map() };

  /** The nodes of one topology domain (an index, not a scan of every node per check). */
  private domainNodes(key: string, value: string): readonly SimNode[] {
    if (this.domainIndex.version !== this.nodeVersion) this.domainIndex = { version: this.nodeVersion, byKey: new Map() };
    let byValue = this.domainIndex.byKey.get(key);
    if (!byValue) {
      byValue = new Map();
      for (const n of this.nodes) {
        const v = n.labels[key];
        if (v === undefined) continue;
        const list = byValue.get(v);
        if (list) list.push(n);
        else byValue.set(v, [n]);
      }
      this.domainIndex.byKey.set(key, byValue);
    }
    return byValue.get(value) ?? [];
  }

  private readonly tolerationsCache = new WeakMap<PodTemplateModel, readonly Toleration[]>();
  /** Whether a spread constraint's selector matches its own pod (1) or not (0). */
  private readonly selfMatch = new WeakMap<object, number>();

  private untolerated(t: PodTemplateModel, node: SimNode): Taint | undefined {
    let tolerations = this.tolerationsCache.get(t);
    if (!tolerations) {
      tolerations = t.kind === 'DaemonSet' ? [...t.tolerations, ...daemonSetTolerations(t.hostNetwork)] : t.tolerations;
      this.tolerationsCache.set(t, tolerations);
    }
    const taints = node.taints;
    for (let i = 0; i < taints.length; i++) {
      const taint = taints[i];
      if (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute') continue;
      let ok = false;
      for (let j = 0; j < tolerations.length && !ok; j++) ok = tolerates(tolerations[j], taint);
      if (!ok) return taint;
    }
    return undefined;
  }

  private affinityMatches(t: PodTemplateModel, node: SimNode): boolean {
    for (const k in t.nodeSelector) if (node.labels[k] !== t.nodeSelector[k]) return false;
    return t.nodeAffinityTerms.length === 0 || t.nodeAffinityTerms.some((term) => term.every((r) => requirementMatches(r, node.labels)));
  }

  /**
   * Whether the scheduler (or the DaemonSet controller) would put a pod of `t` on `node`: the
   * filters of whyNot in the same order, without building the reason. Kept small and apart from
   * the messages: it runs for every node a pod is tried on, tens of thousands of times.
   */
  fits(t: PodTemplateModel, node: SimNode, staticChecked = false, ignoreResources = false): boolean {
    if (!staticChecked && (this.untolerated(t, node) !== undefined || !this.affinityMatches(t, node))) return false;
    if (t.kind === 'DaemonSet' && this.count(t, node) > 0) return false;
    if (!ignoreResources && node.allocatable) {
      // NodeResourcesFit, without allocating.
      const used = this.used.get(node);
      if (node.allocatable.cpuMilli - (used?.cpuMilli ?? 0) < t.requests.cpuMilli || node.allocatable.memoryMiB - (used?.memoryMiB ?? 0) < t.requests.memoryMiB) return false;
    }
    if (t.hostPorts.length > 0 && this.portClash(t, node) !== undefined) return false;
    const ns = namespaceOf(t);
    if (t.antiAffinity.length > 0 && this.antiAffinityClash(t, node, ns) !== undefined) return false;
    const spread = t.spread;
    for (let i = 0; i < spread.length; i++) {
      const c = spread[i];
      if (c.whenUnsatisfiable !== 'DoNotSchedule') continue;
      // PodTopologySpread filter: a node without the key is not eligible for a hard constraint. It
      // filters daemon pods too (the default scheduler places them); their skew never exceeds 1:
      // each pod's node affinity names its one node, the only eligible domain (nodeAffinityPolicy Honor).
      if (node.labels[c.topologyKey] === undefined) return false;
      if (t.kind !== 'DaemonSet' && this.spreadSkew(c, t, node, ns) > c.maxSkew) return false;
    }
    return true;
  }

  /** Why the scheduler (or the DaemonSet controller) would not put a pod of `t` on `node`; undefined: it fits. */
  whyNot(t: PodTemplateModel, node: SimNode, staticChecked = false, ignoreResources = false): string | undefined {
    if (this.fits(t, node, staticChecked, ignoreResources)) return undefined;
    if (!staticChecked) {
      const taint = this.untolerated(t, node);
      if (taint) return `untolerated taint ${taint.key}${taint.value ? `=${taint.value}` : ''}:${taint.effect}`;
      const missing = Object.entries(t.nodeSelector).find(([k, v]) => node.labels[k] !== v);
      if (missing) return `node selector ${missing[0]}=${missing[1]} not on the node`;
      if (!this.affinityMatches(t, node)) return 'required node affinity matches no term';
    }
    if (t.kind === 'DaemonSet' && this.count(t, node) > 0) return 'its daemon pod already runs there';
    if (!ignoreResources && node.allocatable) {
      const used = this.used.get(node);
      const cpu = node.allocatable.cpuMilli - (used?.cpuMilli ?? 0);
      const mem = node.allocatable.memoryMiB - (used?.memoryMiB ?? 0);
      if (cpu < t.requests.cpuMilli) return `insufficient cpu (${cpu}m free, ${t.requests.cpuMilli}m requested)`;
      if (mem < t.requests.memoryMiB) return `insufficient memory (${mem} MiB free, ${t.requests.memoryMiB} MiB requested)`;
    }
    const clash = this.portClash(t, node);
    if (clash) return `host port ${clash} already in use`;
    const ns = namespaceOf(t);
    const antiAffinityKey = this.antiAffinityClash(t, node, ns);
    if (antiAffinityKey !== undefined) return `required pod anti-affinity on ${antiAffinityKey}`;
    for (const c of t.spread) {
      if (c.whenUnsatisfiable !== 'DoNotSchedule') continue;
      if (node.labels[c.topologyKey] === undefined) return `no ${c.topologyKey} label for its DoNotSchedule topology spread`;
      if (t.kind === 'DaemonSet') continue;
      const skew = this.spreadSkew(c, t, node, ns);
      if (skew > c.maxSkew) return `topology spread on ${c.topologyKey}: skew ${skew} > maxSkew ${c.maxSkew}`;
    }
    return undefined;
  }

  /** The first host port of `t` already bound on `node`. */
  private portClash(t: PodTemplateModel, node: SimNode): string | undefined {
    if (t.hostPorts.length === 0) return undefined;
    const ports = this.ports.get(node);
    return t.hostPorts.find((p) => ports?.has(p));
  }

  /** The topology key of the first required anti-affinity term a pod in `node`'s domain matches. */
  private antiAffinityClash(t: PodTemplateModel, node: SimNode, ns: string): string | undefined {
    for (const term of t.antiAffinity) {
      const value = node.labels[term.topologyKey];
      if (value === undefined) continue;
      if (this.countOn(term.selector, ns, this.domainNodes(term.topologyKey, value)) > 0) return term.topologyKey;
    }
    return undefined;
  }

  /** The skew a pod of `t` on `node` (which has the constraint's key) would make for spread constraint `c`. */
  private spreadSkew(c: PodTemplateModel['spread'][number], t: PodTemplateModel, node: SimNode, ns: string): number {
    const { domains } = this.spreadState(c, t, ns);
    // minDomains: with fewer eligible domains than that, the global minimum counts as 0.
    let min = Infinity;
    if (c.minDomains !== undefined && domains.size < c.minDomains) min = 0;
    else domains.forEach((v) => {
      if (v < min) min = v;
    });
    let self = this.selfMatch.get(c);
    if (self === undefined) this.selfMatch.set(c, (self = selectorMatches(c.selector, t.labels) ? 1 : 0));
    return (domains.get(node.labels[c.topologyKey]) ?? 0) + self - min;
  }

  /** The pods per domain of a spread constraint, from the cache while nodes and placed templates are unchanged. */
  private spreadState(c: PodTemplateModel['spread'][number], t: PodTemplateModel, ns: string): SpreadState {
    const cached = this.spreadCache.get(c);
    if (cached && cached.nodeVersion === this.nodeVersion && cached.labelVersion === this.labelVersion) return cached;
    // Domains: the eligible nodes' values (nodeAffinityPolicy Honor by default, nodeTaintsPolicy Ignore by default).
    // Shared by every constraint that sees the same nodes (same key, policies and, where honoured, selectors and tolerations).
    let eligibleKey = shapeKeys.get(c);
    if (eligibleKey === undefined) shapeKeys.set(c, (eligibleKey = JSON.stringify([c.topologyKey, c.nodeAffinityPolicy === 'Honor' ? [t.nodeSelector, t.nodeAffinityTerms] : 0, c.nodeTaintsPolicy === 'Honor' ? [t.kind === 'DaemonSet', t.hostNetwork, t.tolerations] : 0])));
    let eligible = this.eligibleCache.get(eligibleKey);
    if (!eligible || eligible.version !== this.nodeVersion) {
      const nodes = this.nodes.filter(
        (n) => n.labels[c.topologyKey] !== undefined && (c.nodeAffinityPolicy !== 'Honor' || this.affinityMatches(t, n)) && (c.nodeTaintsPolicy !== 'Honor' || this.untolerated(t, n) === undefined),
      );
      eligible = { version: this.nodeVersion, nodes, set: new Set(nodes), keys: [...new Set(nodes.map((n) => n.labels[c.topologyKey]))] };
      this.eligibleCache.set(eligibleKey, eligible);
    }
    const domains = new Map<string, number>();
    for (let i = 0; i < eligible.keys.length; i++) domains.set(eligible.keys[i], 0);
    const inDomain = eligible.set;
    const key = c.topologyKey;
    const matched = this.matching(c.selector, ns);
    for (let i = 0; i < matched.length; i++) {
      const m = matched[i];
      // An inline callback, not a named const: tsx defines `name` on every named closure it creates.
      this.placed.get(m)?.forEach((k, n) => {
        if (inDomain.has(n)) domains.set(n.labels[key], (domains.get(n.labels[key]) ?? 0) + k);
      });
      let counted = this.countedBy.get(m);
      if (!counted) this.countedBy.set(m, (counted = new Set()));
      counted.add(c);
    }
    const state: SpreadState = { nodeVersion: this.nodeVersion, labelVersion: this.labelVersion, key: c.topologyKey, nodes: inDomain, domains };
    this.spreadCache.set(c, state);
    return state;
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

  /** Where the next round-robin search for a node starts. */
  private cursor = 0;

  private readonly shapeCache = new Map<string, { version: number; nodes: SimNode[]; pending: number; reasons: string[] }>();

  /** The scheduling shape of a self-contained workload (selectors matching only itself, no host ports); undefined otherwise. */
  private shapeKey(t: PodTemplateModel): string | undefined {
    if (t.hostPorts.length > 0) return undefined;
    const ns = namespaceOf(t);
    const selectors = [...t.spread.map((c) => c.selector), ...t.antiAffinity.map((a) => a.selector)];
    if (selectors.some((sel) => this.matching(sel, ns).length > 0)) return undefined;
    // The key itself never changes for a template: built once, not on every scheduling round.
    let key = shapeKeysByTemplate.get(t);
    if (key === undefined) shapeKeysByTemplate.set(t, (key = JSON.stringify([
      ns,
      t.replicas,
      t.nodeSelector,
      t.nodeAffinityTerms,
      t.tolerations,
      t.spread.map((c) => [c.topologyKey, c.maxSkew, c.whenUnsatisfiable, c.minDomains, c.nodeAffinityPolicy, c.nodeTaintsPolicy, selectorMatches(c.selector, t.labels)]),
      t.antiAffinity.map((a) => [a.topologyKey, selectorMatches(a.selector, t.labels)]),
    ])));
    return key;
  }

  private placeReplicas(t: PodTemplateModel, replicas: number): { nodes: SimNode[]; pending: number; reasons: string[] } {
    const placed: SimNode[] = [];
    let left = replicas;
    // Templates with the same selectors and tolerations pass on the same nodes.
    const staticKey = staticKeyOf(t);
    let fixed = this.staticCache.get(staticKey);
    if (!fixed || fixed.version !== this.nodeVersion) {
      fixed = { version: this.nodeVersion, nodes: this.nodes.filter((n) => this.untolerated(t, n) === undefined && this.affinityMatches(t, n)) };
      this.staticCache.set(staticKey, fixed);
    }
    while (left > 0) {
      // Scoring: fewest pods of it first (the spreading the scheduler does), then the most free CPU
      // (LeastAllocated, the default strategy), then node order.
      let node: SimNode | undefined;
      let nodeCount = Infinity;
      let nodeFree = -Infinity;
      const all = fixed.nodes;
      if (all[0]?.allocatable !== undefined && (this.placed.get(t)?.size ?? 0) < all.length) {
        // Resources simulated and some node has none of it yet: equally scored nodes are taken in
        // turn (the scheduler picks among ties at random), so a pod costs a few checks, not one per node.
        for (let i = 0; i < all.length && node === undefined; i++) {
          const n = all[(this.cursor + i) % all.length];
          if (this.count(t, n) === 0 && this.fits(t, n, true)) {
            node = n;
            this.cursor = (this.cursor + i + 1) % all.length;
          }
        }
      }
      for (const n of node === undefined ? all : []) {
        const c = this.count(t, n);
        if (c > nodeCount) continue;
        const free = n.allocatable ? n.allocatable.cpuMilli - (this.used.get(n)?.cpuMilli ?? 0) : 0;
        if (c === nodeCount && free <= nodeFree) continue;
        if (!this.fits(t, n, true)) continue;
        node = n;
        nodeCount = c;
        nodeFree = free;
      }
      if (!node) return { nodes: placed, pending: left, reasons: this.nodes.map((n) => `${n.name}: ${this.whyNot(t, n)}`) };
      this.place(t, node);
      placed.push(node);
      left--;
    }
    return { nodes: placed, pending: 0, reasons: [] };
  }
}
