import { describe, expect, it } from 'vitest';
import { DEFAULT_OBJECTIVES, runHaCheck, syntheticCluster, writeSyntheticCluster, type AzScenario, type Objectives, type RegionScenario, type SyntheticClusterOptions } from '../src';
import { PRIMARY_OBJECTIVES, REGION_MODES } from './fixtures/region-failover';
import { tempDir, writeFixture } from './helpers';

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
    expect(region.rto).toEqual({ detectionSeconds: 30, promotionSeconds: 1980, dnsTtlSeconds: 60, seconds: 2070, objectiveSeconds: 2400 });
    expect(region).toMatchObject({ survives: true, problems: [], standbyCluster: 'dr', standbyRegion: 'ap-northeast-1', rpoMinutes: 15, rpo: { etcdMinutes: 15, databaseMinutes: undefined, minutes: 15 } });
    expect(region.promotion?.workflow).toBe('.github/workflows/region-failover.yml');
  });

  it('finds a standby without a failover record', () => {
    const { report } = check({ dns: { role: 'PRIMARY' } }, PRIMARY_OBJECTIVES, {});
    expect(report.findings.find((f) => f.id === 'region.no-secondary-record')).toMatchObject({ severity: 'error', subject: 'dr' });
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
