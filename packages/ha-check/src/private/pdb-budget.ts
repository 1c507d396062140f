import type { PdbModel } from '../model';

/**
 * An IntOrString bound scaled against the expected pod count as the disruption controller does
 * (`getExpectedPodCount`): a percentage is rounded up for both `maxUnavailable` and
 * `minAvailable` (`GetScaledValueFromIntOrPercent(..., roundUp=true)`).
 */
function scaled(value: string | number, expected: number): number {
  if (typeof value === 'number') return value;
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(value.trim());
  return pct ? Math.ceil((Number(pct[1]) * expected) / 100) : Number(value);
}

/** Pods that must stay healthy (`desiredHealthy`); the controller floors it at 0. */
export function desiredHealthy(pdb: PdbModel, expected: number): number {
  if (pdb.maxUnavailable !== undefined) return Math.max(0, expected - scaled(pdb.maxUnavailable, expected));
  if (pdb.minAvailable !== undefined) return scaled(pdb.minAvailable, expected);
  return 0;
}

/** `status.disruptionsAllowed` with `healthy` pods of `expected` (the workload's scale). */
export function disruptionsAllowed(pdb: PdbModel, expected: number, healthy: number): number {
  return Math.max(0, healthy - desiredHealthy(pdb, expected));
}
