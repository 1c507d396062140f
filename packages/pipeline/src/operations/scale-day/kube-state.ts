import type { ClusterSample } from './samples';

/**
 * Reads one sample from the API's JSON (`kubectl get ... -o json`), as the objects are documented:
 * HorizontalPodAutoscaler autoscaling/v2 `status.currentReplicas` / `desiredReplicas`, Deployment
 * `status.readyReplicas` (absent when 0), Pod `status.phase`, Node `Ready` condition and
 * `topology.kubernetes.io/zone` label, control-plane nodes by their `node-role.kubernetes.io/control-plane` label.
 */

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const items = (list: unknown): Json[] => (Array.isArray(obj(list).items) ? (obj(list).items as unknown[]).map(obj) : []);
const int = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

export const ZONE_LABEL = 'topology.kubernetes.io/zone';
const CONTROL_PLANE_LABEL = 'node-role.kubernetes.io/control-plane';

export function readyWorkersPerAz(nodes: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of items(nodes)) {
    const labels = obj(obj(n.metadata).labels);
    if (CONTROL_PLANE_LABEL in labels) continue;
    const ready = (Array.isArray(obj(n.status).conditions) ? (obj(n.status).conditions as unknown[]).map(obj) : []).some((c) => c.type === 'Ready' && c.status === 'True');
    // A node the cloud controller has not initialised yet has no zone: not schedulable for zonal spreads either.
    const zone = typeof labels[ZONE_LABEL] === 'string' ? (labels[ZONE_LABEL] as string) : undefined;
    if (ready && zone) out[zone] = (out[zone] ?? 0) + 1;
  }
  return out;
}

export function pendingPods(pods: unknown): number {
  return items(pods).filter((p) => obj(p.status).phase === 'Pending').length;
}

/** The Deployment's `spec.selector.matchLabels` as a kubectl `-l` selector (the app's pods, whatever their names). */
export function selectorOf(deployment: unknown): string {
  const labels = obj(obj(obj(obj(deployment).spec).selector).matchLabels);
  const pairs = Object.entries(labels).filter(([, v]) => typeof v === 'string').map(([k, v]) => `${k}=${v as string}`);
  if (pairs.length === 0) throw new Error('the Deployment has no spec.selector.matchLabels: cannot tell its pods from others');
  return pairs.sort().join(',');
}

export function sampleFrom(t: number, hpa: unknown, deployment: unknown, appPods: unknown, pods: unknown, nodes: unknown): ClusterSample {
  const status = obj(obj(hpa).status);
  return {
    t,
    replicas: int(status.currentReplicas),
    desiredReplicas: int(status.desiredReplicas),
    readyReplicas: int(obj(obj(deployment).status).readyReplicas),
    pendingPods: pendingPods(pods),
    appPendingPods: pendingPods(appPods),
    nodesPerAz: readyWorkersPerAz(nodes),
  };
}
