import type { NodeSelectorRequirement, PodTemplateModel, Resources, Toleration } from '../model';
import { cpuMilli, memoryMiB } from './quantity';
import { isObject, num, str, type Json } from './values';

const arr = (v: unknown): Json[] => (Array.isArray(v) ? v.filter(isObject) : []);
const strRecord = (v: unknown): Record<string, string> => (isObject(v) ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)])) : {});

/** One container's requests (module level: tsx names every closure it creates, per call). */
function containerRequests(c: Json): Resources {
  const r = isObject(c.resources) && isObject(c.resources.requests) ? c.resources.requests : {};
  return { cpuMilli: cpuMilli(r.cpu), memoryMiB: memoryMiB(r.memory) };
}

/** Effective pod request: the sum of containers, or the largest init container if that is more. */
export function podRequests(podSpec: Json): Resources {
  const containers = arr(podSpec.containers).map(containerRequests);
  const sum = containers.reduce((a, b) => ({ cpuMilli: a.cpuMilli + b.cpuMilli, memoryMiB: a.memoryMiB + b.memoryMiB }), { cpuMilli: 0, memoryMiB: 0 });
  const init = arr(podSpec.initContainers).map(containerRequests);
  return {
    cpuMilli: Math.max(sum.cpuMilli, ...init.map((r) => r.cpuMilli)),
    memoryMiB: Math.max(sum.memoryMiB, ...init.map((r) => r.memoryMiB)),
  };
}

/**
 * The pod's CPU ceiling: its containers' limits summed when every container has one; undefined
 * when one has none (that container may use what the node has free).
 */
export function podCpuLimit(podSpec: Json): number | undefined {
  const limits = arr(podSpec.containers).map((c) => (isObject(c.resources) && isObject(c.resources.limits) && c.resources.limits.cpu !== undefined ? cpuMilli(c.resources.limits.cpu) : undefined));
  if (limits.length === 0 || limits.some((l) => l === undefined)) return undefined;
  return limits.reduce<number>((a, b) => a + (b ?? 0), 0);
}

function requirements(term: Json): NodeSelectorRequirement[] {
  return arr(term.matchExpressions).map((e) => ({ key: String(e.key), operator: String(e.operator), values: Array.isArray(e.values) ? e.values.map(String) : [] }));
}

/**
 * A pod template with every field in one order, the optional ones present (undefined when unset):
 * the scheduler runs its filters on thousands of them per scenario, and templates built by object
 * spreads or by conditional fields would each get their own hidden class, which makes V8 throw away
 * and recompile the scheduler's optimized code every time a new one shows up.
 */
export function podTemplate(t: PodTemplateModel): PodTemplateModel {
  return {
    id: t.id,
    kind: t.kind,
    replicas: t.replicas,
    labels: t.labels,
    layer: t.layer,
    nodeSelector: t.nodeSelector,
    nodeAffinityTerms: t.nodeAffinityTerms,
    tolerations: t.tolerations,
    spread: t.spread,
    antiAffinity: t.antiAffinity,
    hostNetwork: t.hostNetwork,
    hostPorts: t.hostPorts,
    requests: t.requests,
    priorityClassName: t.priorityClassName,
    provides: t.provides,
  };
}

/** Everything the scheduler reads of a pod template, as the scheduler reads it. */
/** `requests`: the pod's effective requests when the caller has them already (podRequests of the same spec). */
export function podTemplateOf(id: string, kind: PodTemplateModel['kind'], replicas: number, labels: Readonly<Record<string, string>>, podSpec: Json, layer: string, requests: Resources = podRequests(podSpec)): PodTemplateModel {
  const affinity = isObject(podSpec.affinity) ? podSpec.affinity : {};
  const nodeAffinity = isObject(affinity.nodeAffinity) ? affinity.nodeAffinity : {};
  const required = isObject(nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution) ? nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution : {};
  const anti = isObject(affinity.podAntiAffinity) ? affinity.podAntiAffinity : {};
  const hostNetwork = podSpec.hostNetwork === true;
  const containers = arr(podSpec.containers);
  const hostPorts = containers.flatMap((c) =>
    arr(c.ports)
      .map((p) => ({ port: num(p.hostPort) ?? (hostNetwork ? num(p.containerPort) : undefined), protocol: str(p.protocol) ?? 'TCP' }))
      .filter((p): p is { port: number; protocol: string } => p.port !== undefined && p.port > 0)
      .map((p) => `${p.protocol}/${p.port}`),
  );
  return podTemplate({
    id,
    kind,
    replicas,
    labels,
    layer,
    nodeSelector: strRecord(podSpec.nodeSelector),
    // nodeSelectorTerms are ORed; the expressions of one term ANDed.
    nodeAffinityTerms: arr(required.nodeSelectorTerms).map(requirements),
    tolerations: arr(podSpec.tolerations).map((t): Toleration => ({ key: str(t.key), operator: str(t.operator), value: str(t.value), effect: str(t.effect) })),
    spread: arr(podSpec.topologySpreadConstraints).map((c) => ({
      topologyKey: String(c.topologyKey ?? ''),
      maxSkew: num(c.maxSkew) ?? 1,
      whenUnsatisfiable: str(c.whenUnsatisfiable) ?? 'DoNotSchedule',
      selector: isObject(c.labelSelector) ? c.labelSelector : undefined,
      minDomains: num(c.minDomains),
      nodeAffinityPolicy: str(c.nodeAffinityPolicy) ?? 'Honor',
      nodeTaintsPolicy: str(c.nodeTaintsPolicy) ?? 'Ignore',
    })),
    antiAffinity: arr(anti.requiredDuringSchedulingIgnoredDuringExecution).map((t) => ({ topologyKey: String(t.topologyKey ?? ''), selector: isObject(t.labelSelector) ? t.labelSelector : undefined })),
    hostNetwork,
    hostPorts,
    requests,
    priorityClassName: typeof podSpec.priorityClassName === 'string' && podSpec.priorityClassName !== '' ? podSpec.priorityClassName : undefined,
  });
}
