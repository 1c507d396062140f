import { INGRESS_HEALTH_CHECK_PATH, LOAD_BALANCER_ALIAS_TTL_SECONDS } from '@platform/platform-config';
import { describe, expect, it } from 'vitest';
import { FailoverHealthCheck, FailoverRecord } from '../src';
import { bareStack, clusterInput, platform, synthCluster, type Attributes, type Synth } from './support';

describe('regional failover records', () => {
  const shipped = platform();
  const dns = shipped.settings.dns as NonNullable<typeof shipped.settings.dns>;
  const ingressLb = (synth: Synth, cluster: string) => {
    const [[id]] = synth.resources('aws_lb').filter(([, l]) => l.name === `${cluster}-ingress`);
    return id;
  };
  const pair = (cluster: string) => {
    const synth = synthCluster(shipped, cluster);
    return { synth, records: synth.values('aws_route53_record').filter((r) => r.failover_routing_policy !== undefined), checks: synth.resources('aws_route53_health_check'), lb: ingressLb(synth, cluster) };
  };

  const expectHalf = (cluster: string, role: 'PRIMARY' | 'SECONDARY') => {
    const { records, checks, lb } = pair(cluster);
    expect(records).toHaveLength(1);
    expect(checks).toHaveLength(1);
    const [record] = records;
    const [[checkId, check]] = checks as [string, Attributes][];
    expect(record).toMatchObject({
      zone_id: dns.hostedZoneId,
      name: shipped.names.appHostname,
      type: 'A',
      set_identifier: cluster,
      failover_routing_policy: { type: role },
      health_check_id: `\${aws_route53_health_check.${checkId}.id}`,
      alias: { name: `\${aws_lb.${lb}.dns_name}`, zone_id: `\${aws_lb.${lb}.zone_id}`, evaluate_target_health: true },
    });
    expect(record.ttl).toBeUndefined();
    expect(check).toMatchObject({ type: 'HTTP', fqdn: `\${aws_lb.${lb}.dns_name}`, port: 80, resource_path: INGRESS_HEALTH_CHECK_PATH });
    return check;
  };

  it('makes production the PRIMARY: its own ingress NLB, checked by Route 53', () => {
    expectHalf('production', 'PRIMARY');
  });

  it("leaves the PRIMARY check's path to packages/failover's fence (an apply must not unfence it), and only that field", () => {
    expect(pair('production').checks[0]![1].lifecycle).toEqual({ ignore_changes: ['resource_path'] });
    expect(pair('dr').checks[0]![1].lifecycle).toBeUndefined();
  });

  it('makes dr, the cluster production names as standby, the SECONDARY', () => {
    expectHalf('dr', 'SECONDARY');
  });

  it('checks both regions at the timing the primary\'s app RTO calls for (120 s: 10 s × 3 + 60 s TTL)', () => {
    const rto = shipped.cluster('production').objectives.appRtoSeconds;
    for (const cluster of ['production', 'dr']) {
      const check = expectHalf(cluster, cluster === 'production' ? 'PRIMARY' : 'SECONDARY');
      expect({ interval: check.request_interval, threshold: check.failure_threshold }).toEqual({ interval: 10, threshold: 3 });
      expect(check.request_interval * check.failure_threshold + LOAD_BALANCER_ALIAS_TTL_SECONDS).toBeLessThanOrEqual(rto);
    }
  });

  it('uses the cheaper 30 s interval once the objective allows it (300 s)', () => {
    const relaxed = platform((input) => { clusterInput(input, 'production').objectives.appRtoSeconds = 300; });
    for (const cluster of ['production', 'dr']) {
      const [check] = synthCluster(relaxed, cluster).values('aws_route53_health_check');
      expect([check.request_interval, check.failure_threshold]).toEqual([30, 3]);
    }
  });

  it('gives staging, in no failover pair, neither record nor health check', () => {
    const { records, checks } = pair('staging');
    expect(records).toEqual([]);
    expect(checks).toEqual([]);
  });

  it('follows the configured zone and record name', () => {
    const other = platform((input) => { input.settings.dns = { hostedZoneName: 'example.org', hostedZoneId: 'Z2ABCDEF123456', appRecord: 'shop', ttlSeconds: 60 }; });
    const [record] = synthCluster(other, 'dr').values('aws_route53_record').filter((r) => r.failover_routing_policy !== undefined);
    expect(record).toMatchObject({ zone_id: 'Z2ABCDEF123456', name: 'shop.example.org', set_identifier: 'dr', failover_routing_policy: { type: 'SECONDARY' } });
  });

  describe('FailoverHealthCheck.forRecoveryObjective', () => {
    it('picks standard when it fits, fast when only fast fits, nothing otherwise', () => {
      expect(FailoverHealthCheck.forRecoveryObjective(150, 60)?.requestIntervalSeconds).toBe(30);
      expect(FailoverHealthCheck.forRecoveryObjective(149, 60)?.requestIntervalSeconds).toBe(10);
      expect(FailoverHealthCheck.forRecoveryObjective(89, 60)).toBeUndefined();
    });
  });

  describe('validation', () => {
    const props = { hostedZoneId: 'Z0HAKUBE', recordName: 'app.example.com', role: 'PRIMARY' as const, setIdentifier: 'a', loadBalancerDnsName: 'lb.example.com', loadBalancerZoneId: 'ZLB', recoveryObjectiveSeconds: 120 };
    const build = (change: object) => () => new FailoverRecord(bareStack(), 'failover', { ...props, ...change });
    it('rejects a zone name given as the id', () => {
      expect(build({ hostedZoneId: 'example.com' })).toThrow('FailoverRecord: props.hostedZoneId = "example.com"; expected a Route 53 hosted zone id: "Z" then up to 31 capital letters and digits');
    });
    it('rejects an empty set identifier', () => {
      expect(build({ setIdentifier: '' })).toThrow('FailoverRecord: props.setIdentifier = ""; expected 1 to 128 characters');
    });
    it('rejects an objective no check can meet', () => {
      expect(build({ recoveryObjectiveSeconds: 60 })).toThrow('FailoverRecord: props.recoveryObjectiveSeconds = 60; expected at least 90 s: the fastest default check (10 s × 3) plus the 60 s alias TTL');
    });
    it('rejects an interval Route 53 does not offer', () => {
      expect(build({ healthCheck: FailoverHealthCheck.custom({ requestIntervalSeconds: 5, failureThreshold: 3 }) })).toThrow('FailoverRecord: props.healthCheck.requestIntervalSeconds = 5; expected 10 or 30 seconds (the only Route 53 intervals)');
    });
    it('rejects a failure threshold outside 1..10', () => {
      expect(build({ healthCheck: FailoverHealthCheck.custom({ requestIntervalSeconds: 10, failureThreshold: 0 }) })).toThrow('FailoverRecord: props.healthCheck.failureThreshold = 0; expected 1 to 10 checks (Route 53 limits)');
    });
    it('rejects an explicit check too slow for the objective', () => {
      expect(build({ healthCheck: FailoverHealthCheck.standard() })).toThrow(
        'FailoverRecord: props.healthCheck = {"requestIntervalSeconds":30,"failureThreshold":3}; expected requestIntervalSeconds × failureThreshold + the 60 s alias TTL ≤ recoveryObjectiveSeconds (120 s) (got 150 s)',
      );
    });
  });
});
