import type { DaemonSetModel, NodeGroupModel, NodeSelectorRequirement, Resources, Taint, Toleration, WorkloadModel } from '../model';
import { requirementMatches } from './selectors';

/** Does a toleration list tolerate this taint (Kubernetes toleration semantics)? */
export function tolerates(tolerations: readonly Toleration[], taint: Taint): boolean {
  return tolerations.some((t) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if (t.operator === 'Exists') return t.key === undefined || t.key === '' || t.key === taint.key;
    return t.key === taint.key && (t.value ?? '') === taint.value;
  });
}

/** Scheduling filters a node group must pass for a pod: node selector / required affinity and taints. */
export function fits(group: NodeGroupModel, nodeSelector: readonly NodeSelectorRequirement[], tolerations: readonly Toleration[]): boolean {
  if (!nodeSelector.every((r) => requirementMatches(r, group.labels))) return false;
  return group.taints.every((t) => t.effect === 'PreferNoSchedule' || tolerates(tolerations, t));
}

export function eligibleGroups(w: WorkloadModel, groups: readonly NodeGroupModel[]): NodeGroupModel[] {
  return groups.filter((g) => fits(g, w.nodeSelector, w.tolerations));
}

/** Per-node room left for ordinary pods once the DaemonSets that land on the group take theirs. */
export function roomPerNode(group: NodeGroupModel, daemonSets: readonly DaemonSetModel[]): Resources {
  const ds = daemonSets.filter((d) => fits(group, d.nodeSelector, d.tolerations));
  return {
    cpuMilli: Math.max(0, group.allocatablePerNode.cpuMilli - ds.reduce((s, d) => s + d.requests.cpuMilli, 0)),
    memoryMiB: Math.max(0, group.allocatablePerNode.memoryMiB - ds.reduce((s, d) => s + d.requests.memoryMiB, 0)),
  };
}

export interface PlacementResult {
  readonly requested: Resources;
  readonly allocatable: Resources;
  readonly unplaced: number;
}

/**
 * Aggregate fit of every pod onto the nodes given (count per group): most constrained workloads
 * first, a pod only where a single node can hold it. Aggregate, not bin packing: it can miss
 * fragmentation, never invents capacity that is not there.
 */
export function place(
  demand: ReadonlyArray<{ readonly pods: number; readonly per: Resources; readonly groups: readonly NodeGroupModel[] }>,
  nodes: ReadonlyMap<NodeGroupModel, number>,
  daemonSets: readonly DaemonSetModel[],
): PlacementResult {
  const room = new Map<NodeGroupModel, { cpu: number; mem: number; node: Resources }>();
  let allocCpu = 0;
  let allocMem = 0;
  for (const [g, count] of nodes) {
    const node = roomPerNode(g, daemonSets);
    room.set(g, { cpu: node.cpuMilli * count, mem: node.memoryMiB * count, node });
    allocCpu += node.cpuMilli * count;
    allocMem += node.memoryMiB * count;
  }
  let reqCpu = 0;
  let reqMem = 0;
  let unplaced = 0;
  const ordered = [...demand].sort((a, b) => a.groups.length - b.groups.length);
  // One reused candidate list and a hoisted comparator: this loop runs for every workload in every scenario.
  const candidates: Array<{ cpu: number; mem: number; node: Resources }> = [];
  const byRoomLeft = (a: { cpu: number }, b: { cpu: number }): number => b.cpu - a.cpu;
  for (const d of ordered) {
    reqCpu += d.pods * d.per.cpuMilli;
    reqMem += d.pods * d.per.memoryMiB;
    let left = d.pods;
    candidates.length = 0;
    for (const g of d.groups) {
      const r = room.get(g);
      if (r !== undefined && r.node.cpuMilli >= d.per.cpuMilli && r.node.memoryMiB >= d.per.memoryMiB) candidates.push(r);
    }
    candidates.sort(byRoomLeft);
    for (const r of candidates) {
      if (left === 0) break;
      const byCpu = d.per.cpuMilli > 0 ? Math.floor(r.cpu / d.per.cpuMilli) : left;
      const byMem = d.per.memoryMiB > 0 ? Math.floor(r.mem / d.per.memoryMiB) : left;
      const n = Math.min(left, byCpu, byMem);
      r.cpu -= n * d.per.cpuMilli;
      r.mem -= n * d.per.memoryMiB;
      left -= n;
    }
    unplaced += left;
  }
  return { requested: { cpuMilli: reqCpu, memoryMiB: reqMem }, allocatable: { cpuMilli: allocCpu, memoryMiB: allocMem }, unplaced };
}
