/**
 * How the on-call is paged when a region's Route 53 health check fails. Route 53 publishes
 * `AWS/Route53 HealthCheckStatus` (1 healthy, 0 unhealthy, dimension `HealthCheckId`) only in
 * us-east-1, whatever regions the checked endpoints are in, so the alarm, its SNS topic and the
 * topic's key live there (aws-cluster `HealthCheckAlarm`, through a us-east-1 provider alias).
 * The SNS subscription is the incident tool's endpoint, a secret: it is created by hand
 * (docs/runbooks/alert-receivers.md), never in Terraform state, like `ALERT_RECEIVER_SECRET`.
 */

/** The only region with Route 53 health-check metrics. */
export const ROUTE53_METRICS_REGION = 'us-east-1';

/**
 * Period of the alarm: Route 53 publishes HealthCheckStatus once a minute. The check already
 * waits `failureThreshold` failed probes before it reports unhealthy, so one datapoint below 1
 * is the check's own verdict; a second threshold in the alarm would only delay the page.
 */
export const HEALTH_CHECK_ALARM_PERIOD_SECONDS = 60;

/**
 * The SNS subscription that pages: HTTPS to the incident tool's CloudWatch (SNS) integration
 * URL of the same service the Alertmanager `critical` receiver pages (an SNS notification is
 * not Alertmanager's JSON, so it is that tool's SNS/CloudWatch URL, not `critical-url` itself).
 */
export const HEALTH_CHECK_PAGE_SUBSCRIPTION = { protocol: 'https', endpoint: "the incident tool's CloudWatch/SNS integration URL for the critical (paging) service" } as const;

export interface HealthCheckAlarmNames {
  /** CloudWatch alarm on this cluster's failover health check (us-east-1). */
  readonly alarm: string;
  /** SNS topic the alarm notifies (us-east-1); the on-call's subscription is on it. */
  readonly topic: string;
  /** The topic's own key in us-east-1: its policy admits CloudWatch (an AWS-managed key's cannot). */
  readonly keyAlias: string;
}

export function healthCheckAlarmNames(cluster: string): HealthCheckAlarmNames {
  return { alarm: `${cluster}-app-health-check`, topic: `${cluster}-health-check-page`, keyAlias: `alias/${cluster}-health-check-page` };
}
