import type { DnsFailoverRecordModel, DnsHealthCheckModel } from '../model';
import { ROUTE53_DEFAULTS } from '../recovery-times';
import type { TerraformIndex, TfResource } from '../terraform';
import { block, bool, num, str, type Json } from './values';

const LOAD_BALANCER_TYPES = new Set(['aws_lb', 'aws_alb', 'aws_elb']);

function healthCheck(index: TerraformIndex, check: TfResource): DnsHealthCheckModel {
  const v = check.values as Json;
  const target = index.resolve(check, v.fqdn);
  return {
    address: check.address,
    type: str(v.type) ?? 'unknown',
    fqdn: target ? (str((target.values as Json).name) ?? target.name) : str(v.fqdn),
    port: num(v.port),
    resourcePath: str(v.resource_path),
    requestIntervalSeconds: num(v.request_interval) ?? ROUTE53_DEFAULTS.requestIntervalSeconds,
    failureThreshold: num(v.failure_threshold) ?? ROUTE53_DEFAULTS.failureThreshold,
  };
}

/** Route 53 records with a failover routing policy, their health checks and alias targets. */
export function dnsFailoverRecords(index: TerraformIndex): DnsFailoverRecordModel[] {
  return index.byType('aws_route53_record').flatMap((record) => {
    const v = record.values as Json;
    const policy = str(block(v.failover_routing_policy)?.type)?.toUpperCase();
    if (policy !== 'PRIMARY' && policy !== 'SECONDARY') return [];
    const check = index.resolve(record, v.health_check_id);
    const alias = block(v.alias);
    const aliasTarget = alias ? index.resolve(record, alias.name) : undefined;
    const toLoadBalancer = aliasTarget !== undefined ? LOAD_BALANCER_TYPES.has(aliasTarget.type) : /\.elb\.amazonaws\.com\.?$/.test(str(alias?.name) ?? '');
    const ttl = num(v.ttl);
    return [
      {
        address: record.address,
        name: str(v.name) ?? record.name,
        type: str(v.type) ?? 'unknown',
        failover: policy,
        setIdentifier: str(v.set_identifier),
        healthCheck: check?.type === 'aws_route53_health_check' ? healthCheck(index, check) : undefined,
        aliasLoadBalancer: aliasTarget !== undefined && LOAD_BALANCER_TYPES.has(aliasTarget.type) ? aliasTarget.address : undefined,
        evaluateTargetHealth: bool(alias?.evaluate_target_health) ?? false,
        ttlSeconds: ttl ?? (toLoadBalancer ? ROUTE53_DEFAULTS.aliasLoadBalancerTtlSeconds : undefined),
        ttlSource: ttl !== undefined ? ('record' as const) : toLoadBalancer ? ('alias-load-balancer' as const) : ('unknown' as const),
      },
    ];
  });
}
