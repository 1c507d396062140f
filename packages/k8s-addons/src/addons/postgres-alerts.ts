import { REGIONAL_RPO_SECONDS, WAL_ARCHIVE_TIMEOUT_SECONDS } from '@platform/platform-config';
import type { AlertRule } from './monitoring-alerts';

/** The label the database PodMonitor copies CloudNativePG's `cnpg.io/cluster` pod label to. */
export const CNPG_CLUSTER_LABEL = 'cnpg_cluster';

/**
 * How often the primary writes its heartbeat row (a CronJob, once a minute): with
 * `archive_timeout` it makes the primary ship a WAL segment at least every
 * WAL_ARCHIVE_TIMEOUT_SECONDS even when no user writes, so the standby always has a recent
 * commit to replay and its lag means "how old dr's data is", idle or not.
 */
export const HEARTBEAT_SCHEDULE = '* * * * *';
export const HEARTBEAT_TABLE = 'replication_heartbeat';

/**
 * Healthy lag on the standby: heartbeat period (60 s) + segment switch (archive_timeout) +
 * upload into the standby's region (seconds; no replication since the primary archives there)
 * + restore polling (5 s): ≤ ~125 s. Three archive timeouts is past that and below the 5 min
 * regional RPO objective: replay has stopped, or the archive stopped growing.
 */
export const REPLICA_NOT_REPLAYING_SECONDS = 3 * WAL_ARCHIVE_TIMEOUT_SECONDS;
/** The heartbeat counts as stopped after five missed runs. */
export const HEARTBEAT_STALE_SECONDS = 300;

/**
 * How the lag page is timed against the RPO objective. A breach at time T (dr's newest replayed
 * commit turns `objective` old) must page by T. Between the lag crossing the threshold and the
 * page: up to one scrape (the exporter reads the lag when scraped), up to one rule evaluation,
 * the rule's `for`, and Alertmanager's `group_wait` for a new group (monitoring.ts). So the
 * threshold is objective − for − scrape − evaluation − group_wait. Scrape and evaluation are the
 * Prometheus Operator's defaults (the chart leaves `scrapeInterval`/`evaluationInterval` empty:
 * 30 s each). The lag is the age of the newest replayed commit, a sawtooth the heartbeat resets
 * every minute, not a noisy gauge: one minute of `for` rides out a missed scrape.
 */
export const REPLICATION_LAG_TIMING = { forSeconds: 60, scrapeIntervalSeconds: 30, evaluationIntervalSeconds: 30, groupWaitSeconds: 30 } as const;

// A working replica's lag peaks near one heartbeat period + one archive timeout (the commit
// waits for its segment to switch): a threshold below that pages on a healthy standby.
const HEALTHY_LAG_PEAK_SECONDS = 60 + WAL_ARCHIVE_TIMEOUT_SECONDS;

/** What the page adds to the lag it starts at: its `for`, one scrape, one evaluation, Alertmanager's `group_wait`. */
function pageDelaySeconds(): number {
  const t = REPLICATION_LAG_TIMING;
  return t.forSeconds + t.scrapeIntervalSeconds + t.evaluationIntervalSeconds + t.groupWaitSeconds;
}

/**
 * The RPO the standby's page holds when the primary declares none: the design's
 * (REGIONAL_RPO_SECONDS), or the tightest objective that pages in time without paging a
 * healthy standby, whichever is larger.
 */
export function defaultPagedRpoSeconds(): number {
  return Math.max(REGIONAL_RPO_SECONDS, HEALTHY_LAG_PEAK_SECONDS + pageDelaySeconds());
}

/** The lag (seconds) at which DatabaseReplicaLagAboveRpo starts its `for`, so the page goes out by the time the lag reaches `rpoSeconds`. */
export function replicaLagThresholdSeconds(rpoSeconds: number): number {
  const threshold = rpoSeconds - pageDelaySeconds();
  const floor = HEALTHY_LAG_PEAK_SECONDS;
  if (threshold < floor) {
    throw new Error(
      `objectives.regionRpoSeconds: got ${rpoSeconds}; expected at least ${floor + rpoSeconds - threshold} (a healthy replica's lag reaches ${floor} s: heartbeat 60 s + archive timeout, plus ${rpoSeconds - threshold} s for the alert's for, scrape, evaluation and group_wait)`,
    );
  }
  return threshold;
}

/** A replication alert with the `for` its threshold was derived with. */
export interface ReplicationAlertRule extends AlertRule {
  /** Prometheus duration. */
  readonly for: string;
}

export interface DatabaseRef {
  readonly name: string;
  readonly namespace: string;
}

