import { WAL_ARCHIVE_TIMEOUT_SECONDS } from '@platform/platform-config';
import type { AlertRule } from './monitoring-alerts';
import { CNPG_CLUSTER_LABEL, REPLICATION_LAG_TIMING, type DatabaseRef } from './postgres-alerts';

/** An alert with its own pending period (`for`). */
export interface TimedAlertRule extends AlertRule {
  readonly for: string;
}

/** Share of the WAL volume in use at which the archive outage budget (PostgresProps.archiveOutageHours) is half spent. */
export const WAL_VOLUME_ALERT_RATIO = 0.5;

/**
 * Segments waiting for the archiver (`.ready` in pg_wal/archive_status) at which the archive counts
 * as behind: one is the segment being uploaded; a second means a segment switched while the one
 * before it was still not stored in the standby's region.
 */
export const WAL_BACKLOG_SEGMENTS = 2;

/**
 * Data a region loss would lose by the time DatabaseWalArchiveLate pages, at the slowest switch
 * rate (the heartbeat's archive_timeout): the stuck segment's own archive_timeout of writes, the
 * next switch that makes the backlog WAL_BACKLOG_SEGMENTS, then the page's for, one scrape, one
 * evaluation and Alertmanager's group_wait (REPLICATION_LAG_TIMING). 60 + 60 + 150 = 270 s.
 */
export function walBacklogPageExposureSeconds(): number {
  const t = REPLICATION_LAG_TIMING;
  return (WAL_BACKLOG_SEGMENTS) * WAL_ARCHIVE_TIMEOUT_SECONDS + t.forSeconds + t.scrapeIntervalSeconds + t.evaluationIntervalSeconds + t.groupWaitSeconds;
}

/** The WAL volume the alerts speak about: its size and the rate it was sized for (platform-config backups.databaseWalMiBPerMinute). */
export interface WalVolumeRef {
  readonly sizeGiB: number;
  readonly walMiBPerMinute: number;
  /** MiB a minute pg_wal grows by while nothing is archived (whole segments: at least one a minute). */
  readonly growthMiBPerMinute: number;
}

/**
 * Alerts on the archive the regional RPO rests on, for a failover primary (its archive is its
 * bucket in the standby's region, written directly: the only lag is the archiver's own).
 *
 * - DatabaseWalArchiveLate: the archiver's backlog, CloudNativePG's default collector metric
 *   `cnpg_collector_pg_wal_archive_status{value="ready"}` (segments PostgreSQL has switched and
 *   archive_command has not yet stored), at WAL_BACKLOG_SEGMENTS or more for a minute. Not the time
 *   since the last success (`cnpg_pg_stat_archiver_seconds_since_last_archival`): an archiver that
 *   uploads a little slower than segments switch, or works through a backlog after an outage,
 *   succeeds every minute while what a region loss would lose grows without bound.
 * - DatabaseWalVolumeHalfFull: the WAL volume (`<cluster>-<n>-wal`, CloudNativePG's PVC name) half
 *   used: with the archive unreachable, half the runway is spent; it says how many hours are left.
 */
export function walArchiveAlerts(db: DatabaseRef, volume: WalVolumeRef): TimedAlertRule[] {
  const sel = `namespace="${db.namespace}",${CNPG_CLUSTER_LABEL}="${db.name}"`;
  const pvc = `namespace="${db.namespace}",persistentvolumeclaim=~"${db.name}-[0-9]+-wal"`;
  // What the other half holds at the growth rate: the page's lead time before PostgreSQL stops.
  const leftHours = Math.floor(((volume.sizeGiB * (1 - WAL_VOLUME_ALERT_RATIO) * 1024) / volume.growthMiBPerMinute / 60) * 10) / 10;
  return [
    {
      alert: 'DatabaseWalArchiveLate',
      expr: `max by (namespace, ${CNPG_CLUSTER_LABEL}) (cnpg_collector_pg_wal_archive_status{value="ready",${sel}}) >= ${WAL_BACKLOG_SEGMENTS}`,
      for: `${REPLICATION_LAG_TIMING.forSeconds / 60}m`,
      severity: 'critical',
      summary: `${db.namespace}/${db.name} has ${WAL_BACKLOG_SEGMENTS} or more WAL segments waiting for the archiver: the archive in the standby's region falls behind (slow uploads, a catch-up backlog or failures) and a region loss now loses more than the regional RPO assumes (runbook: region-failover).`,
    },
    {
      alert: 'DatabaseWalVolumeHalfFull',
      expr: `max by (namespace, persistentvolumeclaim) (kubelet_volume_stats_used_bytes{${pvc}} / kubelet_volume_stats_capacity_bytes{${pvc}}) > ${WAL_VOLUME_ALERT_RATIO}`,
      for: '5m',
      severity: 'critical',
      summary: `A WAL volume of ${db.namespace}/${db.name} is more than ${WAL_VOLUME_ALERT_RATIO * 100} % full: WAL waits for an archive it cannot reach (DatabaseWalArchivingFailing). At ${volume.walMiBPerMinute} MiB/min its ${volume.sizeGiB} GiB leave about ${leftHours} h; when it is full PostgreSQL PANICs and the primary shuts down (no failover: every instance's volume fills alike). Move the store home now (runbook: region-failover, "Standby region down").`,
    },
  ];
}
