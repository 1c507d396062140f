/**
 * Taints and tolerations the first-boot add-ons and every later add-on share, as plain
 * Kubernetes JSON so they fit Helm values, raw objects and cdk8s-plus escape hatches alike.
 */
export interface Toleration {
  readonly key?: string;
  readonly operator?: 'Exists' | 'Equal';
  readonly value?: string;
  readonly effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
  readonly tolerationSeconds?: number;
}

export const CONTROL_PLANE_LABEL = 'node-role.kubernetes.io/control-plane';
/** Node lifecycle taint while the kubelet reports NotReady (before the CNI writes its config). */
export const NOT_READY_TAINT_KEY = 'node.kubernetes.io/not-ready';
export const UNREACHABLE_TAINT_KEY = 'node.kubernetes.io/unreachable';
/** Kubelet with an external cloud provider registers with it; the cloud controller removes it. */
export const UNINITIALIZED_TAINT_KEY = 'node.cloudprovider.kubernetes.io/uninitialized';

/** Lets a pod onto control-plane nodes (their NoSchedule taint). */
export const CONTROL_PLANE_TOLERATION: Toleration = { key: CONTROL_PLANE_LABEL, operator: 'Exists', effect: 'NoSchedule' };

/** Lets a pod onto a node the cloud controller has not initialised yet. */
export const UNINITIALIZED_TOLERATION: Toleration = { key: UNINITIALIZED_TAINT_KEY, operator: 'Exists', effect: 'NoSchedule' };

/**
 * Lets a pod be scheduled onto a NotReady node (NoSchedule only: it still leaves a node that
 * stays not-ready, through the NoExecute toleration of fastEvictionTolerations).
 */
export const NOT_READY_SCHEDULE_TOLERATION: Toleration = { key: NOT_READY_TAINT_KEY, operator: 'Exists', effect: 'NoSchedule' };

/**
 * What a first-boot add-on needs on the first control-plane node right after `kubeadm init`:
 * control plane, not yet initialised by the cloud controller, NotReady until the CNI runs.
 */
export const FIRST_NODE_TOLERATIONS: readonly Toleration[] = [CONTROL_PLANE_TOLERATION, UNINITIALIZED_TOLERATION, NOT_READY_SCHEDULE_TOLERATION];

/**
 * Seconds a pod stays on a not-ready or unreachable node (Kubernetes' default is 300): the
 * toleration every add-on and workload uses by default. With a whole zone gone, this bounds
 * how long its replicas count as running.
 */
export const FAST_EVICTION_SECONDS = 30;

/** Pods leave a not-ready or unreachable node after `seconds` instead of the default 300 s. */
export function fastEvictionTolerations(seconds: number = FAST_EVICTION_SECONDS): Toleration[] {
  return [NOT_READY_TAINT_KEY, UNREACHABLE_TAINT_KEY].map((key) => ({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds }));
}
