import { CONTROL_PLANE_LABEL, CONTROL_PLANE_TOLERATION } from '@platform/platform-config';

/**
 * Scheduling fragments every add-on shares, as plain Kubernetes JSON so they fit Helm values,
 * raw objects and cdk8s-plus escape hatches alike.
 */
export const ZONE_KEY = 'topology.kubernetes.io/zone';
export const HOSTNAME_KEY = 'kubernetes.io/hostname';
export { CONTROL_PLANE_LABEL, UNINITIALIZED_TOLERATION } from '@platform/platform-config';

export interface Toleration {
  readonly key?: string;
  readonly operator?: 'Exists' | 'Equal';
  readonly value?: string;
  readonly effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
  readonly tolerationSeconds?: number;
}

/** The cloud controller, EBS CSI controller and autoscaler use the control-plane instance role. */
export const CONTROL_PLANE_NODE_SELECTOR: Readonly<Record<string, string>> = { [CONTROL_PLANE_LABEL]: '' };
export const CONTROL_PLANE_TOLERATIONS: readonly Toleration[] = [CONTROL_PLANE_TOLERATION];

/** The not-ready/unreachable toleration every add-on and workload uses by default: platform-config's. */
export { FAST_EVICTION_SECONDS } from '@platform/platform-config';

/**
 * Pods leave a dead node after `seconds` instead of the default 300 s: with a whole zone gone,
 * this bounds how long its replicas count as running.
 */
export function fastEvictionTolerations(seconds: number): Toleration[] {
  return ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable'].map((key) => ({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds }));
}

/**
 * Zone spread with maxSkew 1 that still scales past the zone count (unlike a one-per-zone
 * anti-affinity). `nodeTaintsPolicy: Honor` drops tainted (unreachable) nodes from the
 * count, so a dead zone does not block rescheduling into the surviving ones.
 */
export function zoneSpread(matchLabels: Readonly<Record<string, string>>, whenUnsatisfiable: 'DoNotSchedule' | 'ScheduleAnyway' = 'DoNotSchedule') {
  return [
    { maxSkew: 1, topologyKey: ZONE_KEY, whenUnsatisfiable, nodeTaintsPolicy: 'Honor', labelSelector: { matchLabels: { ...matchLabels } } },
    { maxSkew: 1, topologyKey: HOSTNAME_KEY, whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { ...matchLabels } } },
  ];
}

/** Chart values often take the spread without a selector and add their own pod labels. */
export function zoneSpreadWithoutSelector(whenUnsatisfiable: 'DoNotSchedule' | 'ScheduleAnyway' = 'DoNotSchedule') {
  return zoneSpread({}, whenUnsatisfiable).map(({ labelSelector: _unused, ...rest }) => rest);
}
