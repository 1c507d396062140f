import { INGRESS_HEALTH_CHECK_PATH, INGRESS_NODE_PORTS } from '@platform/platform-config';
import { describe, expect, it } from 'vitest';
import { IngressHealthCheck, IngressLoadBalancer, MAX_INGRESS_DETECTION_SECONDS } from '../src';
import { portRangesWithout } from '../src/private/port-ranges';
import { bareStack, clusterInput, platform, synthCluster, synthStack, type Attributes } from './support';

describe('IngressLoadBalancer', () => {
  const shipped = platform();
  const production = synthCluster(shipped, 'production');
  const [[lbId, lb]] = production.resources('aws_lb').filter(([, l]) => l.name === 'production-ingress');
  const lbGroupRef = (() => {
    const [[id]] = production.resources('aws_security_group').filter(([, g]) => g.name === 'production-ingress-lb');
    return `\${aws_security_group.${id}.id}`;
  })();
  const targetGroups = production.values('aws_lb_target_group').filter((tg) => !String(tg.name).startsWith('production-api'));
  const listeners = production.values('aws_lb_listener').filter((l) => l.load_balancer_arn === `\${aws_lb.${lbId}.arn}`);

  it('is an internet-facing NLB in every AZ\'s public subnet, cross-zone on, behind its own security group', () => {
    expect(lb).toMatchObject({ load_balancer_type: 'network', internal: false, enable_cross_zone_load_balancing: true, security_groups: [lbGroupRef] });
    const subnets = lb.subnets.map((ref: string) => production.deref(ref));
    expect(subnets.map((s: Attributes) => s.availability_zone)).toEqual(shipped.cluster('production').availabilityZones);
    expect(subnets.map((s: Attributes) => s.tags.Name)).toEqual(['production-public-a', 'production-public-b', 'production-public-c']);
  });

  it('forwards TCP 80 and 443 to the ingress NodePorts on instance targets', () => {
    const forwarded = listeners.map((l) => {
      const tg = production.deref(l.default_action[0].target_group_arn);
      return { listener: [l.port, l.protocol], target: [tg.name, tg.port, tg.protocol, tg.target_type] };
    });
    expect(forwarded).toEqual([
      { listener: [80, 'TCP'], target: ['production-http', INGRESS_NODE_PORTS.http, 'TCP', 'instance'] },
      { listener: [443, 'TCP'], target: ['production-https', INGRESS_NODE_PORTS.https, 'TCP', 'instance'] },
    ]);
  });

  it('drops a dead zone\'s workers within 20 s: HTTP /ping on the HTTP NodePort every 10 s, 2 failures', () => {
    expect(targetGroups).toHaveLength(2);
    for (const tg of targetGroups) {
      expect(tg.health_check).toEqual({ enabled: true, protocol: 'HTTP', path: INGRESS_HEALTH_CHECK_PATH, port: String(INGRESS_NODE_PORTS.http), matcher: '200', interval: 10, timeout: 5, healthy_threshold: 2, unhealthy_threshold: 2 });
      expect(tg.health_check.interval * tg.health_check.unhealthy_threshold).toBeLessThanOrEqual(MAX_INGRESS_DETECTION_SECONDS);
      expect(tg).toMatchObject({ deregistration_delay: '30', preserve_client_ip: 'false', connection_termination: true });
      expect(tg.proxy_protocol_v2).toBeUndefined();
    }
  });

  it('opens only 80 and 443 to the internet and reaches workers only on the NodePorts', () => {
    const inbound = production.values('aws_vpc_security_group_ingress_rule').filter((r) => r.security_group_id === lbGroupRef);
    expect(inbound.map((r) => [r.cidr_ipv4, r.from_port, r.to_port])).toEqual([['0.0.0.0/0', 80, 80], ['0.0.0.0/0', 443, 443]]);
    const outbound = production.values('aws_vpc_security_group_egress_rule').filter((r) => r.security_group_id === lbGroupRef);
    expect(outbound.map((r) => [r.cidr_ipv4, r.from_port, r.to_port])).toEqual([['10.20.0.0/16', INGRESS_NODE_PORTS.http, INGRESS_NODE_PORTS.http], ['10.20.0.0/16', INGRESS_NODE_PORTS.https, INGRESS_NODE_PORTS.https]]);
  });

  it('registers every worker ASG with both target groups, and no control-plane ASG', () => {
    const arns = targetGroups.map((tg) => tg.name);
    const asgs = production.values('aws_autoscaling_group');
    const workers = asgs.filter((g) => !g.name.includes('control-plane'));
    expect(workers).toHaveLength(shipped.cluster('production').workerPools.length * 3);
    for (const g of workers) {
      expect(g.target_group_arns.map((ref: string) => production.deref(ref).name)).toEqual(arns);
      expect(g.health_check_type).toBe('EC2');
    }
    for (const g of asgs.filter((a) => a.name.includes('control-plane'))) {
      expect(g.target_group_arns.map((ref: string) => production.deref(ref).name)).toEqual(['production-api', 'production-api-int']);
    }
  });

  it('follows the AZ list of the definition (3 → 4 AZs)', () => {
    const four = synthCluster(platform((input) => { clusterInput(input, 'production').availabilityZones = ['ap-northeast-2a', 'ap-northeast-2b', 'ap-northeast-2c', 'ap-northeast-2d']; }), 'production');
    const [ingress] = four.values('aws_lb').filter((l) => l.name === 'production-ingress');
    expect(ingress.subnets.map((ref: string) => four.deref(ref).availability_zone)).toEqual(['ap-northeast-2a', 'ap-northeast-2b', 'ap-northeast-2c', 'ap-northeast-2d']);
  });

  it('adds PROXY protocol v2, a separate health-check port and its egress when asked', () => {
    const stack = bareStack();
    const ingress = new IngressLoadBalancer(stack, 'ingress', {
      ...props,
      proxyProtocolV2: true,
      healthCheck: IngressHealthCheck.custom({ port: INGRESS_NODE_PORTS.healthCheck, path: '/healthz', intervalSeconds: 5, timeoutSeconds: 2, healthyThreshold: 2, unhealthyThreshold: 3 }),
    });
    const synth = synthStack(stack);
    expect(synth.values('aws_lb_target_group').map((tg) => [tg.proxy_protocol_v2, tg.health_check.port, tg.health_check.path])).toEqual([[true, '30254', '/healthz'], [true, '30254', '/healthz']]);
    expect(synth.values('aws_vpc_security_group_egress_rule').map((r) => r.from_port).sort()).toEqual([30080, 30254, 30443]);
    expect(ingress.nodePorts).toEqual([30080, 30443, 30254]);
  });

  const props = { loadBalancerName: 'x-ingress', targetGroupNames: { http: 'x-http', https: 'x-https' }, vpcId: 'vpc-1', vpcCidr: '10.0.0.0/16', subnetIds: ['s-1', 's-2', 's-3'] };
  describe('validation', () => {
    const build = (change: object) => () => new IngressLoadBalancer(bareStack(), 'ingress', { ...props, ...change });
    const check = (c: Partial<{ port: number; intervalSeconds: number; timeoutSeconds: number; healthyThreshold: number; unhealthyThreshold: number }>) =>
      IngressHealthCheck.custom({ intervalSeconds: 10, timeoutSeconds: 5, healthyThreshold: 2, unhealthyThreshold: 2, ...c });
    it('rejects no subnet', () => {
      expect(build({ subnetIds: [] })).toThrow('IngressLoadBalancer: props.subnetIds = []; expected one subnet per AZ');
    });
    it('rejects a NodePort outside the Kubernetes range', () => {
      expect(build({ nodePorts: { http: 8080, https: 30443 } })).toThrow('IngressLoadBalancer: props.nodePorts.http = 8080; expected a NodePort from 30000 to 32767');
    });
    it('rejects one NodePort for both listeners', () => {
      expect(build({ nodePorts: { http: 30080, https: 30080 } })).toThrow('IngressLoadBalancer: props.nodePorts = {"http":30080,"https":30080}; expected different NodePorts for http and https');
    });
    it('rejects a health-check port outside the NodePort range', () => {
      expect(build({ healthCheck: check({ port: 80 }) })).toThrow('IngressLoadBalancer: props.healthCheck.port = 80; expected a NodePort from 30000 to 32767');
    });
    it('rejects a check too slow to drop a dead zone', () => {
      expect(build({ healthCheck: check({ unhealthyThreshold: 3 }) })).toThrow(
        "IngressLoadBalancer: props.healthCheck = {\"intervalSeconds\":10,\"unhealthyThreshold\":3}; expected intervalSeconds × unhealthyThreshold ≤ 20 s so a dead zone's workers leave the pool in time (got 30 s)",
      );
    });
    it('applies the NLB limits shared with the API endpoint', () => {
      expect(build({ healthCheck: check({ timeoutSeconds: 10 }) })).toThrow('IngressLoadBalancer: props.healthCheck.timeoutSeconds = 10; expected 2 seconds or more and less than the interval (10)');
    });
    it('rejects a deregistration delay beyond the NLB limit', () => {
      expect(build({ deregistrationDelaySeconds: 4000 })).toThrow('IngressLoadBalancer: props.deregistrationDelaySeconds = 4000; expected 0 to 3600 seconds (NLB limits)');
    });
  });
});

describe('portRangesWithout', () => {
  it('splits a range around excluded ports, ignoring duplicates and ports outside it', () => {
    expect(portRangesWithout({ from: 30000, to: 32767 }, [30443, 30080, 30080, 80])).toEqual([{ from: 30000, to: 30079 }, { from: 30081, to: 30442 }, { from: 30444, to: 32767 }]);
  });
  it('leaves no empty range at the edges', () => {
    expect(portRangesWithout({ from: 10, to: 12 }, [10, 12])).toEqual([{ from: 11, to: 11 }]);
    expect(portRangesWithout({ from: 10, to: 12 }, [])).toEqual([{ from: 10, to: 12 }]);
  });
});
