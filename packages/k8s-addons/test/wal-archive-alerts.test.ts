/* eslint-disable @typescript-eslint/no-explicit-any -- parsed YAML is read field by field */
import { defaultPlatform, WAL_ARCHIVE_TIMEOUT_SECONDS, WAL_ARCHIVER_BOUND_SECONDS } from '@platform/platform-config';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { REPLICATION_LAG_TIMING, synthClusterTree, walArchiveAlerts, walBacklogPageExposureSeconds, walRunwayHours, walVolumeGiB } from '../src';

import { evaluate, promqlSyntaxErrors, type Sample } from './promql';

const platform = defaultPlatform();
const NOW = 1_800_000_000;
const rulesOf = (cluster: string) =>
  parseAllDocuments(synthClusterTree(platform, cluster)['apps/postgres.yaml']!)
    .map((d) => d.toJS() as any)
    .find((o) => o.kind === 'PrometheusRule').spec.groups[0].rules as { alert: string; expr: string; for: string; annotations: { summary: string } }[];
const rule = (alert: string) => rulesOf('production').find((r) => r.alert === alert)!;
const objective = platform.cluster('production').objectives.regionRpoSeconds!;

/** kubelet's volume stats for the WAL PVCs CloudNativePG names `<cluster>-<n>-wal` (and the data PVCs beside them). */
const volumes = (walUsedGiB: number, capacityGiB: number): Sample[] =>
  ['orders-1-wal', 'orders-1', 'orders-2-wal'].flatMap((pvc) => [
    { labels: { __name__: 'kubelet_volume_stats_used_bytes', namespace: 'data', persistentvolumeclaim: pvc }, value: (pvc === 'orders-1-wal' ? walUsedGiB : pvc === 'orders-1' ? capacityGiB * 0.9 : 1) * 2 ** 30, at: NOW },
    { labels: { __name__: 'kubelet_volume_stats_capacity_bytes', namespace: 'data', persistentvolumeclaim: pvc }, value: capacityGiB * 2 ** 30, at: NOW },
  ]);

/**
 * PostgreSQL's archiver as it behaves: archive_timeout switches a segment every 60 s (the heartbeat
 * writes), each switched segment gets a `.ready` marker, and archive_command works through them
 * oldest first, one at a time (CloudNativePG's default maxParallel 1), `uploadSeconds` each; while
 * the store is unreachable (`outage`) nothing is stored. What a region loss loses at `t` is everything
 * after the last segment stored with all segments before it.
 */
function archiver(uploadSeconds: number, outage?: { from: number; to: number }, horizon = 7200) {
  const every = WAL_ARCHIVE_TIMEOUT_SECONDS;
  const done: number[] = [];
  let free = 0;
  for (let k = 0; (k + 1) * every <= horizon; k++) {
    let start = Math.max(free, (k + 1) * every);
    if (outage && start < outage.to && start + uploadSeconds > outage.from) start = Math.max(start, outage.to);
    free = start + uploadSeconds;
    done.push(free);
  }
  const switched = (t: number) => Math.floor(t / every);
  const stored = (t: number) => done.filter((d) => d <= t).length;
  return {
    /** `.ready` segments on the primary (cnpg_collector_pg_wal_archive_status{value="ready"}). */
    ready: (t: number) => switched(t) - stored(t),
    /** now − last_archived_time (cnpg_pg_stat_archiver_seconds_since_last_archival). */
    sinceLastArchival: (t: number) => (stored(t) === 0 ? t : t - Math.max(...done.filter((d) => d <= t))),
    /** Seconds of writes a loss of the region at `t` loses. */
    exposure: (t: number) => t - stored(t) * every,
  };
}

/**
 * Prometheus and Alertmanager around one rule: a scrape every 30 s, an evaluation every 30 s (each
 * at its own phase), `for` counted from the first evaluation that saw the condition, the
 * notification group_wait after the alert fires. Returns when the page goes out, if it does.
 */
