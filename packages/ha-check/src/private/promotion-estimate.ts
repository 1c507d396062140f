import type { DeploymentModel, NodeGroupModel } from '../model';
import type { PromotionPath, StandbyDatabase } from '../objectives';
import { DATABASE_RECOVERY_DEFAULTS, type DatabaseRecoveryTerms } from '../recovery-times';

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

const MIB = 1024 * 1024;
const mib = (bytes: number): string => (bytes >= 1024 * MIB ? `${(bytes / 1024 / MIB).toFixed(1)} GiB` : `${Math.round(bytes / MIB)} MiB`);

/**
 * Seconds the standby's database takes over, term by term. A replica cluster: the switch plus
 * replaying what reached the replica bucket but is not replayed yet, at most one archive
 * timeout of WAL (whole segments). Otherwise a restore: the newest base backup downloaded, then
 * the WAL written since it (up to one base-backup interval) replayed, then the cluster starting.
 */
export function databaseTakeover(db: StandbyDatabase, archiveTimeoutSeconds: number, terms: DatabaseRecoveryTerms = DATABASE_RECOVERY_DEFAULTS): { phase: 'promote-database' | 'restore-database'; seconds: number; basis: string } {
  const rate = `${mib(terms.walBytesPerSecond)}/s`;
  if (db.replica) {
    const pending = terms.walBytesPerSecond * archiveTimeoutSeconds;
    const segments = Math.max(1, Math.ceil(pending / terms.walSegmentBytes));
    const replay = Math.ceil((segments * terms.walSegmentBytes) / terms.walReplayBytesPerSecond);
    const seconds = terms.replicaSwitchSeconds + replay;
    return {
      phase: 'promote-database',
      seconds,
      basis: `promote-database ${seconds} s = replica switch ${terms.replicaSwitchSeconds} + replay of the last ${segments} WAL segment(s) (${archiveTimeoutSeconds} s archive_timeout × ${rate} WAL = ${mib(pending)}, whole ${mib(terms.walSegmentBytes)} segments) at ${mib(terms.walReplayBytesPerSecond)}/s ${replay} (${db.id} is a replica cluster)`,
    };
  }
  const size = db.storageBytes ?? 0;
  const age = db.baseBackupIntervalSeconds ?? terms.baseBackupIntervalSeconds;
  const download = Math.ceil(size / terms.baseBackupDownloadBytesPerSecond);
  const wal = age * terms.walBytesPerSecond;
  const replay = Math.ceil(wal / terms.walReplayBytesPerSecond);
  const seconds = download + replay + terms.replicaSwitchSeconds;
  return {
    phase: 'restore-database',
    seconds,
    basis:
      `restore-database ${seconds} s = base backup download ${mib(size)}${db.storageBytes === undefined ? ' (storage size unknown)' : ' (spec.storage.size)'} at ${mib(terms.baseBackupDownloadBytesPerSecond)}/s ${download}` +
      ` + WAL replay since the base backup (${age} s ${db.baseBackupIntervalSeconds === undefined ? 'assumed, no ScheduledBackup found' : 'between ScheduledBackups'} × ${rate} = ${mib(wal)}) at ${mib(terms.walReplayBytesPerSecond)}/s ${replay}` +
      ` + start ${terms.replicaSwitchSeconds} (${db.id} is no replica cluster: restored from the replicated archive)`,
  };
}

/** How each runbook-bound phase is justified when nothing in the inputs refines it. */
const RUNBOOK_BASIS: Readonly<Record<string, string>> = {
  decision: 'a person confirms the regional outage and starts the workflow',
  preflight: "Route 53 reads, the replica's WAL listing, the promotion marker and the fence",
  'verify-app': 'app start: the apps rolled out (orders-api from 0), HTTP through the standby\'s NLB, one order written and read back',
};

/**
 * The promotion estimate with its configuration-dependent phases taken from the inputs, when it
 * comes phase by phase (PROMOTION_PHASE_SECONDS, the runbook's upper bounds), every phase with
 * its basis: `scale-workers` is the standby ASGs' bootstrap budget when nodes must be launched
 * (0 when the standby already runs the primary's minimum), `nodes-ready` 0 when no node joins;
 * the database phase from the standby's database (databaseTakeover), 0 when no database is
 * archived; `open-standby` the standby's Route 53 check turning healthy (interval × threshold).
 * Without the standby's Terraform, the runbook's bounds stand.
 */
export function derivePromotion(
  promotion: PromotionPath | undefined,
  model: DeploymentModel,
  scaleUp: PromotionScaleUp | undefined,
  standbyCheckSeconds?: { readonly intervalSeconds: number; readonly failureThreshold: number },
  terms: DatabaseRecoveryTerms = DATABASE_RECOVERY_DEFAULTS,
): PromotionPath | undefined {
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
  const dbPhase = 'promote-database' in phases ? 'promote-database' : 'restore-database' in phases ? 'restore-database' : undefined;
  if (dbPhase && model.manifests.databaseArchives.length === 0) {
    derived[dbPhase] = 0;
    basis.push(`${dbPhase}: 0 s, no database archives WAL`);
  } else if (dbPhase && promotion.standbyDatabase) {
    const archived = model.manifests.databaseArchives.map((d) => d.archiveTimeoutMinutes * 60);
    const takeover = databaseTakeover(promotion.standbyDatabase, archived.length > 0 ? Math.max(...archived) : terms.archiveTimeoutSeconds, terms);
    delete derived[dbPhase];
    derived[takeover.phase] = takeover.seconds;
    basis.push(takeover.basis);
  } else if (dbPhase) {
    basis.push(`${dbPhase}: the runbook's upper bound (the standby's database was not found in clusters/)`);
  }
  if ('open-standby' in phases && standbyCheckSeconds) {
    derived['open-standby'] = standbyCheckSeconds.intervalSeconds * standbyCheckSeconds.failureThreshold;
    basis.push(`open-standby ${derived['open-standby']} s: the standby's Route 53 check must pass ${standbyCheckSeconds.failureThreshold} × ${standbyCheckSeconds.intervalSeconds} s once the promotion points it at the app`);
  }
  for (const [phase, why] of Object.entries(RUNBOOK_BASIS)) if (phase in derived) basis.push(`${phase} ${derived[phase]} s: ${why} (runbook upper bound)`);
  // Keep the tool's order of steps (the phases' order), with the database phase where it was.
  const ordered = Object.fromEntries(Object.keys(phases).map((k) => (k === dbPhase ? Object.keys(derived).find((d) => d.endsWith('-database'))! : k)).map((k) => [k, derived[k]!]));
  return { ...promotion, estimatedSeconds: Object.values(ordered).reduce((s, v) => s + v, 0), phases: ordered, basis };
}
