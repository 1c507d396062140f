import type { DeploymentModel, NodeGroupModel } from '../model';
import type { FailoverDecisionTerms, PromotionPath, StandbyDatabase } from '../objectives';
import { DATABASE_RECOVERY_DEFAULTS, FAILOVER_TOOL_TERMS, type DatabaseRecoveryTerms } from '../recovery-times';
import type { PendingPods } from '../report-types';
import { PlacementBaseline } from './node-simulation';

/** The node-template label that names a node's worker pool (platform-config worker pools). */
const POOL_LABEL = 'node.platform.io/pool';

const poolOf = (g: NodeGroupModel): string => g.labels[POOL_LABEL] ?? g.name;
const workers = (groups: readonly NodeGroupModel[]): NodeGroupModel[] => groups.filter((g) => g.role === 'worker');

export interface PromotionScaleUp {
  /** Worker nodes the promotion launches on the standby. */
  readonly nodesToLaunch: number;
  /** Standby ASGs the promotion resizes (one update call each). */
  readonly asgsToGrow: number;
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
  let asgsToGrow = 0;
  let bootstrapSeconds = 0;
  const short: Array<{ asg: string; target: number; maxSize: number }> = [];
  const pools = new Map<string, string>();
  for (const g of workers(model.standby.nodeGroups)) {
    const target = Math.max(primaryMin.get(poolOf(g)) ?? g.minSize, g.minSize);
    const add = Math.max(0, target - g.desired);
    nodesToLaunch += add;
    if (add > 0) asgsToGrow += 1;
    if (add > 0) bootstrapSeconds = Math.max(bootstrapSeconds, g.bootstrapGraceSeconds);
    if (target > g.maxSize) short.push({ asg: g.name, target, maxSize: g.maxSize });
    pools.set(poolOf(g), `${poolOf(g)}: ${g.desired} → ${target} per ASG`);
  }
  return { nodesToLaunch, asgsToGrow, bootstrapSeconds, short, pools: [...pools.values()].sort() };
}

/** The primary's workloads placed on the standby's standing workers (what runs before any new node joins). */
export interface StandingCapacity {
  /** Standby worker nodes running before the scale-up (each ASG's desired count). */
  readonly workers: number;
  /** Pods placed on them (the standby's control-plane nodes included, under their taints). */
  readonly placed: number;
  /** What does not fit: the promotion must wait for the new nodes. */
  readonly pending: readonly PendingPods[];
}

/**
 * Whether the pilot light's standing workers run what the primary runs at rest: the primary's
 * manifests (the standby renders the same ones; after promotion every app runs ≥ 1 replica per
 * zone) placed under the scheduler's filters (requests, selectors, taints, spread) on the
 * standby's nodes at their desired counts. When everything fits the promotion proceeds on them
 * and the scale-up leaves the critical path.
 */
export function standingCapacity(model: DeploymentModel): StandingCapacity | undefined {
  if (!model.standby) return undefined;
  const baseline = new PlacementBaseline({ ...model, infra: model.standby });
  return {
    workers: baseline.scheduler.nodes.filter((n) => n.role === 'worker').length,
    placed: baseline.pods.reduce((sum, t) => sum + baseline.scheduler.count(t), 0),
    pending: baseline.pending.filter((p) => p.pods > 0),
  };
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
};

/** What refines the runbook's bounds, each from the inputs that decide it. */
export interface PromotionInputs {
  readonly scaleUp?: PromotionScaleUp;
  /** The primary's footprint placed on the standby's standing workers; undefined without the standby's Terraform. */
  readonly standing?: StandingCapacity;
  /** The standby's Route 53 check (it must pass `failureThreshold` times once pointed at the app). */
  readonly standbyCheck?: { readonly intervalSeconds: number; readonly failureThreshold: number };
  /** platform-config's `failover.decision`. */
  readonly decision?: FailoverDecisionTerms;
}

const calls = (n: number): number => Math.ceil(n * FAILOVER_TOOL_TERMS.callSeconds);

/**
 * The promotion estimate along packages/failover's critical path, every phase with its basis:
 * `decision` from platform-config's strategy (its terms labelled policy / assumed); `preflight`
 * the workflow's start and the tool's calls up to the re-check; `scale-workers` and
 * `nodes-ready` 0 when the scale-up is needed but the standby's standing workers run the
 * primary's footprint (the tool issues it and goes on, nodes-ready runs last), else the ASGs'
 * bootstrap budget and the runbook's bound (back on the critical path); the database phase from
 * the standby's database (databaseTakeover) plus one poll of the tool; `verify-app` a pod start on
 * a standing node plus the tool's calls; `open-standby` the standby's check turning healthy.
 * Without the standby's Terraform, the runbook's bounds stand for the capacity phases.
 */
