import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_OBJECTIVES, formatMarkdown, runHaCheck, type AzScenario, type Objectives, type RegionScenario } from '../src';
import { syntheticCluster, writeSyntheticCluster, type SyntheticClusterOptions } from '../bench/synthetic-cluster';
import { PRIMARY_OBJECTIVES, REGION_MODES } from './fixtures/region-failover';
import { tempDir, writeFixture } from './helpers';

/** Adds to the fixture's apps a CloudNativePG Cluster archiving its WAL to `destinationPath` at least every minute. */
function addArchivedDatabase(manifests: string, destinationPath: string, endpointURL?: string): void {
  const store = { destinationPath, ...(endpointURL ? { endpointURL } : {}) };
  const cluster = { apiVersion: 'postgresql.cnpg.io/v1', kind: 'Cluster', metadata: { name: 'orders', namespace: 'apps' }, spec: { instances: 3, storage: { size: '20Gi' }, postgresql: { parameters: { archive_timeout: '60s' } }, backup: { barmanObjectStore: store } } };
  appendFileSync(join(manifests, 'apps', 'resources.yaml'), `---\n${JSON.stringify(cluster)}\n`);
}

function check(options: SyntheticClusterOptions, objectives: Objectives, standby?: SyntheticClusterOptions) {
  const paths = writeFixture(options);
  const standbyTerraform = standby ? [writeSyntheticCluster(tempDir(), syntheticCluster({ name: 'dr', region: 'ap-northeast-1', replicaRegion: 'ap-northeast-2', ...standby })).terraform] : undefined;
  const report = runHaCheck({ terraform: [paths.terraform], manifests: paths.manifests, objectives, standbyTerraform, cluster: 'fixture' });
  return { report, region: report.scenarios.find((s) => s.kind === 'region-loss') as RegionScenario };
}

describe('region failover modes', () => {
  it.each(REGION_MODES.map((m) => [m.name, m] as const))('%s', (_name, mode) => {
    const { report } = check(mode.options, mode.objectives);
    const region = report.findings.filter((f) => f.id.startsWith('region.') && f.severity !== 'info');
    if (!mode.finding) {
      expect(region).toEqual([]);
      expect(report.summary.objectivesMet).toBe(true);
      return;
    }
    const finding = report.findings.find((f) => f.id === mode.finding?.id);
    expect(finding, JSON.stringify(report.findings.map((f) => f.id))).toMatchObject({ severity: mode.finding.severity, scenarios: ['region-loss'] });
    expect(finding?.message).toMatch(mode.finding.message);
    expect(finding?.fix.length).toBeGreaterThan(10);
    expect(report.summary.objectivesMet).toBe(mode.finding.severity !== 'error');
  });
});