function pageTime(expr: string, forSeconds: number, sample: (t: number) => Sample[], phase: { scrape: number; evaluation: number }, horizon = 7200): number | undefined {
  const t = REPLICATION_LAG_TIMING;
  let pendingSince: number | undefined;
  for (let e = phase.evaluation; e <= horizon; e += t.evaluationIntervalSeconds) {
    const scrapedAt = Math.floor((e - phase.scrape) / t.scrapeIntervalSeconds) * t.scrapeIntervalSeconds + phase.scrape;
    const firing = scrapedAt >= 0 && evaluate(expr, sample(scrapedAt).map((s) => ({ ...s, at: NOW + scrapedAt })), NOW + e).length > 0;
    if (!firing) pendingSince = undefined;
    else if (pendingSince === undefined) pendingSince = e;
    if (pendingSince !== undefined && e - pendingSince >= forSeconds) return e + t.groupWaitSeconds;
  }
  return undefined;
}
const phases = [0, 10, 20].flatMap((scrape) => [0, 10, 20].map((evaluation) => ({ scrape, evaluation })));
const forOf = (r: { for: string }) => Number(/^(\d+)m$/.exec(r.for)![1]) * 60;
const pod = (i: number) => ({ namespace: 'data', cnpg_cluster: 'orders', pod: `orders-${i + 1}` });
/** The primary reports the archiver; the two replicas never archive (ready 0, since_last_archival -1). */
const readySamples = (a: ReturnType<typeof archiver>) => (t: number): Sample[] =>
  [0, 1, 2].map((i) => ({ labels: { __name__: 'cnpg_collector_pg_wal_archive_status', value: 'ready', ...pod(i) }, value: i === 0 ? a.ready(t) : 0 }));
const sinceSamples = (a: ReturnType<typeof archiver>) => (t: number): Sample[] =>
  [0, 1, 2].map((i) => ({ labels: { __name__: 'cnpg_pg_stat_archiver_seconds_since_last_archival', ...pod(i) }, value: i === 0 ? a.sinceLastArchival(t) : -1 }));
/** The rule this replaces: time since the last successful archival above archive_timeout + the archiver bound. */
const OLD_LATE = `max by (namespace, cnpg_cluster) (cnpg_pg_stat_archiver_seconds_since_last_archival{namespace="data",cnpg_cluster="orders"}) > ${WAL_ARCHIVE_TIMEOUT_SECONDS + WAL_ARCHIVER_BOUND_SECONDS}`;

