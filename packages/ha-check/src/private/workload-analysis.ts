import { FINDING_CATALOGUE, type FindingId } from '../finding-catalogue';
import type { AddOptions, Findings } from '../findings';
import type { NodeGroupModel, WorkloadModel } from '../model';
import type { PdbStatus, WorkloadOutcome } from '../report-types';
import { eligibleGroups, tolerates } from './placement';
import { disruptionsAllowed } from './pdb-budget';

const UNREACHABLE = { key: 'node.kubernetes.io/unreachable', value: '', effect: 'NoExecute' };

export interface WorkloadFacts {
  readonly w: WorkloadModel;
  readonly groups: readonly NodeGroupModel[];
  /** AZs its pods can run in. */
  readonly zones: readonly string[];
  /** Pods running before any failure (hard zone anti-affinity caps this at the zone count). */
  readonly running: number;
  /** Most pods one zone can hold, as the hard constraints allow (worst case). */
  readonly worstZoneLoss: number;
  readonly unreachableTolerationSeconds: number;
  readonly usesDefaultToleration: boolean;
  readonly pdbBlocksAll: boolean;
}

/** Largest m such that one zone holds m pods and every other zone at least m - maxSkew. */
export function maxPodsInOneZone(replicas: number, zones: number, maxSkew: number): number {
  let m = Math.min(replicas, replicas);
  while (m > 0 && m + (zones - 1) * Math.max(0, m - maxSkew) > replicas) m--;
  return m;
}

export function workloadFacts(w: WorkloadModel, groups: readonly NodeGroupModel[], defaultToleration: number): WorkloadFacts {
  const usable = groups.filter((g) => g.maxSize > 0);
  const matched = eligibleGroups(w, usable);
  const zones = [...new Set(matched.flatMap((g) => g.azs))].sort();
  const zc = Math.max(1, zones.length);
  const running = w.zoneAntiAffinity === 'required' ? Math.min(w.replicas, zc) : w.replicas;
  let worstZoneLoss = running;
  if (w.zoneAntiAffinity === 'required') worstZoneLoss = Math.min(running, 1);
  else if (w.zoneSpread?.hard) worstZoneLoss = maxPodsInOneZone(running, zc, w.zoneSpread.maxSkew);
  const unreachable = w.tolerations.find((t) => tolerates([t], UNREACHABLE));
  return {
    w,
    groups: matched,
    zones,
    running,
    worstZoneLoss,
    unreachableTolerationSeconds: unreachable ? (unreachable.tolerationSeconds ?? Infinity) : defaultToleration,
    usesDefaultToleration: unreachable === undefined,
    // A drain evicts through the budget: none allowed with every replica healthy stalls it for good.
    pdbBlocksAll: w.replicas > 0 && w.pdbs.some((p) => disruptionsAllowed(p, w.replicas, w.replicas) === 0),
  };
}

