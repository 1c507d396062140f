import { CONTROL_PLANE_LABEL, CONTROL_PLANE_TOLERATION, type Toleration } from '@platform/core-addons';

/**
 * Scheduling fragments every add-on shares, as plain Kubernetes JSON so they fit Helm values,
 * raw objects and cdk8s-plus escape hatches alike.
 */
export const ZONE_KEY = 'topology.kubernetes.io/zone';
export const HOSTNAME_KEY = 'kubernetes.io/hostname';
export { CONTROL_PLANE_LABEL, FAST_EVICTION_SECONDS, fastEvictionTolerations, UNINITIALIZED_TOLERATION, type Toleration } from '@platform/core-addons';

/** Where the controllers that run on the control plane go (the cloud controller, EBS CSI controller, autoscaler). */
export const CONTROL_PLANE_NODE_SELECTOR: Readonly<Record<string, string>> = { [CONTROL_PLANE_LABEL]: '' };
export const CONTROL_PLANE_TOLERATIONS: readonly Toleration[] = [CONTROL_PLANE_TOLERATION];

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
