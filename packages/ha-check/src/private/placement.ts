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
export function fits(group: NodeGroupModel, nodeSelector: readonly NodeSelectorRequirement[], tolerations: readonly Toleration[], terms?: ReadonlyArray<readonly NodeSelectorRequirement[]>): boolean {
  if (!nodeSelector.every((r) => requirementMatches(r, group.labels))) return false;
  // Required nodeSelectorTerms are ORed: one matching term is enough.
  if (terms && terms.length > 0 && !terms.some((term) => term.every((r) => requirementMatches(r, group.labels)))) return false;
  return group.taints.every((t) => t.effect === 'PreferNoSchedule' || tolerates(tolerations, t));
}

export function eligibleGroups(w: WorkloadModel, groups: readonly NodeGroupModel[]): NodeGroupModel[] {
  return groups.filter((g) => fits(g, w.nodeSelector, w.tolerations, w.nodeSelectorTerms));
}

/** Per-node room left for ordinary pods once the DaemonSets that land on the group take theirs. */
export function roomPerNode(group: NodeGroupModel, daemonSets: readonly DaemonSetModel[]): Resources {
  const ds = daemonSets.filter((d) => fits(group, d.nodeSelector, d.tolerations));
  return {
    cpuMilli: Math.max(0, group.allocatablePerNode.cpuMilli - ds.reduce((s, d) => s + d.requests.cpuMilli, 0)),
    memoryMiB: Math.max(0, group.allocatablePerNode.memoryMiB - ds.reduce((s, d) => s + d.requests.memoryMiB, 0)),
  };
}
