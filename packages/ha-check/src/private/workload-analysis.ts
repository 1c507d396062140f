import type { Findings, Severity } from '../findings';
import type { NodeGroupModel, WorkloadModel } from '../model';
import type { PdbStatus, WorkloadOutcome } from '../report-types';
import { eligibleGroups, tolerates } from './placement';

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

function pdbBlocksAll(minAvailable: unknown, maxUnavailable: unknown, replicas: number): boolean {
  if (maxUnavailable !== undefined) return maxUnavailable === 0 || maxUnavailable === '0%' || maxUnavailable === '0';
  if (typeof minAvailable === 'number') return minAvailable >= replicas;
  if (typeof minAvailable === 'string' && minAvailable.endsWith('%')) return Math.ceil((Number(minAvailable.slice(0, -1)) / 100) * replicas) >= replicas;
  if (typeof minAvailable === 'string') return Number(minAvailable) >= replicas;
  return false;
}

function pdbAllowsWith(minAvailable: unknown, maxUnavailable: unknown, replicas: number, healthy: number): boolean {
  if (maxUnavailable !== undefined) {
    const max = typeof maxUnavailable === 'string' && maxUnavailable.endsWith('%') ? Math.floor((Number(maxUnavailable.slice(0, -1)) / 100) * replicas) : Number(maxUnavailable);
    return replicas - healthy < max;
  }
  const min = typeof minAvailable === 'string' && minAvailable.endsWith('%') ? Math.ceil((Number(minAvailable.slice(0, -1)) / 100) * replicas) : Number(minAvailable ?? 0);
  return healthy > min;
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
    pdbBlocksAll: w.pdbs.some((p) => pdbBlocksAll(p.minAvailable, p.maxUnavailable, w.replicas)),
  };
}