/** Findings that hold whatever AZ fails. */
export function workloadFindings(f: WorkloadFacts, findings: Findings, grace: number, appRto: number | undefined): void {
  const { w } = f;
  // A reconciler or dashboard: losing it degrades, never stops the app, so never an error.
  const add = (id: FindingId, subject: string, message: string, options: AddOptions = {}): void => {
    if (!w.notCritical) return findings.add(id, subject, message, options);
    const severity = options.severity ?? findings.severityOf(FINDING_CATALOGUE[id].severity);
    findings.add(id, subject, `${message} (${w.notCritical})`, { ...options, severity: severity === 'error' ? 'warning' : severity });
  };
  const zc = f.zones.length;
  if (f.groups.length === 0) {
    add('workload.unschedulable', w.id, 'no node group matches its node selector / tolerations');
  }
  if (w.replicas <= 1 && w.zonalVolumes.length > 0) {
    add('workload.stranded-volume', w.id, `one replica on zonal EBS storage (${w.zonalVolumes.join(', ')}): when its AZ fails the volume is stranded there and the pod cannot start anywhere else`);
  } else if (w.replicas <= 1) {
    add('workload.single-replica', w.id, 'one replica: losing its AZ takes the workload down until the pod is rescheduled', { vars: { azs: Math.max(zc, 2) } });
  } else if (w.zonalVolumes.length > 0) {
    add('workload.zonal-volumes', w.id, 'replicas on zonal EBS volumes: a replica in a lost AZ waits for that AZ; the others must take over');
  }
  const hpaMax = w.hpa?.maxReplicas ?? w.replicas;
  if (w.zoneAntiAffinity === 'required' && (hpaMax > zc || w.replicas > zc)) {
    add('workload.anti-affinity-caps-replicas', w.id, `required pod anti-affinity on the zone key allows one pod per zone: ${zc} zones cap it at ${zc} pods (${Math.max(zc - 1, 0)} after an AZ loss) while ${w.hpa ? `the HPA may scale to ${hpaMax}` : `it asks for ${w.replicas}`}`);
  }
  // A hard spread whose maxSkew is at least the replica count admits every replica in one zone (skew = replicas).
  const idleSpread = w.zoneSpread?.hard === true && w.zoneSpread.maxSkew >= w.replicas;
  if (w.replicas >= 2 && (!w.zoneSpread?.hard || idleSpread) && w.zoneAntiAffinity !== 'required') {
    add('workload.no-zone-spread', w.id, idleSpread ? `hard zone spread with maxSkew ${w.zoneSpread?.maxSkew} ≥ ${w.replicas} replicas constrains nothing: all of them may land in one AZ` : `no hard zone spread: all ${w.replicas} replicas may land in one AZ`);
  }
  if (f.pdbBlocksAll) {
    add('pdb.blocks-eviction', w.id, `PodDisruptionBudget ${w.pdbs.map((p) => p.name).join(', ')} allows no eviction with ${w.replicas} replica(s): node drains, autoscaler scale-down and AZ rebalancing stall`);
  }
  if (w.pdbs.length > 1) add('pdb.overlapping', w.id, `${w.pdbs.length} PodDisruptionBudgets select its pods; the eviction API refuses to evict them`);
  if (w.pdbs.length === 0 && w.replicas >= 2) add('workload.no-pdb', w.id, 'no PodDisruptionBudget: a drain may take every replica at once');
  const podRto = grace + f.unreachableTolerationSeconds;
  // Replicas on zonal volumes are not rescheduled but replaced by the survivors: eviction time is moot.
  if (w.zonalVolumes.length > 0 && w.replicas > 1) return;
  if (!Number.isFinite(f.unreachableTolerationSeconds)) {
    add('workload.never-evicted', w.id, 'tolerates node.kubernetes.io/unreachable forever: its pods never leave a dead AZ');
  } else if (f.usesDefaultToleration) {
    const exceeded = appRto !== undefined && podRto > appRto;
    add('workload.default-tolerations', w.id, `default ${f.unreachableTolerationSeconds} s not-ready/unreachable tolerations: pods leave a dead AZ after ≈ ${podRto} s (node-monitor grace ${grace} s + ${f.unreachableTolerationSeconds} s)${exceeded ? `, above the app RTO of ${appRto} s` : ''}`, { severity: exceeded ? 'error' : 'warning' });
  } else if (appRto !== undefined && podRto > appRto) {
    add('workload.pod-rto-exceeded', w.id, `pods leave a dead AZ after ≈ ${podRto} s (grace ${grace} s + toleration ${f.unreachableTolerationSeconds} s), above the app RTO of ${appRto} s`, { vars: { seconds: Math.max(appRto - grace, 0) } });
  }
}

/** What losing `az` does to one workload. */
export function workloadOutcome(f: WorkloadFacts, az: string, grace: number): WorkloadOutcome {
  const { w } = f;
  const lost = f.zones.includes(az) || f.zones.length === 0 ? f.worstZoneLoss : 0;
  const left = f.running - lost;
  let reason: string | undefined;
  if (lost > 0 && w.zonalVolumes.length > 0) reason = `zonal volume stranded in ${az}`;
  else if (lost > 0 && w.zoneAntiAffinity === 'required') reason = 'required zone anti-affinity: every surviving zone already has its one pod';
  else if (lost > 0 && w.zoneSpread?.hard && w.zoneSpread.nodeTaintsPolicy !== 'Honor') {
    // The dead zone's nodes still count as a domain with 0 pods until they are deleted.
    const others = Math.max(f.zones.length - 1, 1);
    const base = Math.floor(left / others);
    const extra = left % others;
    const room = Array.from({ length: others }, (_, i) => Math.max(0, w.zoneSpread!.maxSkew - (base + (i < extra ? 1 : 0)))).reduce((a, b) => a + b, 0);
    if (room < lost) reason = `maxSkew ${w.zoneSpread.maxSkew} counts the dead zone (0 pods) until its nodes are deleted; nodeTaintsPolicy: Honor lets them reschedule`;
  }
  let pdb: PdbStatus = 'none';
  if (w.pdbs.length > 0) {
    pdb = f.pdbBlocksAll ? 'blocks-all-evictions' : w.pdbs.every((p) => disruptionsAllowed(p, w.replicas, left) > 0) ? 'ok' : 'exhausted';
  }
  return {
    id: w.id,
    replicas: w.replicas,
    lost,
    left,
    canReschedule: reason === undefined,
    reason,
    pdb,
    podRtoSeconds: Number.isFinite(f.unreachableTolerationSeconds) ? grace + f.unreachableTolerationSeconds : null,
  };
}
