import { Route53HealthCheck } from '@cdktf/provider-aws/lib/route53-health-check';
import { Route53Record } from '@cdktf/provider-aws/lib/route53-record';
import { APP_HEALTH_CHECK_PATH, LOAD_BALANCER_ALIAS_TTL_SECONDS, UNPROMOTED_HEALTH_CHECK_PATH } from '@platform/platform-config';
import { Construct } from 'constructs';
import { HOSTED_ZONE_ID, HOSTED_ZONE_ID_EXPECTED, invalidProp } from '../private/validation';
import { FailoverHealthCheck } from './failover-health-check';

export type FailoverRecordRole = 'PRIMARY' | 'SECONDARY';

export interface FailoverRecordProps {
  readonly hostedZoneId: string;
  /** Fully qualified name both regions' records share, e.g. app.example.com. */
  readonly recordName: string;
  /** PRIMARY answers while healthy; SECONDARY answers when the primary is not. */
  readonly role: FailoverRecordRole;
  /** Tells the pair's records apart (the cluster name). */
  readonly setIdentifier: string;
  /** The region's public endpoint: an internet-facing load balancer. */
  readonly loadBalancerDnsName: string;
  readonly loadBalancerZoneId: string;
  /**
   * Seconds clients may be sent to a dead region: health-check detection plus the alias TTL
   * (LOAD_BALANCER_ALIAS_TTL_SECONDS, fixed by Route 53) must fit.
   */
  readonly recoveryObjectiveSeconds: number;
  /** @default FailoverHealthCheck.forRecoveryObjective(recoveryObjectiveSeconds, LOAD_BALANCER_ALIAS_TTL_SECONDS) */
  readonly healthCheck?: FailoverHealthCheck;
  /**
   * Checked over HTTP on port 80 of the load balancer (Host: its DNS name).
   * @default PRIMARY: APP_HEALTH_CHECK_PATH (the app's database-backed readiness); SECONDARY:
   * UNPROMOTED_HEALTH_CHECK_PATH (fails until a promotion points it at APP_HEALTH_CHECK_PATH)
   */
  readonly healthCheckPath?: string;
}

/**
 * One half of a Route 53 failover pair: a health check on this region's load balancer (HTTP,
 * from Route 53's checkers around the world) and an alias A record with failover routing that
 * answers while that check, and the load balancer's own target health, pass. The SECONDARY's
 * check fails until a promotion opens it, so a pilot-light standby never gets users; while
 * promoted, packages/failover points the PRIMARY record at the standby (when both checks fail
 * Route 53 answers the PRIMARY), and the pipeline refuses to apply the primary's stack.
 */
export class FailoverRecord extends Construct {
  readonly healthCheckId: string;
  readonly healthCheck: FailoverHealthCheck;
  /** Detection plus alias TTL: how long clients may still reach the dead region. */
  readonly failoverSeconds: number;

  constructor(scope: Construct, id: string, props: FailoverRecordProps) {
    super(scope, id);
    const healthCheck = validate(props);
    this.healthCheck = healthCheck;
    this.failoverSeconds = healthCheck.detectionSeconds + LOAD_BALANCER_ALIAS_TTL_SECONDS;

    const check = new Route53HealthCheck(this, 'health-check', {
      type: 'HTTP',
      fqdn: props.loadBalancerDnsName,
      port: 80,
      resourcePath: props.healthCheckPath ?? (props.role === 'PRIMARY' ? APP_HEALTH_CHECK_PATH : UNPROMOTED_HEALTH_CHECK_PATH),
      requestInterval: healthCheck.requestIntervalSeconds,
      failureThreshold: healthCheck.failureThreshold,
      tags: { Name: `${props.recordName} ${props.role.toLowerCase()} (${props.setIdentifier})` },
      // packages/failover owns both paths after creation: promotion fences the PRIMARY's and
      // opens the SECONDARY's, fail-back reverses both; an apply must undo neither.
      lifecycle: { ignoreChanges: ['resource_path'] },
    });
    new Route53Record(this, 'record', {
      zoneId: props.hostedZoneId,
      name: props.recordName,
      type: 'A',
      setIdentifier: props.setIdentifier,
      failoverRoutingPolicy: { type: props.role },
      healthCheckId: check.id,
      alias: { name: props.loadBalancerDnsName, zoneId: props.loadBalancerZoneId, evaluateTargetHealth: true },
    });
    this.healthCheckId = check.id;
  }
}

function validate(props: FailoverRecordProps): FailoverHealthCheck {
  const construct = 'FailoverRecord';
  if (!HOSTED_ZONE_ID.test(props.hostedZoneId)) throw invalidProp(construct, 'hostedZoneId', props.hostedZoneId, HOSTED_ZONE_ID_EXPECTED);
  if (props.setIdentifier.length === 0 || props.setIdentifier.length > 128) throw invalidProp(construct, 'setIdentifier', props.setIdentifier, '1 to 128 characters');
  const ttl = LOAD_BALANCER_ALIAS_TTL_SECONDS;
  const rto = props.recoveryObjectiveSeconds;
  if (!props.healthCheck) {
    const chosen = FailoverHealthCheck.forRecoveryObjective(rto, ttl);
    if (!chosen) {
      const fast = FailoverHealthCheck.fast();
      throw invalidProp(construct, 'recoveryObjectiveSeconds', rto, `at least ${fast.detectionSeconds + ttl} s: the fastest default check (${fast.requestIntervalSeconds} s × ${fast.failureThreshold}) plus the ${ttl} s alias TTL`);
    }
    return chosen;
  }
  const check = props.healthCheck;
  if (check.requestIntervalSeconds !== 10 && check.requestIntervalSeconds !== 30) {
    throw invalidProp(construct, 'healthCheck.requestIntervalSeconds', check.requestIntervalSeconds, '10 or 30 seconds (the only Route 53 intervals)');
  }
  if (!Number.isInteger(check.failureThreshold) || check.failureThreshold < 1 || check.failureThreshold > 10) {
    throw invalidProp(construct, 'healthCheck.failureThreshold', check.failureThreshold, '1 to 10 checks (Route 53 limits)');
  }
  if (check.detectionSeconds + ttl > rto) {
    throw invalidProp(construct, 'healthCheck', { requestIntervalSeconds: check.requestIntervalSeconds, failureThreshold: check.failureThreshold }, `requestIntervalSeconds × failureThreshold + the ${ttl} s alias TTL ≤ recoveryObjectiveSeconds (${rto} s) (got ${check.detectionSeconds + ttl} s)`);
  }
  return check;
}