describe('the region scenario of a primary with full failover', () => {
  const { region } = check({ dns: { role: 'PRIMARY' } }, PRIMARY_OBJECTIVES, { dns: { role: 'SECONDARY' } });

  it('reports the failover record, its health check, detection time and the alias TTL', () => {
    expect(region.dnsFailover).toEqual({
      record: 'fixture-cluster/aws_route53_record.app',
      name: 'app.hakube.example.com',
      role: 'PRIMARY',
      expectedRole: 'PRIMARY',
      setIdentifier: 'fixture',
      target: 'fixture-ingress',
      healthCheck: { type: 'HTTP', fqdn: 'fixture-ingress', port: 80, resourcePath: '/ping', requestIntervalSeconds: 10, failureThreshold: 3 },
      detectionSeconds: 30,
      ttlSeconds: 60,
      ttlSource: 'alias-load-balancer',
      standbyRecord: { role: 'SECONDARY', healthCheck: true, target: 'dr-ingress' },
    });
  });

  it('adds detection, promotion and TTL into the regional RTO, and holds it to the objective', () => {
    // The standby already runs the primary's 2 workers per AZ and no database archives; no decision strategy in
    // the fixture's objectives (the runbook's 600 s); preflight, verify-app and open-standby from what the tool does.
    expect(region.rto).toEqual({ detectionSeconds: 30, promotionSeconds: 825, dnsTtlSeconds: 60, seconds: 915, objectiveSeconds: 2400 });
    expect(region.promotion?.phases).toEqual({ decision: 600, preflight: 140, 'scale-workers': 0, 'nodes-ready': 0, 'promote-database': 0, 'verify-app': 47, 'open-standby': 38 });
    expect(region.promotion?.basis).toEqual([
      'preflight 140 s: workflow start 120 [assumed] + 13 calls of preflight, archive-freshness, mark-promoted, scale-workers (issued), recheck-primary at 1.5 s [assumed] (no polls)',
      "scale-workers, nodes-ready: 0 s, the standby already runs the primary's minimum (general: 2 → 2 per ASG)",
      'promote-database: 0 s, no database archives WAL',
      'verify-app 47 s: pod start on a standing node 30 [assumed] + readiness 5 (periodSeconds) + 8 calls 12 (rollout status watches, no poll; the probe answers at once behind the running ingress)',
      "open-standby 38 s: fence-primary and open-standby's 5 calls 8, then the standby's Route 53 check must pass 3 × 10 s once pointed at the app",
      'decision 600 s: a person confirms the regional outage and starts the workflow (runbook upper bound)',
    ]);
    // RPO: the promotion keeps dr's own etcd and the fixture has no database: nothing restored, so no replication lag counts either.
    expect(region).toMatchObject({ survives: true, problems: [], standbyCluster: 'dr', standbyRegion: 'ap-northeast-1', rpoMinutes: 0, rpo: { etcdRestored: false, etcdMinutes: undefined, databaseMinutes: undefined, replicationLagMinutes: 0, minutes: 0 } });
    expect(region.promotion?.workflow).toBe('.github/workflows/region-failover.yml');
  });

  it("takes the scale-up off the critical path when the pilot light's standing workers place the primary's pods", () => {
    const { region: smaller, report } = check({ dns: { role: 'PRIMARY' } }, PRIMARY_OBJECTIVES, { dns: { role: 'SECONDARY' }, workersPerAz: { min: 1, max: 10 } });
    expect(smaller.promotion?.phases).toMatchObject({ preflight: 144, 'scale-workers': 0, 'nodes-ready': 0, 'verify-app': 47 });
    expect(smaller.promotion?.basis?.[1]).toBe(
      "scale-workers, nodes-ready: 0 s on the critical path: 3 worker(s) (general: 1 → 2 per ASG) are requested and not awaited; the pilot light's 3 standing worker(s) place all 13 pods of the primary's footprint; nodes-ready runs last, after users moved",
    );
    expect(report.findings.find((f) => f.id === 'region.standby-standing-capacity')).toBeUndefined();
  });

  it("puts the scale-up back on the critical path, and says so, when the standing workers cannot place the primary's pods", () => {
    // 6 × 2.5 CPU: one per node on the primary's 6 workers; the standby's 3 standing workers take 3.
    const heavy = [{ name: 'orders-api', replicas: 6, cpu: '2500m' }];
    const { region: short, report } = check({ dns: { role: 'PRIMARY' }, apps: heavy }, PRIMARY_OBJECTIVES, { dns: { role: 'SECONDARY' }, workersPerAz: { min: 1, max: 10 }, apps: heavy });
    expect(short.promotion?.phases).toMatchObject({ 'scale-workers': 300, 'nodes-ready': 60, 'verify-app': 120 });
    expect(short.promotion?.basis?.[1]).toBe(
      "scale-workers 300 s + nodes-ready 60 s on the critical path: 3 worker(s) to launch (general: 1 → 2 per ASG) within the ASGs' bootstrap budget (health_check_grace_period); the pilot light's 3 standing worker(s) leave Deployment/apps/orders-api ×3 pending, so verify-app's rollout waits for the new nodes",
    );
    expect(short.rto.promotionSeconds).toBe(600 + 144 + 300 + 60 + 0 + 120 + 38);
    expect(report.findings.find((f) => f.id === 'region.standby-standing-capacity')).toMatchObject({ severity: 'warning', subject: 'dr' });
    expect(report.findings.find((f) => f.id === 'region.standby-standing-capacity')?.message).toMatch(/^the pilot light's 3 standing worker\(s\) leave Deployment\/apps\/orders-api ×3 \(.+\) pending: the promotion waits for 3 new worker\(s\), and the scale-up is back on the regional RTO's critical path$/);
  });

  it('takes the decision from the strategy platform-config declares, each term labelled policy or assumed', () => {
    const decision = { kind: 'pre-authorised', seconds: 120, terms: [{ name: 'authorisation window', seconds: 120, source: 'policy' as const, why: 'w' }, { name: 'acknowledge', seconds: 90, source: 'assumed' as const, why: 'a' }] };
    const { region: decided } = check({ dns: { role: 'PRIMARY' } }, { ...PRIMARY_OBJECTIVES, failoverDecision: decision }, { dns: { role: 'SECONDARY' } });
    expect(decided.promotion?.phases?.decision).toBe(120);
    expect(decided.promotion?.basis?.[0]).toBe('decision 120 s (platform-config failover.decision, pre-authorised, the longer of its terms): authorisation window 120 s [policy]: w; acknowledge 90 s [assumed]: a');
    expect(decided.promotion?.basis?.some((b) => b.includes('runbook upper bound'))).toBe(false);
  });

  it('finds a standby whose ASG maximum is below the size the promotion sets', () => {
    const { report } = check({ dns: { role: 'PRIMARY' } }, PRIMARY_OBJECTIVES, { dns: { role: 'SECONDARY' }, workersPerAz: { min: 1, max: 1 } });
    expect(report.findings.find((f) => f.id === 'region.standby-capacity-short')).toMatchObject({
      severity: 'error',
      subject: 'dr-general-a',
      message: "the promotion sizes dr-general-a to 2 node(s) (the primary's minimum for its pool) but its max_size is 1: the promotion stops there",
    });
  });

  it('counts S3 replication lag in the RPO: RTC\'s 15 min bound when on, a warning when off', () => {
    expect(check({ dns: { role: 'PRIMARY' } }, PRIMARY_OBJECTIVES).report.findings.find((f) => f.id === 'backup.replication-lag-unbounded')).toMatchObject({
      severity: 'warning',
      subject: 'hakube-fixture-etcd-backups-ap-northeast-2',
      message: 'S3 replication without Replication Time Control has no time bound (most objects within 15 min, some hours): the regional RPO counts the typical 15 min',
    });
    const paths = writeFixture({ dns: { role: 'PRIMARY' } });
    const file = join(paths.terraform, 'cdk.tf.json');
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { resource: Record<string, Record<string, { rule: Array<{ destination: Record<string, unknown> }> }>> };
    for (const cfg of Object.values(doc.resource.aws_s3_bucket_replication_configuration)) {
      for (const rule of cfg.rule) rule.destination = { ...rule.destination, replication_time: { status: 'Enabled', time: { minutes: 15 } }, metrics: { status: 'Enabled', event_threshold: { minutes: 15 } } };
    }
    writeFileSync(file, JSON.stringify(doc));
    // The database archives into the replicated bucket: its replication carries what the promotion restores.
    addArchivedDatabase(paths.manifests, 's3://hakube-fixture-etcd-backups-ap-northeast-2/postgres/orders');
    const report = runHaCheck({ terraform: [paths.terraform], manifests: paths.manifests, objectives: PRIMARY_OBJECTIVES, cluster: 'fixture' });
    expect(report.findings.find((f) => f.id === 'backup.replication-lag-unbounded')).toBeUndefined();
    expect((report.scenarios.find((s) => s.kind === 'region-loss') as RegionScenario).rpo).toMatchObject({ etcdRestored: false, databaseMinutes: 1, replicationLagMinutes: 15, minutes: 16 });
  });

  it("an archive written straight into a bucket in the standby region is out of the region without any replication rule: the bucket's provider alias, or the Cluster's endpointURL, says where it is", () => {
    // production's WAL goes straight into its bucket in the standby region; the now-unneeded replication rule is gone.
    const paths = writeFixture({ dns: { role: 'PRIMARY' } });
    const file = join(paths.terraform, 'cdk.tf.json');
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { resource: Record<string, Record<string, unknown>> };
    doc.resource.aws_s3_bucket = { ...doc.resource.aws_s3_bucket, wal_archive: { provider: 'aws.replica', bucket: 'hakube-fixture-wal' } };
    writeFileSync(file, JSON.stringify(doc));
    addArchivedDatabase(paths.manifests, 's3://hakube-fixture-wal/orders');
    const report = runHaCheck({ terraform: [paths.terraform], manifests: paths.manifests, objectives: PRIMARY_OBJECTIVES, cluster: 'fixture' });
    const region = report.scenarios.find((s): s is RegionScenario => s.kind === 'region-loss') as RegionScenario;
    expect(report.findings.find((f) => f.id === 'backup.database-not-replicated')).toBeUndefined();
    expect(region.databaseArchives).toEqual([{ id: 'Cluster/apps/orders', destination: 's3://hakube-fixture-wal/orders', archiveTimeoutMinutes: 1, replicated: true, writtenToRegion: 'ap-northeast-1' }]);
    expect(region.rpo).toMatchObject({ etcdRestored: false, databaseMinutes: 1, archiverMinutes: 1, replicationLagMinutes: 0, minutes: 2 });
    // A bucket the Terraform does not declare: the Cluster's endpointURL names its region.
    const elsewhere = writeFixture({ dns: { role: 'PRIMARY' } });
    addArchivedDatabase(elsewhere.manifests, 's3://shared-wal/orders', 'https://s3.ap-northeast-1.amazonaws.com');
    const byEndpoint = runHaCheck({ terraform: [elsewhere.terraform], manifests: elsewhere.manifests, objectives: PRIMARY_OBJECTIVES, cluster: 'fixture' });
    expect(byEndpoint.findings.find((f) => f.id === 'backup.database-not-replicated')).toBeUndefined();
    expect((byEndpoint.scenarios.find((s) => s.kind === 'region-loss') as RegionScenario).databaseArchives[0]).toMatchObject({ replicated: true, writtenToRegion: 'ap-northeast-1' });
    // In the cluster's own region and not replicated: the database is lost with the region.
    const local = writeFixture({ dns: { role: 'PRIMARY' } });
    addArchivedDatabase(local.manifests, 's3://shared-wal/orders', 'https://s3.ap-northeast-2.amazonaws.com');
    const lost = runHaCheck({ terraform: [local.terraform], manifests: local.manifests, objectives: PRIMARY_OBJECTIVES, cluster: 'fixture' });
    expect(lost.findings.find((f) => f.id === 'backup.database-not-replicated')).toMatchObject({ subject: 'Cluster/apps/orders' });
  });

  it('finds a standby without a failover record', () => {
    const { report } = check({ dns: { role: 'PRIMARY' } }, PRIMARY_OBJECTIVES, {});
    expect(report.findings.find((f) => f.id === 'region.no-secondary-record')).toMatchObject({ severity: 'error', subject: 'dr' });
  });

  it('a regional RPO above the objective fails, with every term of the figure (replication lag included)', () => {
    // No standby: the region's loss is a restore elsewhere, etcd snapshots included.
    const { report } = check({ dns: { role: 'PRIMARY' } }, { ...PRIMARY_OBJECTIVES, standbyCluster: undefined, standbyRegion: undefined, promotion: undefined, regionRpoSeconds: undefined });
    const f = report.findings.find((x) => x.id === 'region.rpo-exceeded');
    expect(f).toMatchObject({ severity: 'error', subject: 'ap-northeast-2' });
    expect(f?.message).toBe('losing ap-northeast-2 loses up to 30 min = max(etcd 15 min) + replication lag 15 min, above the RPO of 15 min');
    expect(report.summary.objectivesMet).toBe(false);
    const region = report.scenarios.find((s): s is RegionScenario => s.kind === 'region-loss') as RegionScenario;
    expect(region.rpo).toMatchObject({ etcdRestored: true, minutes: 30, objectiveMinutes: 15 });
    expect(region.survives).toBe(false);
    expect(formatMarkdown(report)).toContain('30 min = max(etcd 15 min) + replication lag 15 min (objective 15 min: EXCEEDED)');
  });

  it("a promotion restores no etcd: the etcd bucket's replication lag does not count, only the databases' archives and theirs", () => {
    // No database and etcd not restored: nothing is restored, nothing is lost (the etcd bucket's 15 min lag is not a term).
    const met = check({ dns: { role: 'PRIMARY' } }, { ...PRIMARY_OBJECTIVES, regionRpoSeconds: 600 });
    expect(met.report.findings.find((x) => x.id === 'region.rpo-exceeded')).toBeUndefined();
    expect(met.region.rpo).toMatchObject({ etcdRestored: false, replicationLagMinutes: 0, minutes: 0 });
    // A database archiving into the replicated bucket: its archive_timeout plus that replication's lag.
    const paths = writeFixture({ dns: { role: 'PRIMARY' } });
    addArchivedDatabase(paths.manifests, 's3://hakube-fixture-etcd-backups-ap-northeast-2/postgres/orders');
    const tight = runHaCheck({ terraform: [paths.terraform], manifests: paths.manifests, objectives: { ...PRIMARY_OBJECTIVES, regionRpoSeconds: 600 }, cluster: 'fixture' });
    expect(tight.findings.find((x) => x.id === 'region.rpo-exceeded')?.message).toBe(
      'losing ap-northeast-2 loses up to 16 min = database 1 min + replication lag 15 min (etcd not restored: the standby runs its own control plane), above the regional RPO of 10 min',
    );
  });

  it("a standby that does not promise to survive its region (dr) is still held to the RPO objective: EXCEEDED is an error, never beside OBJECTIVES MET", () => {
    // dr: paired as the standby of a primary, tolerateRegionLoss off, rpoMinutes 15; losing its region restores etcd elsewhere.
    const standby: Objectives = { ...PRIMARY_OBJECTIVES, tolerateRegionLoss: false, regionRpoSeconds: undefined, standbyCluster: undefined, standbyRegion: undefined, primaryCluster: 'production', promotion: undefined };
    const { report, region } = check({ dns: { role: 'SECONDARY' } }, standby);
    expect(region.rpo).toMatchObject({ etcdRestored: true, minutes: 30, objectiveMinutes: 15 });
    expect(report.findings.find((f) => f.id === 'region.rpo-exceeded')).toMatchObject({ severity: 'error', subject: 'ap-northeast-2', scenarios: ['region-loss'] });
    expect(formatMarkdown(report)).toContain('(objective 15 min: EXCEEDED)');
    expect(report.summary.objectivesMet).toBe(false);
  });

  it('a cluster with no regional objective that applies (unpaired, no region promise, no regionRpoSeconds) prints no objective beside its regional RPO', () => {
    const { report, region } = check({}, { ...PRIMARY_OBJECTIVES, tolerateRegionLoss: false, regionRpoSeconds: undefined, standbyCluster: undefined, standbyRegion: undefined, promotion: undefined });
    expect(region.rpo).toMatchObject({ etcdRestored: true, minutes: 30, objectiveMinutes: undefined });
    expect(report.findings.find((f) => f.id === 'region.rpo-exceeded')).toBeUndefined();
    expect(formatMarkdown(report)).not.toContain('EXCEEDED');
  });

  it('a primary without the region promise gets warnings only', () => {
    const { report } = check({}, { ...PRIMARY_OBJECTIVES, tolerateRegionLoss: false, promotion: undefined });
    expect(report.findings.filter((f) => f.id.startsWith('region.')).map((f) => [f.id, f.severity])).toEqual([
      ['region.no-dns-failover', 'warning'],
      ['region.no-promotion-path', 'warning'],
    ]);
    expect(report.summary.objectivesMet).toBe(true);
  });

  it('a standby expects a SECONDARY record and has no standby of its own', () => {
    const standby: Objectives = { ...DEFAULT_OBJECTIVES, source: 'test:standby', primaryCluster: 'production', promotion: PRIMARY_OBJECTIVES.promotion };
    const ok = check({ dns: { role: 'SECONDARY' } }, standby);
    expect(ok.report.findings.filter((f) => f.id.startsWith('region.'))).toEqual([]);
    expect(ok.region.rto.seconds).toBeNull();
    const wrong = check({ dns: { role: 'PRIMARY' } }, standby);
    expect(wrong.report.findings.find((f) => f.id === 'region.dns-failover-role')).toMatchObject({ severity: 'warning', message: expect.stringContaining('is the standby of production and needs SECONDARY') });
  });

  it('a cluster outside any failover pair gets no region.* findings without the region promise', () => {
    const { report } = check({}, DEFAULT_OBJECTIVES);
    expect(report.findings.filter((f) => f.id.startsWith('region.'))).toEqual([]);
  });
});

