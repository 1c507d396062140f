import { describe, expect, it } from 'vitest';
import { ApiEndpoint, ApiHealthCheck, MAX_API_DETECTION_SECONDS, PrivateHostedZone } from '../src';
import { bareStack, clusterInput, platform, synthCluster, synthStack, type Attributes, type Synth } from './support';

const lbRules = (synth: Synth, groupName: string) => {
  const [[id]] = synth.resources('aws_security_group').filter(([, g]) => g.name === groupName);
  return synth.values('aws_vpc_security_group_ingress_rule').filter((r) => r.security_group_id === `\${aws_security_group.${id}.id}`);
};
const addresses = (s: Synth) => Object.entries(s.json.resource as Record<string, object>).flatMap(([type, byId]) => Object.keys(byId).map((id) => `${type}.${id}`));

describe('ApiEndpoint', () => {
  const shipped = platform();
  const production = synthCluster(shipped, 'production');

  const lbNamed = (synth: Synth, name: string) => synth.resources('aws_lb').find(([, lb]) => lb.name === name);
  const subnetsOf = (synth: Synth, lb: Attributes) => lb.subnets.map((ref: string) => synth.deref(ref));

  it('places the public NLB in the public subnets of every AZ, the internal one in the private subnets of every AZ, both cross-zone', () => {
    const zones = [...shipped.cluster('production').availabilityZones].sort();
    for (const [name, internal, tier] of [['production-api', false, 'public'], ['production-api-int', true, 'private']] as const) {
      const [, lb] = lbNamed(production, name)!;
      expect(lb).toMatchObject({ name, load_balancer_type: 'network', internal, enable_cross_zone_load_balancing: true });
      const subnets = subnetsOf(production, lb);
      expect(subnets.map((s: Attributes) => s.availability_zone).sort()).toEqual(zones);
      expect(subnets.every((s: Attributes) => s.tags.Name.includes(tier))).toBe(true);
    }
  });

  it('puts the private name in a private hosted zone of the cluster VPC, aliased to the internal NLB', () => {
    const names = shipped.namesOf('production');
    const [[zoneId, zone]] = production.resources('aws_route53_zone');
    expect(zone).toMatchObject({ name: names.apiInternal.zone });
    expect(zone.vpc).toHaveLength(1);
    expect(production.deref(zone.vpc[0].vpc_id)).toMatchObject({ cidr_block: '10.20.0.0/16', enable_dns_support: true, enable_dns_hostnames: true });
    const [record] = production.values('aws_route53_record').filter((r) => r.zone_id === `\${aws_route53_zone.${zoneId}.zone_id}`);
    // Its only record: answered even before the first API server is a healthy target (kubeadm init resolves it then).
    expect(record).toMatchObject({ name: names.apiInternal.hostname, type: 'A', alias: { evaluate_target_health: false } });
    expect(production.deref(record.alias.name)).toMatchObject({ name: 'production-api-int', internal: true });
  });

  it('has only the internal NLB and the private name when the definition says internal', () => {
    const internal = synthCluster(platform((input) => { clusterInput(input, 'production').apiEndpoint = { exposure: 'internal', allowedCidrs: ['192.0.2.0/24'] }; }), 'production');
    const lbs = internal.values('aws_lb').filter((lb) => String(lb.name).startsWith('production-api'));
    expect(lbs.map((lb) => [lb.name, lb.internal])).toEqual([['production-api-int', true]]);
    expect(subnetsOf(internal, lbs[0]).map((s: Attributes) => s.tags.Name)).toEqual(['production-private-a', 'production-private-b', 'production-private-c']);
    expect(internal.json.output.api_endpoint.value).toBe(internal.json.output.api_internal_endpoint.value);
    // Networks routed into the VPC (VPN, peering) given as allowedCidrs reach the private addresses.
    expect(lbRules(internal, 'production-api-int-lb').map((r) => r.cidr_ipv4).sort()).toEqual(['10.20.0.0/16', '192.0.2.0/24']);
  });

  it('checks HTTPS /readyz often enough to drop a dead API server within 20 s', () => {
    const [tg] = production.values('aws_lb_target_group').filter((t) => t.port === 6443);
    expect(tg).toMatchObject({ port: 6443, protocol: 'TCP', deregistration_delay: '15', preserve_client_ip: 'false' });
    expect(tg.health_check).toMatchObject({ protocol: 'HTTPS', path: '/readyz', port: 'traffic-port', enabled: true });
    expect(tg.health_check.interval * tg.health_check.unhealthy_threshold).toBeLessThanOrEqual(MAX_API_DETECTION_SECONDS);
    expect(tg.health_check.timeout).toBeLessThan(tg.health_check.interval);
    const [listener] = production.values('aws_lb_listener').filter((l) => l.port === 6443);
    expect(listener).toMatchObject({ port: 6443, protocol: 'TCP' });
  });

  it('lets only the allowed CIDRs reach the public NLB (VPC clients arrive through NAT, never from the VPC CIDR) and only the VPC the internal one', () => {
    const publicRules = lbRules(production, 'production-api-lb');
    expect(publicRules.map((r) => r.cidr_ipv4).sort()).toEqual(['198.51.100.0/24', '203.0.113.0/24']);
    expect(lbRules(production, 'production-api-int-lb').map((r) => r.cidr_ipv4)).toEqual(['10.20.0.0/16']);
    expect([...publicRules, ...lbRules(production, 'production-api-int-lb')].every((r) => r.from_port === 6443 && r.to_port === 6443)).toBe(true);
  });

  it('keeps the public endpoint at its construct id: its Terraform addresses are those it had as the only endpoint', () => {
    const stack = bareStack();
    new ApiEndpoint(stack, 'api', { loadBalancerName: 'x', targetGroupName: 'x', vpcId: 'vpc-1', vpcCidr: '10.0.0.0/16', subnetIds: ['s-1'], exposure: 'internet-facing', allowedCidrs: ['203.0.113.0/24', '198.51.100.0/24'] });
    const own = addresses(synthStack(stack));
    expect(own).toContain('aws_lb.api_load-balancer_514A0DBA');
    expect(own.filter((a) => !addresses(production).includes(a))).toEqual([]);
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
    it('rejects an internet-facing endpoint that admits nobody', () => {
      expect(build({ exposure: 'internet-facing' })).toThrow(
        'ApiEndpoint: props.allowedCidrs = []; expected at least one network when internet-facing (clients in the VPC arrive through NAT, not from the VPC CIDR: they use the internal endpoint)',
      );
    });
    it('rejects a private zone name that is not a DNS name', () => {
      expect(() => new PrivateHostedZone(bareStack(), 'zone', { zoneName: 'Prod.internal', vpcId: 'vpc-1' })).toThrow(
        'PrivateHostedZone: props.zoneName = "Prod.internal"; expected a fully qualified DNS name such as cluster.example.internal: lowercase labels of at most 63 characters, no final dot',
      );
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
