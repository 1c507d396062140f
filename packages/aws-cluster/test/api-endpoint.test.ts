import { describe, expect, it } from 'vitest';
import { ApiEndpoint, ApiHealthCheck, MAX_API_DETECTION_SECONDS } from '../src';
import { bareStack, clusterInput, platform, synthCluster, synthStack } from './support';

describe('ApiEndpoint', () => {
  const shipped = platform();
  const production = synthCluster(shipped, 'production');

  it('places the NLB in every AZ (public subnets when internet-facing), cross-zone on', () => {
    const [lb] = production.values('aws_lb');
    expect(lb).toMatchObject({ name: 'production-api', load_balancer_type: 'network', internal: false, enable_cross_zone_load_balancing: true });
    const zones = lb.subnets.map((ref: string) => production.deref(ref));
    expect(zones.map((s: { availability_zone: string }) => s.availability_zone).sort()).toEqual([...shipped.cluster('production').availabilityZones].sort());
    expect(zones.every((s: { tags: { Name: string } }) => s.tags.Name.includes('public'))).toBe(true);
  });

  it('uses private subnets and an internal scheme when the definition says internal', () => {
    const internal = synthCluster(platform((input) => { clusterInput(input, 'production').apiEndpoint = { exposure: 'internal', allowedCidrs: [] }; }), 'production');
    const [lb] = internal.values('aws_lb');
    expect(lb.internal).toBe(true);
    expect(lb.subnets.map((ref: string) => internal.deref(ref).tags.Name)).toEqual(['production-private-a', 'production-private-b', 'production-private-c']);
  });

  it('checks HTTPS /readyz often enough to drop a dead API server within 20 s', () => {
    const [tg] = production.values('aws_lb_target_group');
    expect(tg).toMatchObject({ port: 6443, protocol: 'TCP', deregistration_delay: '15', preserve_client_ip: 'false' });
    expect(tg.health_check).toMatchObject({ protocol: 'HTTPS', path: '/readyz', port: 'traffic-port', enabled: true });
    expect(tg.health_check.interval * tg.health_check.unhealthy_threshold).toBeLessThanOrEqual(MAX_API_DETECTION_SECONDS);
    expect(tg.health_check.timeout).toBeLessThan(tg.health_check.interval);
    const [listener] = production.values('aws_lb_listener');
    expect(listener).toMatchObject({ port: 6443, protocol: 'TCP' });
  });

  it('lets only the VPC and the allowed CIDRs reach the load balancer', () => {
    const [lbGroup] = production.resources('aws_security_group').filter(([, g]) => g.name === 'production-api-lb');
    const rules = production.values('aws_vpc_security_group_ingress_rule').filter((r) => r.security_group_id === `\${aws_security_group.${lbGroup[0]}.id}`);
    expect(rules.map((r) => r.cidr_ipv4).sort()).toEqual(['10.20.0.0/16', '198.51.100.0/24', '203.0.113.0/24']);
    expect(rules.every((r) => r.from_port === 6443 && r.to_port === 6443)).toBe(true);
  });

  it('adds an alias record when asked', () => {
    const stack = bareStack();
    const api = new ApiEndpoint(stack, 'api', { loadBalancerName: 'x', targetGroupName: 'x', vpcId: 'vpc-1', vpcCidr: '10.0.0.0/16', subnetIds: ['s-1'], exposure: 'internal', dnsRecord: { hostedZoneId: 'Z1', name: 'api.example.com' } });
    const synth = synthStack(stack);
    const [record] = synth.values('aws_route53_record');
    expect(record).toMatchObject({ zone_id: 'Z1', name: 'api.example.com', type: 'A' });
    expect(record.alias).toMatchObject({ evaluate_target_health: true });
    expect(record.alias.name).toMatch(/^\$\{aws_lb\..*\.dns_name\}$/);
    expect(api.endpoint).not.toBe(api.loadBalancerDnsName);
  });

  describe('validation', () => {
    const props = { loadBalancerName: 'x', targetGroupName: 'x', vpcId: 'vpc-1', vpcCidr: '10.0.0.0/16', subnetIds: ['s-1'], exposure: 'internal' as const };
    const build = (change: object) => () => new ApiEndpoint(bareStack(), 'api', { ...props, ...change });
    const check = (c: Partial<{ intervalSeconds: number; timeoutSeconds: number; healthyThreshold: number; unhealthyThreshold: number }>) =>
      ApiHealthCheck.custom({ intervalSeconds: 5, timeoutSeconds: 3, healthyThreshold: 2, unhealthyThreshold: 2, ...c });
    it('rejects no subnet', () => {
      expect(build({ subnetIds: [] })).toThrow('ApiEndpoint: props.subnetIds = []; expected one subnet per AZ');
    });
    it('rejects a malformed allowed CIDR', () => {
      expect(build({ allowedCidrs: ['10.1.2.3'] })).toThrow('ApiEndpoint: props.allowedCidrs[0] = "10.1.2.3"; expected an IPv4 CIDR block');
    });
    it('rejects the whole internet', () => {
      expect(build({ allowedCidrs: ['0.0.0.0/0'] })).toThrow('ApiEndpoint: props.allowedCidrs[0] = "0.0.0.0/0"; expected a range of /8 or narrower (never the whole internet on the API)');
    });
    it('rejects a record in a zone given by name instead of id', () => {
      expect(build({ dnsRecord: { hostedZoneId: 'example.com', name: 'api.example.com' } })).toThrow(
        'ApiEndpoint: props.dnsRecord.hostedZoneId = "example.com"; expected a Route 53 hosted zone id: "Z" then up to 31 capital letters and digits',
      );
    });
    it('rejects a record name that is not a fully qualified DNS name', () => {
      expect(build({ dnsRecord: { hostedZoneId: 'Z1', name: 'api.example.com.' } })).toThrow(
        'ApiEndpoint: props.dnsRecord.name = "api.example.com."; expected a fully qualified DNS name such as api.example.com: lowercase labels of at most 63 characters, at most 253 in all, no final dot',
      );
    });
    it('rejects an interval outside the NLB range', () => {
      expect(build({ healthCheck: check({ intervalSeconds: 4 }) })).toThrow('ApiEndpoint: props.healthCheck.intervalSeconds = 4; expected 5 to 300 seconds (NLB limits)');
    });
    it('rejects a timeout not below the interval', () => {
      expect(build({ healthCheck: check({ timeoutSeconds: 5 }) })).toThrow('ApiEndpoint: props.healthCheck.timeoutSeconds = 5; expected 2 seconds or more and less than the interval (5)');
    });
    it('rejects a threshold outside 2..10', () => {
      expect(build({ healthCheck: check({ healthyThreshold: 1 }) })).toThrow('ApiEndpoint: props.healthCheck.healthyThreshold = 1; expected 2 to 10 checks (NLB limits)');
    });
    it('rejects a check too slow to notice a dead API server', () => {
      expect(build({ healthCheck: check({ intervalSeconds: 10, unhealthyThreshold: 3 }) })).toThrow(
        'ApiEndpoint: props.healthCheck = {"intervalSeconds":10,"unhealthyThreshold":3}; expected intervalSeconds × unhealthyThreshold ≤ 20 s so a dead API server leaves the pool in time (got 30 s)',
      );
    });
  });
});
