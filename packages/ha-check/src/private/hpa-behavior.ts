import { HaCheckInputError } from '../input-error';
import type { HpaScaleUpModel } from '../model';
import { isObject, num, type Json } from './values';

/**
 * What the API server fills into an autoscaling/v2 HPA whose `behavior.scaleUp` (or one of its
 * fields) is unset (SetDefaults_HorizontalPodAutoscalerBehavior): no stabilization, the larger of
 * doubling and +4 pods, each per 15 s.
 */
export const HPA_SCALE_UP_DEFAULTS: HpaScaleUpModel = {
  stabilizationWindowSeconds: 0,
  selectPolicy: 'Max',
  policies: [
    { type: 'Percent', value: 100, periodSeconds: 15 },
    { type: 'Pods', value: 4, periodSeconds: 15 },
  ],
  source: 'default',
};

/** kube-controller-manager `--horizontal-pod-autoscaler-sync-period` when the kubeadm configuration sets none. */
export const HPA_SYNC_PERIOD_SECONDS = 15;

/** `spec.behavior.scaleUp` as the controller applies it, every unset field defaulted. */
export function scaleUpOf(spec: Json, where: string): HpaScaleUpModel {
  const behavior = isObject(spec.behavior) ? spec.behavior : undefined;
  const up = behavior && isObject(behavior.scaleUp) ? behavior.scaleUp : undefined;
  if (!up) return HPA_SCALE_UP_DEFAULTS;
  const select = up.selectPolicy ?? 'Max';
  if (select !== 'Max' && select !== 'Min' && select !== 'Disabled') throw new HaCheckInputError(`${where}: spec.behavior.scaleUp.selectPolicy: expected Max, Min or Disabled, got ${JSON.stringify(select)}`);
  const raw = Array.isArray(up.policies) ? up.policies : [];
  const policies = raw.map((p, i) => {
    const at = `${where}: spec.behavior.scaleUp.policies[${i}]`;
    const q = isObject(p) ? p : {};
    const value = num(q.value);
    const period = num(q.periodSeconds);
    if (q.type !== 'Pods' && q.type !== 'Percent') throw new HaCheckInputError(`${at}.type: expected Pods or Percent, got ${JSON.stringify(q.type)}`);
    if (value === undefined || !Number.isInteger(value) || value < 1) throw new HaCheckInputError(`${at}.value: expected a whole number above 0, got ${JSON.stringify(q.value)}`);
    if (period === undefined || !Number.isInteger(period) || period < 1 || period > 1800) throw new HaCheckInputError(`${at}.periodSeconds: expected whole seconds from 1 to 1800, got ${JSON.stringify(q.periodSeconds)}`);
    return { type: q.type, value, periodSeconds: period } as const;
  });
  const window = num(up.stabilizationWindowSeconds);
  return {
    stabilizationWindowSeconds: window ?? 0,
    selectPolicy: select,
    policies: policies.length > 0 ? policies : HPA_SCALE_UP_DEFAULTS.policies,
    source: 'behavior',
  };
}

/** One decision of the controller that raised the replica count. */
export interface ScaleUpStep {
  /** Seconds after the first decision that saw the load. */
  readonly atSeconds: number;
  readonly replicas: number;
}

/**
 * How far one HPA decision can grow a CPU-utilisation HPA under a load that wants more than max.
 * A pod uses at most its CPU ceiling (its containers' limits, or the node when one has none), so
 * the utilisation the controller sees is at most ceiling / request: desired = ceil(measured pods ×
 * ceiling / request / target). kube-controller-manager's replica calculator (GetResourceReplicas,
 * groupPods) counts on a scale-up a pod that is not Ready, or whose sample is older than its Ready
 * transition plus one metric window (within --horizontal-pod-autoscaler-cpu-initialization-period,
 * 5 min), or has no sample yet, as using 0: the pods a step adds only raise the next step once they
 * started, became Ready and metrics-server sampled one full window of them.
 */
export interface ScaleUpCapacity {
  /** ceiling / request / target: at most this many pods wanted per measured pod. */
  readonly growthPerStep: number;
  /** From a step's decision until its pods count (pod start + readiness + one metric window). */
  readonly measuredAfterSeconds: number;
}

/**
 * The replica counts a sustained load that wants `max` pods goes through, from `min`, one sync
 * period apart, as the controller limits them (normalizeDesiredReplicasWithBehaviors) and, given
 * `capacity`, as the measured pods can ask for (ScaleUpCapacity): each policy
 * allows, over its period, the replicas at the period's start plus `value` pods (`Pods`) or times
 * 1 + value/100 rounded up (`Percent`); `Max` takes the largest allowance, `Min` the smallest. The
 * period's start is the count now less every scale-up of the last `periodSeconds` (an event exactly
 * one period old no longer counts). Undefined when `Disabled`, or when a pod cannot use more than
 * the target (growthPerStep ≤ 1): it never scales up.
 */
export function scaleUpSteps(min: number, max: number, up: HpaScaleUpModel, syncSeconds: number, capacity?: ScaleUpCapacity): ScaleUpStep[] | undefined {
  if (up.selectPolicy === 'Disabled') return undefined;
  if (capacity && !(capacity.growthPerStep > 1)) return undefined;
  const events: Array<{ at: number; change: number }> = [];
  const steps: ScaleUpStep[] = [];
  let replicas = min;
  for (let t = 0; replicas < max && t <= 86_400; t += syncSeconds) {
    // Pods counted by this decision: the minimum and every step whose pods have been measured.
    const measured = capacity ? Math.max(min, ...steps.filter((s) => s.atSeconds + capacity.measuredAfterSeconds <= t).map((s) => s.replicas)) : max;
    const wanted = capacity ? Math.ceil(measured * capacity.growthPerStep - 1e-9) : max;
    const limits = up.policies.map((p) => {
      const start = replicas - events.filter((e) => e.at > t - p.periodSeconds).reduce((s, e) => s + e.change, 0);
      return p.type === 'Pods' ? start + p.value : Math.ceil(start * (1 + p.value / 100));
    });
    const limit = up.selectPolicy === 'Min' ? Math.min(...limits) : Math.max(...limits);
    const next = Math.min(max, limit, wanted);
    if (next > replicas) {
      events.push({ at: t, change: next - replicas });
      steps.push({ atSeconds: t, replicas: next });
      replicas = next;
    }
  }
  return steps;
}
