/* eslint-disable @typescript-eslint/no-explicit-any -- walks parsed YAML */
import { defaultPlatform, ETCD_SNAPSHOT_METRIC } from '@platform/platform-config';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { availabilityAlerts, etcdSnapshotStaleSeconds, fluxAlerts, replicationAlerts, synthClusterTree, walArchiveAlerts } from '../src';
import { evaluate, promqlSyntaxErrors, selectedMetrics, type Sample } from './promql';

const platform = defaultPlatform();
const ZONE = 'label_topology_kubernetes_io_zone';

/** Every PrometheusRule rule of every cluster, as Flux will apply it. */
const rules = platform.clusters.flatMap((cluster) =>
  Object.entries(synthClusterTree(platform, cluster.name)).flatMap(([file, content]) =>
    parseAllDocuments(content)
      .map((d) => d.toJS() as any)
      .filter((o) => o?.kind === 'PrometheusRule')
      .flatMap((o) => o.spec.groups.flatMap((g: any) => g.rules.map((r: any) => ({ cluster: cluster.name, file, alert: r.alert as string, expr: String(r.expr) })))),
  ),
);
const BACKUPS = { etcdSnapshotIntervalMinutes: 15 };
const exprOf = (alert: string, backups = BACKUPS) => availabilityAlerts({ for: '5m', zoneImbalanceNodes: 2 }, backups).find((a) => a.alert === alert)!.expr;

// Synthetic kube-state-metrics and scrape series.
const node = (name: string, zone: string, ready: 'true' | 'false' | 'unknown'): Sample[] => [
  { labels: { __name__: 'kube_node_labels', node: name, [ZONE]: zone, job: 'kube-state-metrics' }, value: 1 },
  ...(['true', 'false', 'unknown'] as const).map((status) => ({
    labels: { __name__: 'kube_node_status_condition', node: name, condition: 'Ready', status, job: 'kube-state-metrics' },
    value: status === ready ? 1 : 0,
  })),
];
const etcd = (upMembers: number, members: number): Sample[] =>
  Array.from({ length: members }, (_, i) => ({ labels: { __name__: 'up', job: 'kube-etcd', instance: `10.0.${i}.10:2381` }, value: i < upMembers ? 1 : 0 }));
const zones = (counts: Record<string, { ready: number; notReady?: number; unknown?: number }>): Sample[] =>
  Object.entries(counts).flatMap(([zone, c]) => [
    ...Array.from({ length: c.ready }, (_, i) => node(`${zone}-ready-${i}`, zone, 'true')),
    ...Array.from({ length: c.notReady ?? 0 }, (_, i) => node(`${zone}-down-${i}`, zone, 'false')),
    ...Array.from({ length: c.unknown ?? 0 }, (_, i) => node(`${zone}-gone-${i}`, zone, 'unknown')),
  ]).flat();