/**
 * Alerts for a database's part in regional replication.
 *
 * Standby (a CloudNativePG replica cluster replaying the primary's replicated archive), critical
 * so that it pages by the time the lag reaches `rpoSeconds` (the primary's
 * `objectives.regionRpoSeconds`, else defaultPagedRpoSeconds(); threshold: replicaLagThresholdSeconds):
 * `cnpg_pg_replication_lag` (CloudNativePG's default `pg_replication` query) is 0 on a primary
 * and when everything received is replayed; a designated primary restoring from an archive has
 * no WAL receiver, so it is `now() − pg_last_xact_replay_timestamp()`: the age of the newest
 * commit it replayed. That grows on an idle primary too, which is why the primary writes a
 * heartbeat (above) and alerts when the heartbeat stops.
 *
 * Primary (and a cluster in no pair, without the heartbeat): archiving that fails or falls behind (`pg_stat_archiver`'s last failure newer than
 * its last success; WAL segments waiting in `archive_status/*.ready`) — both quiet on an idle
 * database — and the heartbeat the standby's lag depends on.
 */
export function replicationAlerts(db: DatabaseRef, role: 'primary' | 'standby' | 'unpaired', rpoSeconds: number = defaultPagedRpoSeconds()): ReplicationAlertRule[] {
  const sel = `namespace="${db.namespace}",${CNPG_CLUSTER_LABEL}="${db.name}"`;
  const by = `namespace, ${CNPG_CLUSTER_LABEL}`;
  const lag = `max by (${by}) (cnpg_pg_replication_lag{${sel}})`;
  const fiveMinutes = '5m';
  if (role === 'standby') {
    const threshold = replicaLagThresholdSeconds(rpoSeconds);
    return [
      {
        alert: 'DatabaseReplicaLagAboveRpo',
        expr: `${lag} > ${threshold}`,
        for: `${REPLICATION_LAG_TIMING.forSeconds}s`,
        severity: 'critical',
        summary: `The standby's ${db.namespace}/${db.name} replica has replayed nothing newer than ${threshold} s: within ${rpoSeconds - threshold} s it passes the primary's regional RPO objective (${rpoSeconds} s), and a promotion then loses more than the objective (runbook: region-failover).`,
      },
      {
        alert: 'DatabaseReplicaNotReplaying',
        expr: `${lag} > ${REPLICA_NOT_REPLAYING_SECONDS} or absent_over_time(cnpg_pg_replication_lag{${sel}}[10m])`,
        for: fiveMinutes,
        severity: 'warning',
        summary: `The standby's ${db.namespace}/${db.name} replica replayed no commit for ${REPLICA_NOT_REPLAYING_SECONDS} s although the primary's heartbeat ships WAL every minute (or its lag is not scraped): the replicated archive stopped growing or replay stopped.`,
      },
      {
        // A writable standby reports lag 0 (a primary's), so the two alerts above go quiet on it.
        alert: 'DatabaseStandbyWritable',
        expr: `min by (${by}) (cnpg_pg_replication_in_recovery{${sel}}) == 0`,
        for: fiveMinutes,
        severity: 'warning',
        summary: `An instance of the standby's ${db.namespace}/${db.name} is out of recovery: the database is writable and no longer replays the primary's archive (its lag alerts read a primary's 0). Expected only while a promotion is in force; after a drill or a promotion by hand it diverges and the next promotion refuses it: re-arm it as a replica (runbook: region-failover).`,
      },
    ];
  }
  const archiver = (m: string) => `cnpg_pg_stat_archiver_${m}{${sel}}`;
  const archiving: ReplicationAlertRule = {
      alert: 'DatabaseWalArchivingFailing',
      expr: `${archiver('last_failed_time')} > ${archiver('last_archived_time')} or max by (${by}) (cnpg_collector_pg_wal_archive_status{value="ready",${sel}}) > ${Math.ceil(REPLICA_NOT_REPLAYING_SECONDS / WAL_ARCHIVE_TIMEOUT_SECONDS)}`,
      for: fiveMinutes,
      severity: 'critical',
      summary: `${db.namespace}/${db.name} cannot archive WAL (last attempt failed, or segments wait for upload): backups fall behind, a standby too, and the WAL volume fills.`,
  };
  if (role === 'unpaired') return [archiving];
  return [
    archiving,
    {
      alert: 'DatabaseHeartbeatStale',
      expr: `time() - max by (namespace, cronjob) (kube_cronjob_status_last_successful_time{namespace="${db.namespace}",cronjob="${db.name}-heartbeat"}) > ${HEARTBEAT_STALE_SECONDS} or absent_over_time(kube_cronjob_status_last_successful_time{namespace="${db.namespace}",cronjob="${db.name}-heartbeat"}[10m])`,
      for: fiveMinutes,
      severity: 'warning',
      summary: `${db.namespace}/${db.name}-heartbeat has not written for ${HEARTBEAT_STALE_SECONDS} s: an idle primary ships no WAL and the standby's lag alerts cannot tell idle from stalled.`,
    },
  ];
}
