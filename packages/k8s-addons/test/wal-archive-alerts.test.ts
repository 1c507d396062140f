/* eslint-disable @typescript-eslint/no-explicit-any -- parsed YAML is read field by field */
import { defaultPlatform, REGIONAL_RPO_SECONDS, WAL_ARCHIVE_TIMEOUT_SECONDS, WAL_ARCHIVER_BOUND_SECONDS } from '@platform/platform-config';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { synthClusterTree, walArchiveAlerts, walVolumeGiB } from '../src';

import { evaluate, promqlSyntaxErrors, type Sample } from './promql';

const platform = defaultPlatform();
const NOW = 1_800_000_000;
const rulesOf = (cluster: string) =>
  parseAllDocuments(synthClusterTree(platform, cluster)['apps/postgres.yaml']!)
    .map((d) => d.toJS() as any)
    .find((o) => o.kind === 'PrometheusRule').spec.groups[0].rules as { alert: string; expr: string; for: string }[];
const rule = (alert: string) => rulesOf('production').find((r) => r.alert === alert)!;

/**
 * `cnpg_pg_stat_archiver_seconds_since_last_archival` per instance as CloudNativePG's default
 * `pg_stat_archiver` query serves it: now − last_archived_time on the primary, -1 on an instance
 * that never archived (the in-region replicas).
 */
const archiver = (primarySeconds: number): Sample[] =>
  ['orders-1', 'orders-2', 'orders-3'].map((pod, i) => ({
    labels: { __name__: 'cnpg_pg_stat_archiver_seconds_since_last_archival', namespace: 'data', cnpg_cluster: 'orders', pod },
    value: i === 0 ? primarySeconds : -1,
    at: NOW,
  }));
/** kubelet's volume stats for the WAL PVCs CloudNativePG names `<cluster>-<n>-wal` (and the data PVCs beside them). */
const volumes = (walUsedGiB: number, capacityGiB: number): Sample[] =>
  ['orders-1-wal', 'orders-1', 'orders-2-wal'].flatMap((pvc) => [
    { labels: { __name__: 'kubelet_volume_stats_used_bytes', namespace: 'data', persistentvolumeclaim: pvc }, value: (pvc === 'orders-1-wal' ? walUsedGiB : pvc === 'orders-1' ? capacityGiB * 0.9 : 1) * 2 ** 30, at: NOW },
    { labels: { __name__: 'kubelet_volume_stats_capacity_bytes', namespace: 'data', persistentvolumeclaim: pvc }, value: capacityGiB * 2 ** 30, at: NOW },
  ]);

describe('the primary\'s archive in the standby region', () => {
  it('is alerted on production (the primary) only, with valid PromQL', () => {
    expect(rulesOf('production').map((r) => r.alert)).toEqual(expect.arrayContaining(['DatabaseWalArchiveLate', 'DatabaseWalVolumeHalfFull']));
    for (const cluster of ['dr', 'staging']) expect(rulesOf(cluster).map((r) => r.alert)).not.toContain('DatabaseWalArchiveLate');
    for (const r of walArchiveAlerts({ name: 'orders', namespace: 'data' })) expect(promqlSyntaxErrors(r.expr)).toEqual([]);
  });

  it('pages when the newest archived segment is older than archive_timeout + the archiver bound, before the regional RPO is crossed', () => {
    const late = rule('DatabaseWalArchiveLate');
    const bound = WAL_ARCHIVE_TIMEOUT_SECONDS + WAL_ARCHIVER_BOUND_SECONDS;
    expect(evaluate(late.expr, archiver(bound), NOW)).toEqual([]);
    expect(evaluate(late.expr, archiver(bound + 1), NOW)).toEqual([{ labels: { namespace: 'data', cnpg_cluster: 'orders' }, value: bound + 1 }]);
    // The replicas' -1 never hides or raises it; a healthy primary (a segment a minute) stays quiet.
    expect(evaluate(late.expr, archiver(WAL_ARCHIVE_TIMEOUT_SECONDS), NOW)).toEqual([]);
    // Firing needs `for`: the loss when it pages is bound + for, inside production's objective.
    const forSeconds = Number(/^(\d+)m$/.exec(late.for)![1]) * 60;
    expect(bound + forSeconds).toBeLessThanOrEqual(platform.cluster('production').objectives.regionRpoSeconds!);
    expect(bound).toBe(REGIONAL_RPO_SECONDS);
  });

  it('sizes the WAL volume for 12 h of unreachable archive and alerts at half of it, on the WAL volumes only', () => {
    const cluster = parseAllDocuments(synthClusterTree(platform, 'production')['apps/postgres.yaml']!).map((d) => d.toJS() as any).find((o) => o.kind === 'Cluster');
    const gib = walVolumeGiB(16, 12);
    expect(cluster.spec.walStorage.size).toBe(`${gib}Gi`);
    // 12 h × 60 switched 16 MiB segments (archive_timeout 60 s with the heartbeat) = 11.25 GiB, + 1 GiB max_wal_size, + 10 %.
    expect(gib).toBe(14);
    const half = rule('DatabaseWalVolumeHalfFull').expr;
    expect(evaluate(half, volumes(gib * 0.4, gib), NOW)).toEqual([]);
    expect(evaluate(half, volumes(gib * 0.6, gib), NOW)).toEqual([{ labels: { namespace: 'data', persistentvolumeclaim: 'orders-1-wal' }, value: expect.closeTo(0.6, 5) }]);
  });

  it('sizes for a WAL rate above one segment a minute by whole segments', () => {
    // 40 MiB/min: 3 segments a minute, 12 h = 33.75 GiB + 1 GiB, + 10 %.
    expect(walVolumeGiB(40, 12)).toBe(39);
    expect(walVolumeGiB(1, 1)).toBe(3);
  });
});