describe('alert expressions', () => {
  it('finds the platform alerts in every cluster', () => {
    const orders = { name: 'orders', namespace: 'data' };
    const roleOf = (name: string) => platform.failoverRoleOf(platform.cluster(name))?.role ?? 'unpaired';
    // A failover primary also alerts on its archive in the standby region (wal-archive-alerts).
    const database = (name: string) => replicationAlerts(orders, roleOf(name)).length + (roleOf(name) === 'primary' ? walArchiveAlerts(orders, { sizeGiB: 48, walMiBPerMinute: 60, growthMiBPerMinute: 60 }).length : 0);
    const perCluster = availabilityAlerts({ for: '5m', zoneImbalanceNodes: 2 }, BACKUPS).length + fluxAlerts().length;
    expect(rules.length).toBe(platform.clusters.reduce((sum, c) => sum + perCluster + database(c.name), 0));
  });

  it.each(rules.map((r) => [r.cluster, r.alert, r.expr] as const))('%s %s parses as PromQL', (_cluster, _alert, expr) => {
    expect(promqlSyntaxErrors(expr)).toEqual([]);
  });

  it('the parser does reject broken PromQL', () => {
    expect(promqlSyntaxErrors('sum(rate(x[5m]) by')).not.toEqual([]);
    expect(promqlSyntaxErrors('count by (zone (up)')).not.toEqual([]);
    expect(promqlSyntaxErrors('up{job="kube-etcd"} == ')).not.toEqual([]);
  });

  it('selects only metrics kube-state-metrics, the etcd scrape, the flux-operator scrape (flux-alerts PodMonitor), CloudNativePG (postgres PodMonitor) and the kubelet (volume stats, kube-prometheus-stack\'s kubelet ServiceMonitor) export', () => {
    const metrics = [...new Set(rules.flatMap((r) => selectedMetrics(r.expr)))].sort();
    const cnpg = ['cnpg_pg_replication_lag', 'cnpg_pg_replication_in_recovery', 'cnpg_pg_stat_archiver_last_failed_time', 'cnpg_pg_stat_archiver_last_archived_time', 'cnpg_collector_pg_wal_archive_status'];
    const kubelet = ['kubelet_volume_stats_used_bytes', 'kubelet_volume_stats_capacity_bytes'];
    expect(metrics).toEqual(['etcd_server_has_leader', ETCD_SNAPSHOT_METRIC.name, 'kube_node_labels', 'kube_node_status_condition', 'kube_pod_status_unschedulable', 'kube_cronjob_status_last_successful_time', 'up', 'flux_resource_info', ...cnpg, ...kubelet].sort());
  });

  it("uses each cluster's own snapshot interval in EtcdSnapshotStale", () => {
    for (const cluster of platform.clusters) {
      const rule = rules.find((r) => r.cluster === cluster.name && r.alert === 'EtcdSnapshotStale')!;
      expect(rule.expr).toBe(exprOf('EtcdSnapshotStale', cluster.backups));
      expect(rule.expr).toContain(`> ${cluster.backups.etcdSnapshotIntervalMinutes * 120}`);
    }
  });
});

