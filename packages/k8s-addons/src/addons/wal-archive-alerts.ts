import { WAL_ARCHIVE_TIMEOUT_SECONDS, WAL_ARCHIVER_BOUND_SECONDS } from '@platform/platform-config';
import type { AlertRule } from './monitoring-alerts';
import { CNPG_CLUSTER_LABEL, type DatabaseRef } from './postgres-alerts';

/** An alert with its own pending period (`for`). */
export interface TimedAlertRule extends AlertRule {
  readonly for: string;
}

/** Share of the WAL volume in use at which the archive outage budget (PostgresProps.archiveOutageHours) is half spent. */
export const WAL_VOLUME_ALERT_RATIO = 0.5;

/**
 * Alerts on the archive the regional RPO rests on, for a failover primary (its archive is its
 * bucket in the standby's region, written directly: the only lag is the archiver's own).
 *
 * - DatabaseWalArchiveLate: CloudNativePG's `cnpg_pg_stat_archiver_seconds_since_last_archival`
 *   (-1 on instances that never archived: the replicas) above archive_timeout + the archiver
 *   bound. The heartbeat writes every minute, so a healthy primary archives a segment at least
 *   every WAL_ARCHIVE_TIMEOUT_SECONDS; past the bound for a minute, what a region loss would lose
 *   is ~3 min, still inside a 5 min objective: the page comes before the objective is crossed.
 * - DatabaseWalVolumeHalfFull: the WAL volume (`<cluster>-<n>-wal`, CloudNativePG's PVC name) half
 *   used: with the archive unreachable the primary has spent half of the hours it was sized for.
 */
export function walArchiveAlerts(db: DatabaseRef): TimedAlertRule[] {
  const sel = `namespace="${db.namespace}",${CNPG_CLUSTER_LABEL}="${db.name}"`;
  const lateAfter = WAL_ARCHIVE_TIMEOUT_SECONDS + WAL_ARCHIVER_BOUND_SECONDS;
  const pvc = `namespace="${db.namespace}",persistentvolumeclaim=~"${db.name}-[0-9]+-wal"`;
  return [
    {
      alert: 'DatabaseWalArchiveLate',
      expr: `max by (namespace, ${CNPG_CLUSTER_LABEL}) (cnpg_pg_stat_archiver_seconds_since_last_archival{${sel}}) > ${lateAfter}`,
      for: '1m',
      severity: 'critical',
      summary: `${db.namespace}/${db.name} archived no WAL segment for more than ${lateAfter} s (archive_timeout ${WAL_ARCHIVE_TIMEOUT_SECONDS} s + archiver bound ${WAL_ARCHIVER_BOUND_SECONDS} s) although its heartbeat writes every minute: the archive in the standby's region falls behind and a region loss now loses more than the regional RPO assumes (runbook: region-failover).`,
    },
    {
      alert: 'DatabaseWalVolumeHalfFull',
      expr: `max by (namespace, persistentvolumeclaim) (kubelet_volume_stats_used_bytes{${pvc}} / kubelet_volume_stats_capacity_bytes{${pvc}}) > ${WAL_VOLUME_ALERT_RATIO}`,
      for: '5m',
      severity: 'critical',
      summary: `A WAL volume of ${db.namespace}/${db.name} is more than ${WAL_VOLUME_ALERT_RATIO * 100} % full: WAL waits for an archive it cannot reach (DatabaseWalArchivingFailing) and half the outage it was sized for is spent; when it fills, the primary stops accepting writes.`,
    },
  ];
}