/** Findings that hold whatever AZ fails. */
export function workloadFindings(f: WorkloadFacts, findings: Findings, azSeverity: Severity, grace: number, appRto: number | undefined): void {
  const { w } = f;
  // A reconciler or dashboard: losing it degrades, never stops the app, so never an error.
  const add = (finding: Parameters<Findings['add']>[0]): void =>
    findings.add(w.notCritical ? { ...finding, severity: finding.severity === 'error' ? 'warning' : finding.severity, message: `${finding.message} (${w.notCritical})` } : finding);
  const zc = f.zones.length;
  if (f.groups.length === 0) {
    add({ id: 'workload.unschedulable', severity: azSeverity, subject: w.id, message: 'no node group matches its node selector / tolerations', fix: 'Match the pod nodeSelector and tolerations to a worker pool\'s labels and taints.' });
  }
  if (w.replicas <= 1 && w.zonalVolumes.length > 0) {
    add({
      id: 'workload.stranded-volume',
      severity: azSeverity,
      subject: w.id,
      message: `one replica on zonal EBS storage (${w.zonalVolumes.join(', ')}): when its AZ fails the volume is stranded there and the pod cannot start anywhere else`,
      fix: 'Run ≥ 2 replicas in different AZs with application-level replication (e.g. PostgreSQL streaming replicas), backed up to S3.',
    });
  } else if (w.replicas <= 1) {
    add({ id: 'workload.single-replica', severity: azSeverity, subject: w.id, message: 'one replica: losing its AZ takes the workload down until the pod is rescheduled', fix: `Set replicas (or the HPA minimum) to ≥ the number of AZs (${Math.max(zc, 2)}) with zone topology spread.` });
  } else if (w.zonalVolumes.length > 0) {
    add({ id: 'workload.zonal-volumes', severity: 'info', subject: w.id, message: 'replicas on zonal EBS volumes: a replica in a lost AZ waits for that AZ; the others must take over', fix: 'Make sure the application fails over between replicas (leader election / promotion).' });
  }
  const hpaMax = w.hpa?.maxReplicas ?? w.replicas;
  if (w.zoneAntiAffinity === 'required' && (hpaMax > zc || w.replicas > zc)) {
    add({
      id: 'workload.anti-affinity-caps-replicas',
      severity: azSeverity,
      subject: w.id,
      message: `required pod anti-affinity on the zone key allows one pod per zone: ${zc} zones cap it at ${zc} pods (${Math.max(zc - 1, 0)} after an AZ loss) while ${w.hpa ? `the HPA may scale to ${hpaMax}` : `it asks for ${w.replicas}`}`,
      fix: 'Replace the required zone anti-affinity with a topologySpreadConstraint on topology.kubernetes.io/zone (maxSkew 1).',
    });
  }
  if (w.replicas >= 2 && !w.zoneSpread?.hard && w.zoneAntiAffinity !== 'required') {
    add({ id: 'workload.no-zone-spread', severity: 'warning', subject: w.id, message: `no hard zone spread: all ${w.replicas} replicas may land in one AZ`, fix: 'Add a topologySpreadConstraint on topology.kubernetes.io/zone with whenUnsatisfiable: DoNotSchedule.' });
  }
  if (f.pdbBlocksAll) {
    add({
      id: 'pdb.blocks-eviction',
      severity: azSeverity,
      subject: w.id,
      message: `PodDisruptionBudget ${w.pdbs.map((p) => p.name).join(', ')} allows no eviction with ${w.replicas} replica(s): node drains, autoscaler scale-down and AZ rebalancing stall`,
      fix: 'Use maxUnavailable: 1 (or minAvailable below the replica count).',
    });
  }
  if (w.pdbs.length > 1) add({ id: 'pdb.overlapping', severity: 'warning', subject: w.id, message: `${w.pdbs.length} PodDisruptionBudgets select its pods; the eviction API refuses to evict them`, fix: 'Keep exactly one PDB per workload.' });
  if (w.pdbs.length === 0 && w.replicas >= 2) add({ id: 'workload.no-pdb', severity: 'info', subject: w.id, message: 'no PodDisruptionBudget: a drain may take every replica at once', fix: 'Add a PodDisruptionBudget with maxUnavailable: 1.' });
  const podRto = grace + f.unreachableTolerationSeconds;
  // Replicas on zonal volumes are not rescheduled but replaced by the survivors: eviction time is moot.
  if (w.zonalVolumes.length > 0 && w.replicas > 1) return;
  if (!Number.isFinite(f.unreachableTolerationSeconds)) {
    add({ id: 'workload.never-evicted', severity: azSeverity, subject: w.id, message: 'tolerates node.kubernetes.io/unreachable forever: its pods never leave a dead AZ', fix: 'Set tolerationSeconds (e.g. 30) on the unreachable / not-ready tolerations.' });
  } else if (f.usesDefaultToleration) {
    const exceeded = appRto !== undefined && podRto > appRto;
    add({
      id: 'workload.default-tolerations',
      severity: exceeded ? 'error' : 'warning',
      subject: w.id,
      message: `default ${f.unreachableTolerationSeconds} s not-ready/unreachable tolerations: pods leave a dead AZ after ≈ ${podRto} s (node-monitor grace ${grace} s + ${f.unreachableTolerationSeconds} s)${exceeded ? `, above the app RTO of ${appRto} s` : ''}`,
      fix: 'Add NoExecute tolerations for node.kubernetes.io/not-ready and node.kubernetes.io/unreachable with tolerationSeconds ≤ 30.',
    });
  } else if (appRto !== undefined && podRto > appRto) {
    add({ id: 'workload.pod-rto-exceeded', severity: 'error', subject: w.id, message: `pods leave a dead AZ after ≈ ${podRto} s (grace ${grace} s + toleration ${f.unreachableTolerationSeconds} s), above the app RTO of ${appRto} s`, fix: `Lower the unreachable tolerationSeconds to ≤ ${Math.max(appRto - grace, 0)}.` });
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
    pdb = f.pdbBlocksAll ? 'blocks-all-evictions' : w.pdbs.every((p) => pdbAllowsWith(p.minAvailable, p.maxUnavailable, w.replicas, left)) ? 'ok' : 'exhausted';
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
