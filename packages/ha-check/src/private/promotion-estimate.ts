import type { DeploymentModel, NodeGroupModel } from '../model';
import type { PromotionPath } from '../objectives';

/** The node-template label that names a node's worker pool (platform-config worker pools). */
const POOL_LABEL = 'node.platform.io/pool';

const poolOf = (g: NodeGroupModel): string => g.labels[POOL_LABEL] ?? g.name;
const workers = (groups: readonly NodeGroupModel[]): NodeGroupModel[] => groups.filter((g) => g.role === 'worker');

export interface PromotionScaleUp {
  /** Worker nodes the promotion launches on the standby. */
  readonly nodesToLaunch: number;
  /** How long the standby's ASGs give a new node to bootstrap (`health_check_grace_period`), the longest of the groups that grow. */
  readonly bootstrapSeconds: number;
  /** Standby groups whose maximum is below the size the promotion sets. */
  readonly short: ReadonlyArray<{ readonly asg: string; readonly target: number; readonly maxSize: number }>;
  /** One line per pool: `general: 1 → 2 per ASG`. */
  readonly pools: readonly string[];
}

/**
 * What the promotion does to the standby's workers, as packages/failover's capacity plan does it:
 * each standby worker ASG goes to the primary's same-pool ASG minimum (what the primary runs at
 * rest), never below its own minimum. Pools are matched by their node-template pool label.
 */
export function promotionScaleUp(model: DeploymentModel): PromotionScaleUp | undefined {
  if (!model.standby) return undefined;
  const primaryMin = new Map<string, number>();
  for (const g of workers(model.infra.nodeGroups)) primaryMin.set(poolOf(g), Math.max(primaryMin.get(poolOf(g)) ?? 0, g.minSize));
  let nodesToLaunch = 0;
  let bootstrapSeconds = 0;
  const short: Array<{ asg: string; target: number; maxSize: number }> = [];
  const pools = new Map<string, string>();
  for (const g of workers(model.standby.nodeGroups)) {
    const target = Math.max(primaryMin.get(poolOf(g)) ?? g.minSize, g.minSize);
    const add = Math.max(0, target - g.desired);
    nodesToLaunch += add;
    if (add > 0) bootstrapSeconds = Math.max(bootstrapSeconds, g.bootstrapGraceSeconds);
    if (target > g.maxSize) short.push({ asg: g.name, target, maxSize: g.maxSize });
    pools.set(poolOf(g), `${poolOf(g)}: ${g.desired} → ${target} per ASG`);
  }
  return { nodesToLaunch, bootstrapSeconds, short, pools: [...pools.values()].sort() };
}

/**
 * The promotion estimate with its configuration-dependent phases taken from the inputs, when it
 * comes phase by phase (PROMOTION_PHASE_SECONDS, the runbook's upper bounds): `scale-workers` is
 * the standby ASGs' bootstrap budget when nodes must be launched (0 when the standby already runs
 * the primary's minimum), `nodes-ready` 0 when no node joins, `restore-database` 0 when no
 * database is archived. Without the standby's Terraform, the runbook's bounds stand.
 */
export function derivePromotion(promotion: PromotionPath | undefined, model: DeploymentModel, scaleUp: PromotionScaleUp | undefined): PromotionPath | undefined {
  const phases = promotion?.phases;
  if (!promotion || !phases || !('scale-workers' in phases)) return promotion;
  const derived: Record<string, number> = { ...phases };
  const basis: string[] = [];
  if (scaleUp) {
    derived['scale-workers'] = scaleUp.nodesToLaunch > 0 ? scaleUp.bootstrapSeconds : 0;
    if ('nodes-ready' in phases && scaleUp.nodesToLaunch === 0) derived['nodes-ready'] = 0;
    basis.push(
      scaleUp.nodesToLaunch > 0
        ? `scale-workers: ${scaleUp.nodesToLaunch} worker(s) to launch on the standby (${scaleUp.pools.join(', ')}) within the ASGs' ${scaleUp.bootstrapSeconds} s bootstrap budget (health_check_grace_period)`
        : `scale-workers, nodes-ready: 0 s, the standby already runs the primary's minimum (${scaleUp.pools.join(', ')})`,
    );
  } else {
    basis.push("scale-workers, nodes-ready: the runbook's upper bounds (the standby's Terraform was not loaded)");
  }
  if ('restore-database' in phases && model.manifests.databaseArchives.length === 0) {
    derived['restore-database'] = 0;
    basis.push('restore-database: 0 s, no database archives WAL');
  }
  return { ...promotion, estimatedSeconds: Object.values(derived).reduce((s, v) => s + v, 0), phases: derived, basis };
}
