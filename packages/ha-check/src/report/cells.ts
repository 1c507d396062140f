import type { RegionScenario, Scenario } from '../report-types';
import { rpoFigure } from './rpo-figure';

export function seconds(value: number | null): string {
  return value === null ? '∞' : `${value} s`;
}

const dnsSummary = (s: RegionScenario): string => (s.dnsFailover ? `DNS ${s.dnsFailover.role}${s.dnsFailover.healthCheck ? '' : ' (no health check)'}` : 'no DNS failover');

/** etcd, API, ingress, egress, capacity and workload cells of one scenario row (shared by text and Markdown). */
export function scenarioCells(s: Scenario): string[] {
  if (s.kind === 'region-loss') {
    const standby = s.standbyCluster ? `standby ${s.standbyCluster}${s.standbyRegion ? ` (${s.standbyRegion})` : ''}` : 'no standby';
    const backups = s.backupReplicas.length > 0 ? `backups → ${[...new Set(s.backupReplicas.map((r) => r.region))].join(', ')}` : 'backups not replicated';
    return ['lost', 'lost', dnsSummary(s), '-', '-', `${standby}; ${backups}; ${s.promotion ? 'promotion scripted' : 'no promotion path'}`];
  }
  const egressOk = s.egress.filter((e) => e.ok).length;
  const down = s.workloads.filter((w) => w.left === 0 && w.replicas > 0).length;
  const stuck = s.workloads.filter((w) => w.lost > 0 && !w.canReschedule).length;
  return [
    `${s.etcd.surviving}/${s.etcd.members}${s.etcd.quorum ? ' ok' : ' NO QUORUM'}`,
    s.api.reachable ? 'reachable' : 'DOWN',
    s.ingress ? (s.ingress.reachable ? 'reachable' : 'DOWN') : '-',
    `${egressOk}/${s.egress.length}`,
    capacityCell(s),
    `${s.workloads.length - down} of ${s.workloads.length} up${stuck > 0 ? `, ${stuck} cannot reschedule` : ''}`,
  ];
}

/** Nodes: pods Pending after the loss, nodes the autoscaler adds, waits for the dead Nodes' deletion, preemptions. */
function capacityCell(s: Extract<Scenario, { kind: 'az-loss' }>): string {
  const p = s.placement;
  const added = p.nodesAdded.reduce((n, g) => n + g.nodes, 0);
  const notes = [
    added > 0 ? `+${added} node(s)` : undefined,
    p.waitsForNodeDeletion.length > 0 ? `${p.waitsForNodeDeletion.length} wait for dead Nodes' deletion` : undefined,
    p.preempted.length > 0 ? `${p.preempted.reduce((n, x) => n + x.pods, 0)} preempted` : undefined,
  ].filter((x) => x !== undefined);
  const head = s.capacity.ok ? (s.capacity.unplacedNow > 0 ? `ok after ${s.capacity.unplacedNow} pending` : 'ok') : `SHORT ${s.capacity.unplacedAfterScaleOut} pods`;
  return notes.length > 0 ? `${head} (${notes.join(', ')})` : head;
}

export function recoveryCells(s: Scenario): string[] {
  if (s.kind === 'region-loss') return ['standby', '-', `RTO ${s.rto.seconds === null ? '∞' : `≈ ${s.rto.seconds} s`}, RPO ${s.rpoMinutes !== undefined ? `${s.rpoMinutes} min` : '∞'}`];
  return [seconds(s.recovery.apiSeconds), seconds(s.recovery.podsSeconds), seconds(s.recovery.appSeconds)];
}

const opt = (value: number | undefined, unit: string): string => (value === undefined ? '?' : `${value} ${unit}`);

/** The region-loss facts, one [label, value] per line (text and Markdown). */
export function regionFacts(s: RegionScenario): Array<[string, string]> {
  const d = s.dnsFailover;
  const hc = d?.healthCheck;
  const standbyRecord = d?.standbyRecord === undefined ? 'standby record not checked (pass --standby-terraform)' : d.standbyRecord === null ? 'standby has NO failover record' : `standby ${d.standbyRecord.role}${d.standbyRecord.target ? ` → ${d.standbyRecord.target}` : ''}${d.standbyRecord.healthCheck ? ', health-checked' : ', no health check'}`;
  const dns = d
    ? `${d.role} ${d.name}${d.target ? ` → ${d.target}` : ''}; ${hc ? `health check ${hc.type}${hc.resourcePath ? ` ${hc.resourcePath}` : ''} every ${hc.requestIntervalSeconds} s × ${hc.failureThreshold} = ${d.detectionSeconds} s detection` : 'NO health check'}; TTL ${opt(d.ttlSeconds, 's')}${d.ttlSource === 'alias-load-balancer' ? ' (alias to a load balancer)' : ''}; ${standbyRecord}`
    : 'none';
  const backups = s.backupReplicas.length > 0 ? s.backupReplicas.map((r) => `${r.source} → ${r.destination} (${r.region ?? '?'})`).join(', ') : 'none';
  const dbs = s.databaseArchives.map((a) => `${a.id} WAL every ${a.archiveTimeoutMinutes} min${a.writtenToRegion ? ` (written into ${a.writtenToRegion})` : a.replicated ? '' : ' (NOT replicated)'}`).join(', ');
  const promotion = s.promotion ? `${s.promotion.command ?? 'declared'} (${s.promotion.workflow}), ≈ ${s.promotion.estimatedSeconds} s${s.promotion.phases ? ` = ${Object.entries(s.promotion.phases).map(([k, v]) => `${k} ${v}`).join(' + ')}` : ''}` : 'none';
  const r = s.rto;
  const rto = r.seconds === null ? `unknown (detection ${opt(r.detectionSeconds, 's')}, promotion ${opt(r.promotionSeconds, 's')}, TTL ${opt(r.dnsTtlSeconds, 's')})` : `≈ ${r.seconds} s = detection ${r.detectionSeconds} + promotion ${r.promotionSeconds} + TTL ${r.dnsTtlSeconds}${r.objectiveSeconds !== undefined ? ` (objective ${r.objectiveSeconds} s)` : ' (no regional objective declared)'}`;
  const rpo = s.rpo.minutes === undefined ? 'unbounded: no backup leaves the region' : `${rpoFigure(s.rpo)}${s.rpo.objectiveMinutes !== undefined ? ` (objective ${s.rpo.objectiveMinutes} min${s.rpo.minutes > s.rpo.objectiveMinutes ? ': EXCEEDED' : ''})` : ''}`;
  return [
    ['standby', s.standbyCluster ? `${s.standbyCluster} (${s.standbyRegion ?? 'unknown region'})` : s.primaryCluster ? `none: this cluster is the standby of ${s.primaryCluster}` : 'none'],
    ['DNS failover', dns],
    ['replicated backups', `${backups}${dbs ? `; ${dbs}` : ''}`],
    ['promotion', promotion],
    ['regional RTO', rto],
    ['RPO', rpo],
  ];
}
