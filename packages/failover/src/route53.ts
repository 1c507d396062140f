import type { Commands } from './commands';
import { StepError } from './step';

/**
 * Route 53 failover semantics this package relies on (see docs/runbooks/region-failover.md):
 * the PRIMARY record answers while its health check is healthy; otherwise the SECONDARY
 * answers if it is healthy (or has no check); when both are unhealthy Route 53 answers the
 * PRIMARY. A health check is healthy while more than 18 % of the Route 53 checkers report
 * success. Failover is not sticky: when the primary's check passes again, DNS returns to it.
 */
export const ROUTE53_HEALTHY_SHARE = 0.18;

export interface AliasTarget {
  readonly HostedZoneId: string;
  readonly DNSName: string;
  readonly EvaluateTargetHealth: boolean;
}

export interface FailoverRecordSet {
  readonly setIdentifier?: string;
  readonly healthCheckId?: string;
  readonly alias?: AliasTarget;
}

export interface FailoverRecords {
  readonly hostedZoneId: string;
  readonly primary: FailoverRecordSet;
  readonly secondary: FailoverRecordSet;
}

interface RecordSet {
  Name: string;
  Type: string;
  SetIdentifier?: string;
  Failover?: 'PRIMARY' | 'SECONDARY';
  HealthCheckId?: string;
  AliasTarget?: AliasTarget;
}

/**
 * The two failover records of `hostname` in the zone Terraform put them in
 * (`settings.dns.hostedZoneId`). The zone is taken by id, never looked up by name: a private
 * zone of the same name (split-horizon DNS) would answer differently from what users see.
 */
export async function findFailoverRecords(cli: Commands, zone: { readonly hostedZoneId: string; readonly hostedZoneName: string }, hostname: string): Promise<FailoverRecords> {
  const hostedZoneId = zone.hostedZoneId.replace(/^\/hostedzone\//, '');
  const found = await cli.readJson<{ HostedZone: { Id: string; Name: string; Config?: { PrivateZone?: boolean } } }>('aws', ['route53', 'get-hosted-zone', '--id', hostedZoneId, '--output', 'json']);
  if (found.HostedZone.Name !== `${zone.hostedZoneName}.`) {
    throw new StepError(`settings.dns.hostedZoneId: got ${hostedZoneId}, a zone named ${JSON.stringify(found.HostedZone.Name)}; expected the zone of settings.dns.hostedZoneName ${zone.hostedZoneName}`);
  }
  if (found.HostedZone.Config?.PrivateZone) throw new StepError(`settings.dns.hostedZoneId: got ${hostedZoneId}, a private zone; expected the public zone users resolve ${hostname} in`);
  const sets = await cli.readJson<{ ResourceRecordSets: RecordSet[] }>('aws', [
    'route53',
    'list-resource-record-sets',
    '--hosted-zone-id',
    hostedZoneId,
    '--start-record-name',
    hostname,
    '--start-record-type',
    'A',
    '--max-items',
    '10',
    '--output',
    'json',
  ]);
  const ours = sets.ResourceRecordSets.filter((r) => r.Name === `${hostname}.` && r.Type === 'A');
  const pick = (kind: 'PRIMARY' | 'SECONDARY') => {
    const found = ours.find((r) => r.Failover === kind);
    if (!found) throw new StepError(`no ${kind} failover A record for ${hostname} in zone ${hostedZoneId}; expected Terraform's primary/secondary pair`);
    return { setIdentifier: found.SetIdentifier, healthCheckId: found.HealthCheckId, alias: found.AliasTarget };
  };
  return { hostedZoneId, primary: pick('PRIMARY'), secondary: pick('SECONDARY') };
}

export interface HealthStatus {
  readonly healthy: boolean;
  readonly reporting: number;
  readonly succeeding: number;
}

export async function healthCheckStatus(cli: Commands, healthCheckId: string): Promise<HealthStatus> {
  const out = await cli.readJson<{ HealthCheckObservations: { StatusReport?: { Status?: string } }[] }>('aws', [
    'route53',
    'get-health-check-status',
    '--health-check-id',
    healthCheckId,
    '--output',
    'json',
  ]);
  const reporting = out.HealthCheckObservations.length;
  const succeeding = out.HealthCheckObservations.filter((o) => o.StatusReport?.Status?.startsWith('Success')).length;
  return { healthy: reporting > 0 && succeeding / reporting > ROUTE53_HEALTHY_SHARE, reporting, succeeding };
}

export function describeHealth(status: HealthStatus): string {
  return `${status.healthy ? 'healthy' : 'unhealthy'} (${status.succeeding}/${status.reporting} checkers succeed)`;
}

/**
 * UPSERTs the PRIMARY failover alias record of `hostname` (same set identifier and health
 * check) to `target`. Promotion points it at the standby's load balancer without target-health
 * evaluation: when both health checks fail Route 53 answers the PRIMARY, so only a PRIMARY that
 * itself leads to the standby keeps users off a returned primary whatever the checks say.
 */
export async function upsertPrimaryRecord(
  cli: Commands,
  props: { readonly hostedZoneId: string; readonly hostname: string; readonly setIdentifier: string; readonly healthCheckId: string; readonly target: AliasTarget },
): Promise<void> {
  const change = {
    Comment: `region failover: PRIMARY ${props.hostname} -> ${props.target.DNSName}`,
    Changes: [
      {
        Action: 'UPSERT',
        ResourceRecordSet: {
          Name: props.hostname,
          Type: 'A',
          SetIdentifier: props.setIdentifier,
          Failover: 'PRIMARY',
          HealthCheckId: props.healthCheckId,
          AliasTarget: props.target,
        },
      },
    ],
  };
  await cli.mutate('aws', ['route53', 'change-resource-record-sets', '--hosted-zone-id', props.hostedZoneId, '--change-batch', JSON.stringify(change), '--output', 'json']);
}

/** A load balancer as a Route 53 alias target (its DNS name and canonical hosted zone). */
export async function loadBalancerAlias(cli: Commands, region: string, name: string, evaluateTargetHealth: boolean): Promise<AliasTarget> {
  const found = await cli.readJson<[string, string] | null>('aws', [
    'elbv2',
    'describe-load-balancers',
    '--region',
    region,
    '--names',
    name,
    '--query',
    'LoadBalancers[0].[DNSName,CanonicalHostedZoneId]',
    '--output',
    'json',
  ]);
  if (!found?.[0] || !found[1]) throw new StepError(`load balancer ${name} not found in ${region}`);
  return { HostedZoneId: found[1], DNSName: found[0], EvaluateTargetHealth: evaluateTargetHealth };
}
