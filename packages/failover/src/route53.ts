import type { Commands } from './commands';
import { StepError } from './step';

/**
 * Route 53 failover semantics this package relies on (see docs/runbooks/region-failover.md):
 * the PRIMARY record answers while its health check is healthy; otherwise the SECONDARY
 * answers (if it is healthy or has no check). A health check is healthy while more than 18 %
 * of the Route 53 checkers report success. Failover is not sticky: when the primary's check
 * passes again, DNS returns to it on its own.
 */
export const ROUTE53_HEALTHY_SHARE = 0.18;

export interface FailoverRecords {
  readonly hostedZoneId: string;
  readonly primary: { readonly setIdentifier?: string; readonly healthCheckId?: string };
  readonly secondary: { readonly setIdentifier?: string; readonly healthCheckId?: string };
}

interface RecordSet {
  Name: string;
  Type: string;
  SetIdentifier?: string;
  Failover?: 'PRIMARY' | 'SECONDARY';
  HealthCheckId?: string;
}

/** The zone id and the two failover records of `hostname`, as Terraform created them. */
export async function findFailoverRecords(cli: Commands, zoneName: string, hostname: string): Promise<FailoverRecords> {
  const zones = await cli.readJson<{ HostedZones: { Id: string; Name: string }[] }>('aws', [
    'route53',
    'list-hosted-zones-by-name',
    '--dns-name',
    zoneName,
    '--max-items',
    '1',
    '--output',
    'json',
  ]);
  const zone = zones.HostedZones.find((z) => z.Name === `${zoneName}.`);
  if (!zone) throw new StepError(`no public hosted zone ${zoneName} in this account (Route 53 listed ${zones.HostedZones.map((z) => z.Name).join(', ') || 'none'})`);
  const hostedZoneId = zone.Id.replace(/^\/hostedzone\//, '');
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
    return { setIdentifier: found.SetIdentifier, healthCheckId: found.HealthCheckId };
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