export function derivePromotion(promotion: PromotionPath | undefined, model: DeploymentModel, inputs: PromotionInputs, terms: DatabaseRecoveryTerms = DATABASE_RECOVERY_DEFAULTS): PromotionPath | undefined {
  const phases = promotion?.phases;
  if (!promotion || !phases || !('scale-workers' in phases)) return promotion;
  const { scaleUp, standing, standbyCheck, decision } = inputs;
  const tool = FAILOVER_TOOL_TERMS;
  const derived: Record<string, number> = { ...phases };
  const basis: string[] = [];
  if ('decision' in phases && decision) {
    derived.decision = decision.seconds;
    const parts = decision.terms.map((t) => `${t.name} ${t.seconds} s [${t.source}]: ${t.why}`).join('; ');
    basis.push(`decision ${decision.seconds} s (platform-config failover.decision, ${decision.kind}${decision.terms.length > 1 ? `, ${decision.kind === 'pre-authorised' ? 'the longer of' : 'the sum of'} its terms` : ''}): ${parts}`);
  }
  if ('preflight' in phases) {
    const n = tool.preflightCalls + (scaleUp?.asgsToGrow ?? 0);
    derived.preflight = tool.workflowStartSeconds + calls(n);
    basis.push(`preflight ${derived.preflight} s: workflow start ${tool.workflowStartSeconds} [assumed] + ${n} calls of preflight, archive-freshness, mark-promoted, scale-workers (issued), recheck-primary at ${tool.callSeconds} s [assumed] (no polls)`);
  }
  let capacityOnPath = false;
  if (scaleUp && scaleUp.nodesToLaunch === 0) {
    derived['scale-workers'] = 0;
    if ('nodes-ready' in phases) derived['nodes-ready'] = 0;
    basis.push(`scale-workers, nodes-ready: 0 s, the standby already runs the primary's minimum (${scaleUp.pools.join(', ')})`);
  } else if (scaleUp && standing && standing.pending.length === 0) {
    derived['scale-workers'] = 0;
    if ('nodes-ready' in phases) derived['nodes-ready'] = 0;
    basis.push(
      `scale-workers, nodes-ready: 0 s on the critical path: ${scaleUp.nodesToLaunch} worker(s) (${scaleUp.pools.join(', ')}) are requested and not awaited; the pilot light's ${standing.workers} standing worker(s) place all ${standing.placed} pods of the primary's footprint; nodes-ready runs last, after users moved`,
    );
  } else if (scaleUp) {
    capacityOnPath = true;
    derived['scale-workers'] = scaleUp.bootstrapSeconds;
    const why = standing ? `the pilot light's ${standing.workers} standing worker(s) leave ${standing.pending.map((p) => `${p.workload} ×${p.pods}`).join(', ')} pending, so verify-app's rollout waits for the new nodes` : "the standby's Terraform was not loaded, so its standing capacity is unknown";
    basis.push(`scale-workers ${scaleUp.bootstrapSeconds} s + nodes-ready ${derived['nodes-ready'] ?? 0} s on the critical path: ${scaleUp.nodesToLaunch} worker(s) to launch (${scaleUp.pools.join(', ')}) within the ASGs' bootstrap budget (health_check_grace_period); ${why}`);
  } else {
    capacityOnPath = true;
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
    if (takeover.phase === 'promote-database') {
      // The tool polls the Cluster every --poll-seconds: it sees the promotion up to one interval late.
      derived[takeover.phase] = takeover.seconds + tool.pollSeconds + calls(tool.promoteCalls);
      basis.push(`promote-database ${derived[takeover.phase]} s = takeover ${takeover.seconds} + one poll ${tool.pollSeconds} (--poll-seconds default) + ${tool.promoteCalls} calls ${calls(tool.promoteCalls)}; ${takeover.basis}`);
    } else {
      derived[takeover.phase] = takeover.seconds;
      basis.push(takeover.basis);
    }
  } else if (dbPhase) {
    basis.push(`${dbPhase}: the runbook's upper bound (the standby's database was not found in clusters/)`);
  }
  if ('verify-app' in phases && !capacityOnPath) {
    derived['verify-app'] = tool.podStartSeconds + tool.readinessSeconds + calls(tool.verifyCalls);
    basis.push(`verify-app ${derived['verify-app']} s: pod start on a standing node ${tool.podStartSeconds} [assumed] + readiness ${tool.readinessSeconds} (periodSeconds) + ${tool.verifyCalls} calls ${calls(tool.verifyCalls)} (rollout status watches, no poll; the probe answers at once behind the running ingress)`);
  } else if ('verify-app' in phases) {
    basis.push(`verify-app ${derived['verify-app']} s: the runbook's upper bound (the apps start on nodes still joining)`);
  }
  if ('open-standby' in phases && standbyCheck) {
    derived['open-standby'] = standbyCheck.intervalSeconds * standbyCheck.failureThreshold + calls(tool.openCalls);
    basis.push(`open-standby ${derived['open-standby']} s: fence-primary and open-standby's ${tool.openCalls} calls ${calls(tool.openCalls)}, then the standby's Route 53 check must pass ${standbyCheck.failureThreshold} × ${standbyCheck.intervalSeconds} s once pointed at the app`);
  }
  for (const [phase, why] of Object.entries(RUNBOOK_BASIS)) if (phase in derived && !(phase === 'decision' && decision)) basis.push(`${phase} ${derived[phase]} s: ${why} (runbook upper bound)`);
  // Keep the tool's order of steps (the phases' order), with the database phase where it was.
  const ordered = Object.fromEntries(Object.keys(phases).map((k) => (k === dbPhase ? Object.keys(derived).find((d) => d.endsWith('-database'))! : k)).map((k) => [k, derived[k]!]));
  return { ...promotion, estimatedSeconds: Object.values(ordered).reduce((s, v) => s + v, 0), phases: ordered, basis };
}
