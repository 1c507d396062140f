/* eslint-disable @typescript-eslint/no-explicit-any -- parsed YAML is read field by field */
import { defaultPlatform, REGIONAL_RPO_SECONDS, WAL_ARCHIVE_TIMEOUT_SECONDS } from '@platform/platform-config';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { HEARTBEAT_STALE_SECONDS, REPLICA_NOT_REPLAYING_SECONDS, REPLICATION_LAG_TIMING, replicaLagThresholdSeconds, replicationAlerts, synthClusterTree } from '../src';
import { evaluate, promqlSyntaxErrors, type Sample } from './promql';

const platform = defaultPlatform();
const orders = { name: 'orders', namespace: 'data' };
const objects = (cluster: string): any[] => parseAllDocuments(synthClusterTree(platform, cluster)['apps/postgres.yaml']!).map((d) => d.toJS());
const rulesOf = (cluster: string) => objects(cluster).find((o) => o.kind === 'PrometheusRule').spec.groups[0].rules as { alert: string; expr: string; for: string; labels: Record<string, string> }[];
/** Rendered with production's regional RPO objective, as postgres.ts renders dr's rules. */
const OBJECTIVE = platform.cluster('production').objectives.regionRpoSeconds!;
const expr = (role: 'primary' | 'standby', alert: string) => replicationAlerts(orders, role, OBJECTIVE).find((r) => r.alert === alert)!.expr;
const NOW = 1_000_000;

/**
 * The series CloudNativePG's exporter serves for one instance, as the PodMonitor labels them.
 * `lagSeconds`: the default `pg_replication` query's `lag`: 0 on a primary, else the age of the
 * newest replayed commit for a designated primary restoring from an archive (no WAL receiver).
 */
const instance = (pod: string, s: { lagSeconds?: number; at?: number; lastArchived?: number; lastFailed?: number; ready?: number }): Sample[] => {
  const labels = { namespace: 'data', cnpg_cluster: 'orders', pod };
  const at = s.at ?? NOW;
  return [
    ...(s.lagSeconds !== undefined ? [{ labels: { __name__: 'cnpg_pg_replication_lag', ...labels }, value: s.lagSeconds, at }] : []),
    { labels: { __name__: 'cnpg_pg_stat_archiver_last_archived_time', ...labels }, value: s.lastArchived ?? NOW - 30, at },
    { labels: { __name__: 'cnpg_pg_stat_archiver_last_failed_time', ...labels }, value: s.lastFailed ?? -1, at },
    { labels: { __name__: 'cnpg_collector_pg_wal_archive_status', value: 'ready', ...labels }, value: s.ready ?? 0, at },
  ];
};
const heartbeat = (lastSuccess: number | undefined): Sample[] =>
  lastSuccess === undefined ? [] : [{ labels: { __name__: 'kube_cronjob_status_last_successful_time', namespace: 'data', cronjob: 'orders-heartbeat' }, value: lastSuccess, at: NOW }];
const fires = (e: string, series: Sample[]) => evaluate(e, series, NOW).length > 0;

