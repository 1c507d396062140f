/**
 * The numbers of the HA workload pattern, checked in one place for every workload that uses
 * it: HaWorkload (our own Deployments) and chart add-ons that set the same values.
 */
export interface HaScaling {
  /** Availability Zones the cluster spans. */
  readonly zones: number;
  /** Replicas at least (the HPA minimum). */
  readonly minReplicas: number;
  readonly maxReplicas: number;
  /** Seconds before pods leave a not-ready/unreachable node. */
  readonly tolerationSeconds: number;
  /** HPA target CPU utilisation, percent. */
  readonly targetCpuPercent: number;
}

/** A wrong value: the prop, its value and what is expected (the shape of AddOnValidationError). */
export interface HaScalingProblem {
  readonly prop: keyof HaScaling | 'availabilityZones';
  readonly value: unknown;
  readonly expected: string;
}

/** The first problem of `s`, or undefined when it follows the pattern. */
export function haScalingProblem(s: HaScaling): HaScalingProblem | undefined {
  const whole = (n: number) => Number.isInteger(n);
  if (s.zones < 1) return { prop: 'availabilityZones', value: [], expected: 'expected at least one zone' };
  if (!whole(s.minReplicas) || s.minReplicas < s.zones) return { prop: 'minReplicas', value: s.minReplicas, expected: `expected a whole number ≥ ${s.zones} (one per Availability Zone)` };
  if (!whole(s.maxReplicas) || s.maxReplicas < s.minReplicas) return { prop: 'maxReplicas', value: s.maxReplicas, expected: `expected a whole number ≥ minReplicas (${s.minReplicas})` };
  if (!whole(s.tolerationSeconds) || s.tolerationSeconds < 1 || s.tolerationSeconds > 300) return { prop: 'tolerationSeconds', value: s.tolerationSeconds, expected: 'expected 1 to 300 seconds' };
  if (!whole(s.targetCpuPercent) || s.targetCpuPercent < 10 || s.targetCpuPercent > 95) return { prop: 'targetCpuPercent', value: s.targetCpuPercent, expected: 'expected 10 to 95' };
  return undefined;
}

/**
 * Pods one zone holds at most when `replicas` are spread over `zones` with maxSkew 1: what a
 * PodDisruptionBudget must let go at once so a whole zone can be drained (node upgrades, an
 * AZ evacuation) without the budget blocking it.
 */
export function podsPerZone(replicas: number, zones: number): number {
  return Math.ceil(replicas / zones);
}