describe('the primary\'s archive in the standby region', () => {
  it('is alerted on production (the primary) only, with valid PromQL', () => {
    expect(rulesOf('production').map((r) => r.alert)).toEqual(expect.arrayContaining(['DatabaseWalArchiveLate', 'DatabaseWalVolumeHalfFull']));
    for (const cluster of ['dr', 'staging']) expect(rulesOf(cluster).map((r) => r.alert)).not.toContain('DatabaseWalArchiveLate');
    for (const r of walArchiveAlerts({ name: 'orders', namespace: 'data' }, { sizeGiB: 48, walMiBPerMinute: 60, growthMiBPerMinute: 60 })) expect(promqlSyntaxErrors(r.expr)).toEqual([]);
  });

  it('stays quiet for a healthy archiver (a few seconds per segment) over two hours', () => {
    const late = rule('DatabaseWalArchiveLate');
    for (const phase of phases) expect(pageTime(late.expr, forOf(late), readySamples(archiver(5)), phase)).toBeUndefined();
  });

  it('pages a stalled archiver before the regional RPO objective is crossed, scrape + evaluation + for + group_wait counted', () => {
    const late = rule('DatabaseWalArchiveLate');
    const a = archiver(5, { from: 1800, to: 7200 });
    const worst = Math.max(...phases.map((phase) => a.exposure(pageTime(late.expr, forOf(late), readySamples(a), phase)!)));
    expect(worst).toBeLessThanOrEqual(walBacklogPageExposureSeconds());
    expect(walBacklogPageExposureSeconds()).toBe(270);
    expect(walBacklogPageExposureSeconds()).toBeLessThanOrEqual(objective);
  });

  it('pages a slow archiver (75 s a segment, one switched every 60 s) that the time since the last archival never shows', () => {
    const late = rule('DatabaseWalArchiveLate');
    const a = archiver(75);
    // It succeeds every 75 s: the old rule never fires, while the exposure grows 15 s a minute without bound.
    for (const phase of phases) expect(pageTime(OLD_LATE, 60, sinceSamples(a), phase)).toBeUndefined();
    expect(a.exposure(7200)).toBeGreaterThan(objective * 4);
    for (const phase of phases) {
      const paged = pageTime(late.expr, forOf(late), readySamples(a), phase)!;
      expect(paged).toBeDefined();
      expect(a.exposure(paged)).toBeLessThanOrEqual(objective);
    }
  });

  it('keeps paging through a catch-up backlog after an outage, when the last archival is seconds old again', () => {
    const late = rule('DatabaseWalArchiveLate');
    // 30 min unreachable, then 20 s a segment: 30 queued segments take 10+ min to clear.
    const a = archiver(20, { from: 600, to: 2400 });
    const at = 2400 + 180;
    expect(a.sinceLastArchival(at)).toBeLessThan(WAL_ARCHIVE_TIMEOUT_SECONDS);
    expect(evaluate(OLD_LATE, sinceSamples(a)(at), NOW + at)).toEqual([]);
    expect(a.exposure(at)).toBeGreaterThan(objective);
    expect(evaluate(late.expr, readySamples(a)(at), NOW + at)).toEqual([{ labels: { namespace: 'data', cnpg_cluster: 'orders' }, value: a.ready(at) }]);
  });

  it('sizes the WAL volume from platform-config\'s WAL rate for 12 h of unreachable archive and alerts at half of it with the hours left', () => {
    const cluster = parseAllDocuments(synthClusterTree(platform, 'production')['apps/postgres.yaml']!).map((d) => d.toJS() as any).find((o) => o.kind === 'Cluster');
    const rate = platform.cluster('production').backups.databaseWalMiBPerMinute;
    const gib = walVolumeGiB(rate, 12);
    expect(cluster.spec.walStorage.size).toBe(`${gib}Gi`);
    // 60 MiB/min × 720 min = 42.19 GiB, + 1 GiB max_wal_size, + 10 % → 48 GiB: a 13.4 h runway, 6.8 h left at half full.
    expect(gib).toBe(48);
    expect(walRunwayHours(gib, rate)).toBeCloseTo(13.37, 2);
    expect(rule('DatabaseWalVolumeHalfFull').annotations.summary).toContain('At 60 MiB/min its 48 GiB leave about 6.8 h; when it is full PostgreSQL PANICs and the primary shuts down');
    const half = rule('DatabaseWalVolumeHalfFull').expr;
    expect(evaluate(half, volumes(gib * 0.4, gib), NOW)).toEqual([]);
    expect(evaluate(half, volumes(gib * 0.6, gib), NOW)).toEqual([{ labels: { namespace: 'data', persistentvolumeclaim: 'orders-1-wal' }, value: expect.closeTo(0.6, 5) }]);
  });

  it('sizes below one segment a minute for the heartbeat\'s switches, above it for the rate', () => {
    // 16 MiB/min or less: one whole 16 MiB segment a minute, 12 h = 11.25 GiB + 1 GiB, + 10 %.
    expect(walVolumeGiB(1, 12)).toBe(14);
    expect(walVolumeGiB(16, 12)).toBe(14);
    // 40 MiB/min: 28.1 GiB + 1 GiB, + 10 %.
    expect(walVolumeGiB(40, 12)).toBe(33);
  });
});