describe('the app ingress path in AZ scenarios', () => {
  const az = (options: SyntheticClusterOptions, zone: string) => check(options, DEFAULT_OBJECTIVES).report.scenarios.find((s) => s.id === `az-loss:${zone}`) as AzScenario;

  it('stays reachable after losing each AZ, with the target group\'s detection time', () => {
    for (const zone of ['ap-northeast-2a', 'ap-northeast-2b', 'ap-northeast-2c']) {
      expect(az({}, zone).ingress).toEqual({ reachable: true, loadBalancer: 'fixture-ingress', loadBalancerAzsLeft: ['ap-northeast-2a', 'ap-northeast-2b', 'ap-northeast-2c'].filter((z) => z !== zone), targetsLeft: 4, rtoSeconds: 20 });
    }
  });

  it('an ingress NLB in one subnet: losing that AZ takes the app away', () => {
    const { report } = check({ ingressAzs: ['ap-northeast-2a'] }, DEFAULT_OBJECTIVES);
    const lost = report.scenarios.find((s) => s.id === 'az-loss:ap-northeast-2a') as AzScenario;
    expect(lost.ingress).toMatchObject({ reachable: false, loadBalancerAzsLeft: [], rtoSeconds: null });
    expect(lost.problems).toContain('app ingress unreachable');
    expect(report.findings.find((f) => f.id === 'ingress.unreachable')).toMatchObject({ severity: 'error', subject: 'fixture-ingress', scenarios: ['az-loss:ap-northeast-2a'] });
    expect(report.findings.find((f) => f.id === 'nlb.single-az' && f.subject === 'fixture-ingress')).toBeDefined();
  });

  it('no ingress NLB: the scenario says so instead of guessing', () => {
    expect(az({ ingressAzs: null }, 'ap-northeast-2a').ingress).toBeUndefined();
  });
});
