import type { ClusterDefinition, ClusterNames } from '@platform/platform-config';

/** One worker ASG and the size (min = desired) a step sets it to. */
export interface AsgTarget {
  readonly asg: string;
  readonly pool: string;
  readonly availabilityZone: string;
  readonly size: number;
}

export interface CapacityPlan {
  readonly targets: readonly AsgTarget[];
  /** Pools that are not carried over, said out loud in the journal. */
  readonly notes: readonly string[];
}

/**
 * Production capacity on the standby. Mapping: each standby pool takes the per-AZ minimum
 * of the primary's pool with the same name (what the primary is sized to run at rest; the
 * autoscaler adds nodes from there), never less than its own minimum. The primary's live
 * desired counts are not used: in a regional outage its API cannot be asked. Primary pools
 * without a same-named standby pool are reported, not guessed.
 */
export function promotionCapacity(primary: ClusterDefinition, standby: ClusterDefinition, standbyNames: ClusterNames): CapacityPlan {
  const notes: string[] = [];
  const targets = standby.workerPools.flatMap((pool, i) => {
    const match = primary.workerPools.find((p) => p.name === pool.name);
    if (!match) notes.push(`standby pool ${pool.name} has no pool of that name in ${primary.name}; kept at its minimum ${pool.minPerAz}/AZ`);
    const size = Math.max(match?.minPerAz ?? pool.minPerAz, pool.minPerAz);
    if (size > pool.maxPerAz) {
      throw new Error(
        `clusters[${standby.name}].workerPools[${i}].maxPerAz: got ${pool.maxPerAz}; expected at least ${size} (${primary.name} pool ${pool.name} runs ${size} per AZ)`,
      );
    }
    return standby.availabilityZones.map((az) => ({ asg: standbyNames.workerAsg(pool, az), pool: pool.name, availabilityZone: az, size }));
  });
  for (const pool of primary.workerPools.filter((p) => !standby.workerPools.some((s) => s.name === p.name))) {
    notes.push(`${primary.name} pool ${pool.name} (${pool.minPerAz}/AZ minimum) has no counterpart in ${standby.name}; its workloads must fit the other pools`);
  }
  return { targets, notes };
}

/** The standby back at rest: every pool at its own per-AZ minimum. */
export function pilotLightCapacity(standby: ClusterDefinition, standbyNames: ClusterNames): CapacityPlan {
  const targets = standby.workerPools.flatMap((pool) =>
    standby.availabilityZones.map((az) => ({ asg: standbyNames.workerAsg(pool, az), pool: pool.name, availabilityZone: az, size: pool.minPerAz })),
  );
  return { targets, notes: [] };
}

/** Ready workers each zone needs once `plan` is reached. */
export function workersPerZone(plan: CapacityPlan): Map<string, number> {
  const perZone = new Map<string, number>();
  for (const t of plan.targets) perZone.set(t.availabilityZone, (perZone.get(t.availabilityZone) ?? 0) + t.size);
  return perZone;
}