describe('database replication alerts', () => {
  it('dr (the standby) alerts on its replica lag; production on archiving and its heartbeat; staging on archiving', () => {
    expect(rulesOf('dr').map((r) => r.alert)).toEqual(['DatabaseReplicaLagAboveRpo', 'DatabaseReplicaNotReplaying', 'DatabaseStandbyWritable']);
    expect(rulesOf('production').map((r) => r.alert)).toEqual(['DatabaseWalArchivingFailing', 'DatabaseHeartbeatStale', 'DatabaseWalArchiveLate', 'DatabaseWalVolumeHalfFull']);
    expect(rulesOf('staging').map((r) => r.alert)).toEqual(['DatabaseWalArchivingFailing']);
    for (const c of ['dr', 'production', 'staging']) for (const r of rulesOf(c)) expect(promqlSyntaxErrors(r.expr), `${c} ${r.alert}`).toEqual([]);
    expect(rulesOf('dr')[0]).toMatchObject({ labels: { severity: 'critical', cluster: 'dr' } });
    // The threshold is derived from production's regional RPO objective (platform-config), not a copy of it.
    const objective = platform.cluster('production').objectives.regionRpoSeconds!;
    expect(rulesOf('dr')[0]!.expr).toBe(`max by (namespace, cnpg_cluster) (cnpg_pg_replication_lag{namespace="data",cnpg_cluster="orders"}) > ${replicaLagThresholdSeconds(objective)}`);
    expect(replicationAlerts(orders, 'standby', 300)[0]!.expr).toMatch(/ > 150$/);
  });

  it('pages by the time the lag reaches the RPO objective: the rendered threshold + for + scrape + evaluation + group_wait ≤ objective', () => {
    const seconds = (d: string) => {
      const m = /^(\d+)(s|m)$/.exec(d);
      if (!m) throw new Error(`unexpected duration ${d}`);
      return Number(m[1]) * (m[2] === 'm' ? 60 : 1);
    };
    const objective = platform.cluster('production').objectives.regionRpoSeconds!;
    const rule = rulesOf('dr').find((r) => r.alert === 'DatabaseReplicaLagAboveRpo')!;
    const threshold = Number(/ > (\d+)$/.exec(rule.expr)![1]);
    const t = REPLICATION_LAG_TIMING;
    // Worst case from the lag crossing the threshold to the notification leaving Alertmanager.
    const pagedAt = threshold + t.scrapeIntervalSeconds + t.evaluationIntervalSeconds + seconds(rule.for) + t.groupWaitSeconds;
    expect(pagedAt).toBeLessThanOrEqual(objective);
    expect(pagedAt).toBe(objective);
    // The old rule (threshold = objective, for 5m) paged 6.5 min after the breach.
    expect(objective + t.scrapeIntervalSeconds + t.evaluationIntervalSeconds + 300 + t.groupWaitSeconds - objective).toBe(390);
    // The group_wait assumed is the one dr's Alertmanager renders; scrape and evaluation intervals are left to the operator's 30 s defaults.
    const monitoring = synthClusterTree(platform, 'dr')['infrastructure/controllers/monitoring.yaml']!;
    const values = parseAllDocuments(monitoring).map((d) => d.toJS()).find((o) => o?.kind === 'HelmRelease').spec.values;
    expect(values.alertmanager.config.route.group_wait).toBe(`${t.groupWaitSeconds}s`);
    expect(values.prometheus.prometheusSpec?.scrapeInterval ?? '').toBe('');
    expect(values.prometheus.prometheusSpec?.evaluationInterval ?? '').toBe('');
    // A replica's healthy lag peaks at one heartbeat + one archive timeout; an objective too small to page above that is refused.
    expect(() => replicaLagThresholdSeconds(200)).toThrow(
      'objectives.regionRpoSeconds: got 200; expected at least 270 (a healthy replica\'s lag reaches 120 s: heartbeat 60 s + archive timeout, plus 150 s for the alert\'s for, scrape, evaluation and group_wait)',
    );
  });

  it('scrapes the instances with the cluster name as a label, and only production runs the heartbeat', () => {
    const monitor = objects('dr').find((o) => o.kind === 'PodMonitor');
    expect(monitor.spec.selector.matchLabels).toEqual({ 'cnpg.io/cluster': 'orders', 'cnpg.io/podRole': 'instance' });
    expect(monitor.spec.podMetricsEndpoints[0]).toMatchObject({ port: 'metrics', relabelings: [{ sourceLabels: ['__meta_kubernetes_pod_label_cnpg_io_cluster'], targetLabel: 'cnpg_cluster' }] });
    const cron = objects('production').find((o) => o.kind === 'CronJob');
    expect(cron.spec.schedule).toBe('* * * * *');
    const pod = cron.spec.jobTemplate.spec.template.spec;
    // The app owner's connection string from CloudNativePG's Secret, mounted (never in the environment).
    expect(pod.volumes).toEqual([{ name: 'database', secret: { secretName: 'orders-app', items: [{ key: 'uri', path: 'uri' }] } }]);
    expect(pod.containers[0].command).toEqual([
      'sh',
      '-c',
      'exec psql "$(cat /etc/database/uri)" --no-psqlrc -v ON_ERROR_STOP=1 -c "CREATE TABLE IF NOT EXISTS replication_heartbeat (id int PRIMARY KEY, at timestamptz NOT NULL); INSERT INTO replication_heartbeat VALUES (1, now()) ON CONFLICT (id) DO UPDATE SET at = excluded.at"',
    ]);
    expect(pod.containers[0].env).toBeUndefined();
    // A replica cluster is read-only and has no orders-app Secret; staging has no standby to feed.
    expect(objects('dr').some((o) => o.kind === 'CronJob')).toBe(false);
    expect(objects('staging').some((o) => o.kind === 'CronJob')).toBe(false);
  });

  describe('on the standby', () => {
    const lagHigh = expr('standby', 'DatabaseReplicaLagAboveRpo');
    const stopped = expr('standby', 'DatabaseReplicaNotReplaying');
    // The designated primary restores from the archive; its two streaming replicas are caught up (0).
    const replica = (lagSeconds: number) => [...instance('orders-1', { lagSeconds }), ...instance('orders-2', { lagSeconds: 0 }), ...instance('orders-3', { lagSeconds: 0 })];

    it('is quiet while the heartbeat keeps replayed commits within a couple of archive timeouts', () => {
      expect(fires(lagHigh, replica(2 * WAL_ARCHIVE_TIMEOUT_SECONDS))).toBe(false);
      expect(fires(stopped, replica(2 * WAL_ARCHIVE_TIMEOUT_SECONDS))).toBe(false);
    });

    it('warns once replay stalls past three archive timeouts, and pages in time for the regional RPO', () => {
      expect(fires(stopped, replica(REPLICA_NOT_REPLAYING_SECONDS + 1))).toBe(true);
      const threshold = replicaLagThresholdSeconds(OBJECTIVE);
      expect(fires(lagHigh, replica(threshold))).toBe(false);
      expect(evaluate(lagHigh, replica(threshold + 1), NOW)).toEqual([{ labels: { namespace: 'data', cnpg_cluster: 'orders' }, value: threshold + 1 }]);
      // With a 300 s objective the page (150 s) comes before the warning (180 s): the warning is
      // what remains for a lag that is not scraped at all.
      expect(REPLICA_NOT_REPLAYING_SECONDS).toBeLessThan(OBJECTIVE);
      expect(REGIONAL_RPO_SECONDS).toBeLessThanOrEqual(OBJECTIVE);
    });

    it('warns when the lag is not scraped at all for 10 minutes (no instance, no PodMonitor target)', () => {
      expect(fires(stopped, [])).toBe(true);
      expect(fires(stopped, instance('orders-1', { lagSeconds: 10, at: NOW - 9 * 60 }))).toBe(false);
      expect(fires(stopped, instance('orders-1', { lagSeconds: 10, at: NOW - 11 * 60 }))).toBe(true);
    });

    it('warns when an instance leaves recovery (a drill or a promotion by hand left the standby writable), which the lag alerts cannot see', () => {
      const writable = expr('standby', 'DatabaseStandbyWritable');
      const recovery = (pod: string, value: number): Sample => ({ labels: { __name__: 'cnpg_pg_replication_in_recovery', namespace: 'data', cnpg_cluster: 'orders', pod }, value, at: NOW });
      expect(fires(writable, [recovery('orders-1', 1), recovery('orders-2', 1), recovery('orders-3', 1)])).toBe(false);
      // Promoted: the primary reports lag 0 and in_recovery 0, its replicas stay in recovery.
      const promoted = [...replica(0), recovery('orders-1', 0), recovery('orders-2', 1), recovery('orders-3', 1)];
      expect(fires(writable, promoted)).toBe(true);
      expect(fires(lagHigh, promoted) || fires(stopped, promoted)).toBe(false);
      expect(fires(writable, [{ ...recovery('orders-1', 0), labels: { ...recovery('orders-1', 0).labels, namespace: 'other' } }])).toBe(false);
    });

    it('ignores other clusters and namespaces', () => {
      const other: Sample[] = [{ labels: { __name__: 'cnpg_pg_replication_lag', namespace: 'other', cnpg_cluster: 'orders', pod: 'orders-1' }, value: 99_999, at: NOW }];
      expect(fires(lagHigh, [...replica(10), ...other])).toBe(false);
    });
  });

  describe('on the primary (idle-proof: quiet when nothing is written)', () => {
    const archiving = expr('primary', 'DatabaseWalArchivingFailing');
    const beat = expr('primary', 'DatabaseHeartbeatStale');

    it('is quiet for an idle database: nothing archived recently, nothing failed, nothing waiting', () => {
      expect(fires(archiving, instance('orders-1', { lagSeconds: 0, lastArchived: NOW - 86_400 }))).toBe(false);
    });

    it('fires when the newest archive attempt failed, or segments pile up waiting for upload', () => {
      expect(fires(archiving, instance('orders-1', { lagSeconds: 0, lastArchived: NOW - 120, lastFailed: NOW - 10 }))).toBe(true);
      expect(fires(archiving, instance('orders-1', { lagSeconds: 0, lastArchived: NOW - 10, lastFailed: NOW - 120 }))).toBe(false);
      expect(fires(archiving, instance('orders-1', { lagSeconds: 0, ready: 6 }))).toBe(true);
      expect(fires(archiving, instance('orders-1', { lagSeconds: 0, ready: 1 }))).toBe(false);
    });

    it('warns when the heartbeat stops (the standby could no longer tell idle from stalled)', () => {
      expect(fires(beat, heartbeat(NOW - 60))).toBe(false);
      expect(fires(beat, heartbeat(NOW - HEARTBEAT_STALE_SECONDS - 1))).toBe(true);
      expect(fires(beat, heartbeat(undefined))).toBe(true);
    });
  });
});
