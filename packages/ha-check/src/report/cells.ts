import type { Scenario } from '../report-types';

export function seconds(value: number | null): string {
  return value === null ? '∞' : `${value} s`;
}

/** etcd, API, egress, capacity and workload cells of one scenario row (shared by text and Markdown). */
export function scenarioCells(s: Scenario): string[] {
  if (s.kind === 'region-loss') {
    const standby = s.standbyCluster ? `standby ${s.standbyCluster}${s.standbyRegion ? ` (${s.standbyRegion})` : ''}` : 'no standby';
    const backups = s.backupReplicas.length > 0 ? `backups → ${[...new Set(s.backupReplicas.map((r) => r.region))].join(', ')}` : 'backups not replicated';
    return ['lost', 'lost', '-', '-', `${standby}; ${backups}`];
  }
  const egressOk = s.egress.filter((e) => e.ok).length;
  const down = s.workloads.filter((w) => w.left === 0 && w.replicas > 0).length;
  const stuck = s.workloads.filter((w) => w.lost > 0 && !w.canReschedule).length;
  return [
    `${s.etcd.surviving}/${s.etcd.members}${s.etcd.quorum ? ' ok' : ' NO QUORUM'}`,
    s.api.reachable ? 'reachable' : 'DOWN',
    `${egressOk}/${s.egress.length}`,
    s.capacity.ok ? (s.capacity.unplacedNow > 0 ? `ok after scale-out (${s.capacity.unplacedNow} pending)` : 'ok') : `SHORT ${s.capacity.unplacedAfterScaleOut} pods`,
    `${s.workloads.length - down} of ${s.workloads.length} up${stuck > 0 ? `, ${stuck} cannot reschedule` : ''}`,
  ];
}

export function recoveryCells(s: Scenario): string[] {
  if (s.kind === 'region-loss') return ['standby', '-', s.rpoMinutes !== undefined ? `RPO ${s.rpoMinutes} min` : 'RPO ∞'];
  return [seconds(s.recovery.apiSeconds), seconds(s.recovery.podsSeconds), seconds(s.recovery.appSeconds)];
}
