import type { DnsFailoverRecordModel, DnsHealthCheckModel } from '../model';
import { ROUTE53_DEFAULTS } from '../recovery-times';
import type { TerraformIndex, TfResource } from '../terraform';
import { resourceName, route53HealthCheckValues, route53RecordValues } from './tf-accessors';
import { str } from './values';

const LOAD_BALANCER_TYPES = new Set(['aws_lb', 'aws_alb', 'aws_elb']);

function healthCheck(index: TerraformIndex, check: TfResource): DnsHealthCheckModel {
  const v = route53HealthCheckValues(check);
  const target = index.resolve(check, v.fqdn);
  return {
    address: check.address,
    type: v.type ?? 'unknown',
    fqdn: target ? displayNameOrName(target) : str(v.fqdn),
    port: v.port,
    resourcePath: v.resourcePath,
    requestIntervalSeconds: v.requestIntervalSeconds ?? ROUTE53_DEFAULTS.requestIntervalSeconds,
    failureThreshold: v.failureThreshold ?? ROUTE53_DEFAULTS.failureThreshold,
  };
}

/** A checked resource's `name` attribute, else its Terraform name. */
function displayNameOrName(target: TfResource): string {
  return resourceName(target) ?? target.name;
}

/** Route 53 records with a failover routing policy, their health checks and alias targets. */
export function dnsFailoverRecords(index: TerraformIndex): DnsFailoverRecordModel[] {
  return index.byType('aws_route53_record').flatMap((record) => {
    const v = route53RecordValues(record);
    const policy = v.failover;
    if (policy !== 'PRIMARY' && policy !== 'SECONDARY') return [];
    const check = index.resolve(record, v.healthCheck);
    const alias = v.alias;
    const aliasTarget = alias ? index.resolve(record, alias.name) : undefined;
    const toLoadBalancer = aliasTarget !== undefined ? LOAD_BALANCER_TYPES.has(aliasTarget.type) : /\.elb\.amazonaws\.com\.?$/.test(str(alias?.name) ?? '');
    const ttl = v.ttlSeconds;
    return [
      {
        address: record.address,
        name: v.name ?? record.name,
        type: v.type ?? 'unknown',
        failover: policy,
        setIdentifier: v.setIdentifier,
        healthCheck: check?.type === 'aws_route53_health_check' ? healthCheck(index, check) : undefined,
        aliasLoadBalancer: aliasTarget !== undefined && LOAD_BALANCER_TYPES.has(aliasTarget.type) ? aliasTarget.address : undefined,
        evaluateTargetHealth: alias?.evaluateTargetHealth ?? false,
        ttlSeconds: ttl ?? (toLoadBalancer ? ROUTE53_DEFAULTS.aliasLoadBalancerTtlSeconds : undefined),
        ttlSource: ttl !== undefined ? ('record' as const) : toLoadBalancer ? ('alias-load-balancer' as const) : ('unknown' as const),
      },
    ];
  });
}