describe('alert semantics on synthetic series', () => {
  it('NodesNotReadyInZone: counts not-Ready nodes (False or Unknown) per zone, through kube_node_labels', () => {
    const expr = exprOf('NodesNotReadyInZone');
    expect(evaluate(expr, zones({ a: { ready: 3 }, b: { ready: 3 }, c: { ready: 3 } }))).toEqual([]);
    expect(evaluate(expr, zones({ a: { ready: 3 }, b: { ready: 1, notReady: 1, unknown: 1 }, c: { ready: 2, unknown: 1 } }))).toEqual([
      { labels: { [ZONE]: 'b' }, value: 2 },
      { labels: { [ZONE]: 'c' }, value: 1 },
    ]);
  });

  it.each([
    [3, 3, false],
    [2, 3, true],
    [1, 3, true],
    [0, 3, true],
    [5, 5, false],
    [4, 5, false],
    [3, 5, true],
    [1, 1, false],
  ])('EtcdQuorumAtRisk: %i of %i members up → fires %s', (up, members, fires) => {
    expect(evaluate(exprOf('EtcdQuorumAtRisk'), etcd(up, members)).length > 0).toBe(fires);
  });

  it('EtcdNoLeader: fires for the member without a leader', () => {
    const series = [0, 1, 1].map((v, i) => ({ labels: { __name__: 'etcd_server_has_leader', job: 'kube-etcd', instance: `m${i}` }, value: v }));
    expect(evaluate(exprOf('EtcdNoLeader'), series).map((s) => s.labels.instance)).toEqual(['m0']);
  });

  it.each([
    [{ a: { ready: 3 }, b: { ready: 3 }, c: { ready: 2 } }, false],
    [{ a: { ready: 3 }, b: { ready: 3 }, c: { ready: 1 } }, true],
    // A zone whose nodes are all down still counts, as zero Ready nodes.
    [{ a: { ready: 2 }, b: { ready: 2 }, c: { ready: 0, unknown: 2 } }, true],
    [{ a: { ready: 2, notReady: 5 }, b: { ready: 2 }, c: { ready: 2 } }, false],
  ])('ZoneImbalance on %j → fires %s', (counts, fires) => {
    expect(evaluate(exprOf('ZoneImbalance'), zones(counts)).length > 0).toBe(fires);
  });

  it('ZoneImbalance uses the configured node difference', () => {
    const expr = availabilityAlerts({ for: '5m', zoneImbalanceNodes: 3 }, BACKUPS).find((a) => a.alert === 'ZoneImbalance')!.expr;
    expect(evaluate(expr, zones({ a: { ready: 3 }, b: { ready: 3 }, c: { ready: 1 } }))).toEqual([]);
    expect(evaluate(expr, zones({ a: { ready: 4 }, b: { ready: 3 }, c: { ready: 1 } }))).toEqual([{ labels: {}, value: 3 }]);
  });

  it('PodsUnschedulable: per namespace', () => {
    const pod = (ns: string, v: number) => ({ labels: { __name__: 'kube_pod_status_unschedulable', namespace: ns, pod: `${ns}-${v}` }, value: v });
    expect(evaluate(exprOf('PodsUnschedulable'), [pod('web', 1), pod('web', 0), pod('data', 0)])).toEqual([{ labels: { namespace: 'web' }, value: 1 }]);
  });

  describe('EtcdSnapshotStale (textfile metric of the uploading node, 15 min interval)', () => {
    const NOW = Date.UTC(2025, 5, 30, 12) / 1000;
    const expr = exprOf('EtcdSnapshotStale');
    // node-exporter on each control-plane node exports the file that node last wrote, every scrape.
    const scraped = (files: Record<string, number>, from = NOW - 3600): Sample[] =>
      Object.entries(files).flatMap(([instance, uploaded]) =>
        Array.from({ length: (NOW - from) / 30 + 1 }, (_, i) => ({ labels: { __name__: ETCD_SNAPSHOT_METRIC.name, job: 'node-exporter', instance }, value: uploaded, at: from + i * 30 })),
      );
    const fires = (series: Sample[]) => evaluate(expr, series, NOW).length > 0;

    it('stays quiet while the newest upload, on any node, is within two intervals', () => {
      expect(etcdSnapshotStaleSeconds(BACKUPS)).toBe(1800);
      expect(fires(scraped({ 'cp-a': NOW - 600 }))).toBe(false);
      // The old leader's file stays behind after a leader change: the newest counts.
      expect(fires(scraped({ 'cp-a': NOW - 7200, 'cp-b': NOW - 1700 }))).toBe(false);
    });

    it('fires once the newest upload is older than two intervals (a leader that cannot upload)', () => {
      expect(fires(scraped({ 'cp-a': NOW - 1801 }))).toBe(true);
      expect(evaluate(expr, scraped({ 'cp-a': NOW - 7200, 'cp-b': NOW - 3600 }), NOW)).toEqual([{ labels: {}, value: 3600 }]);
    });

    it('fires when no node has exported the metric for two intervals, not for a shorter gap', () => {
      expect(evaluate(expr, [], NOW)).toEqual([{ labels: {}, value: 1 }]);
      // Every control-plane node replaced 20 minutes ago: the new leader has not uploaded yet.
      expect(fires(scraped({ 'cp-a': NOW - 1500 }, NOW - 3600).filter((s) => s.at! <= NOW - 1200))).toBe(false);
      expect(fires(scraped({ 'cp-a': NOW - 1500 }, NOW - 3600).filter((s) => s.at! <= NOW - 1850))).toBe(true);
    });

    it('uses the interval of the definition', () => {
      const hourly = exprOf('EtcdSnapshotStale', { etcdSnapshotIntervalMinutes: 60 });
      expect(evaluate(hourly, scraped({ 'cp-a': NOW - 5400 }), NOW)).toEqual([]);
      expect(evaluate(hourly, scraped({ 'cp-a': NOW - 7300 }), NOW)).toEqual([{ labels: {}, value: 7300 }]);
    });
  });
});
